"""Untuned models a sweep's model must beat, fitted on train+validation and scored on the same test rows.

Each function takes a task's data and returns {baseline name: {"test_<metric>": value}}, with the task's
own metric functions (trainables.metrics), so the numbers sit beside the tuned model's test metrics.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from trainables.metrics import classification_scores, regression_scores

IMAGE_ROWS = 20000      # the pixel baseline fits on at most this many train+val images (lbfgs time)
LAPLACE = 1.0           # add-one smoothing of the count bigram: a pair unseen in training is not impossible


def _train_and_val(data) -> tuple[np.ndarray, np.ndarray]:
    x = torch.cat([data.x_train, data.x_val]).flatten(1).double().numpy()
    return x, torch.cat([data.y_train, data.y_val]).numpy()


def _proba(model, x: np.ndarray, n_classes: int) -> np.ndarray:
    """predict_proba with a column for every class, also one the fitted rows happened to lack."""
    proba = np.zeros((len(x), n_classes))
    proba[:, model.classes_.astype(int)] = model.predict_proba(x)
    return proba


def tabular(data) -> dict[str, dict[str, float]]:
    """Logistic regression or ridge (scaled), untuned histogram gradient boosting, and the majority class
    (with the class shares as probabilities) or the mean."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = _train_and_val(data)
    x_test, y_test = data.x_test.double().numpy(), data.y_test.numpy()
    if data.classes is not None:
        models = {"linear": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                  "boosting": HistGradientBoostingClassifier(random_state=0),
                  "majority": DummyClassifier(strategy="prior")}
        return {name: classification_scores("test", y_test, _proba(model.fit(x, y), x_test, len(data.classes)))
                for name, model in models.items()}
    models = {"linear": make_pipeline(StandardScaler(), Ridge()),
              "boosting": HistGradientBoostingRegressor(random_state=0), "mean": DummyRegressor()}
    return {name: regression_scores("test", y_test, model.fit(x, y).predict(x_test), data.y_std)
            for name, model in models.items()}


def pixels(data) -> dict[str, dict[str, float]]:
    """Logistic regression on the (normalised) pixels."""
    from sklearn.linear_model import LogisticRegression

    x, y = _train_and_val(data)
    x, y = x[:IMAGE_ROWS], y[:IMAGE_ROWS]
    model = LogisticRegression(max_iter=1000).fit(x, y)
    proba = _proba(model, data.x_test.flatten(1).double().numpy(), len(data.classes))
    return {"linear": classification_scores("test", data.y_test.numpy(), proba)}


def count_bigram(data) -> dict[str, dict[str, float]]:
    """P(next char | char) from the pair counts of train+val, add-one smoothed: nats per test character."""
    vocab, ids = data.vocab_size, torch.cat([data.train, data.val])
    counts = torch.bincount(ids[:-1] * vocab + ids[1:], minlength=vocab * vocab).view(vocab, vocab).double()
    counts += LAPLACE
    log_probs = (counts / counts.sum(dim=1, keepdim=True)).log()
    loss = -log_probs[data.test[:-1], data.test[1:]].mean().item()
    return {"count_bigram": {"test_loss": loss, "test_ppl": math.exp(min(loss, 700.0))}}
