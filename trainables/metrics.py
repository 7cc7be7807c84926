"""The metrics every task reports, with scikit-learn's functions: on a split's targets and a model's (or a
baseline's) outputs, named `<split>_<metric>`; and the objective trials are ranked by (val_loss unless
--metric names another)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Which way each metric is better, by its name without the split prefix (what `--metric` may name).
HIGHER_IS_BETTER = {"acc", "precision", "recall", "f1", "auc", "r2"}
LOWER_IS_BETTER = {"loss", "logloss", "rmse", "mae", "ppl"}
CLASSIFICATION = ("loss", "acc", "precision", "recall", "f1", "auc", "logloss")
REGRESSION = ("loss", "rmse", "mae", "r2")
# What a task reports every epoch besides val_loss.
CLASSIFICATION_METRICS = tuple(f"val_{k}" for k in CLASSIFICATION if k != "loss")
REGRESSION_METRICS = tuple(f"val_{k}" for k in REGRESSION if k != "loss")


def mode_of(metric: str) -> str:
    """'max' or 'min' for a metric name such as val_f1 or test_rmse."""
    base = metric.split("_", 1)[1] if "_" in metric else metric
    return "max" if base in HIGHER_IS_BETTER else "min"


def epoch_metrics(task_metrics: tuple[str, ...]) -> tuple[str, ...]:
    """What a training run reports every epoch (trainables.loop.fit): train_loss, val_loss, val_loss_std
    (the spread over the folds of a cross-validated trial), the task's metrics, and best_ of each of those
    at the best epoch so far."""
    val_names = ("val_loss", "val_loss_std", *task_metrics)
    return ("train_loss", *val_names, *(f"best_{m}" for m in val_names))


@dataclass(frozen=True)
class Objective:
    """What a sweep ranks trials by (`--metric`): one validation metric, better lower or higher by its name.
    ASHA, Optuna's study, patience, the best epoch, the best trial and the final model all follow it."""
    metric: str = "val_loss"

    @property
    def mode(self) -> str:
        return mode_of(self.metric)

    @property
    def best(self) -> str:
        """The name a trial reports its best value under: best_val_loss, best_val_f1..."""
        return f"best_{self.metric}"

    @property
    def worst(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    def loss(self, value: float) -> float:
        """Lower is better whatever the mode: the value, or minus it for a metric to maximise."""
        return value if self.mode == "min" else -value


def classification_scores(split: str, y: np.ndarray, proba: np.ndarray) -> dict:
    """y: class indices (n,); proba: class probabilities (n, classes). Macro averages over the classes,
    one-vs-rest ROC AUC for more than two; AUC is NaN when the split lacks a class."""
    from sklearn import metrics as sk  # here: scikit-learn's import (a second) would slow every command down

    y, proba = np.asarray(y), np.asarray(proba, dtype=np.float64)
    if not np.isfinite(proba).all():  # a diverged model: the loop ends the trial on the non-finite loss
        return {f"{split}_{k}": float("nan") for k in CLASSIFICATION}
    proba = proba / proba.sum(axis=1, keepdims=True)  # exactly 1 in float64, whatever the model's precision
    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    predicted = proba.argmax(axis=1)
    binary = n_classes == 2
    average = "binary" if binary else "macro"
    logloss = sk.log_loss(y, np.clip(proba, 1e-15, 1.0), labels=labels)
    # One call for precision, recall and F1: each of scikit-learn's metric calls costs about a millisecond.
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        y, predicted, labels=None if binary else labels, average=average, zero_division=0)
    scores = {"loss": logloss, "acc": sk.accuracy_score(y, predicted), "precision": precision, "recall": recall,
              "f1": f1, "logloss": logloss}
    if len(np.unique(y)) < n_classes:
        scores["auc"] = float("nan")
    elif binary:
        scores["auc"] = sk.roc_auc_score(y, proba[:, 1])
    else:
        scores["auc"] = sk.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels)
    return {f"{split}_{k}": float(v) for k, v in scores.items()}


def regression_scores(split: str, y: np.ndarray, prediction: np.ndarray, y_std: float) -> dict:
    """y and prediction on the standardised scale; loss is the MSE there, RMSE and MAE in the target's units."""
    from sklearn import metrics as sk
    y, prediction = np.asarray(y, dtype=np.float64), np.asarray(prediction, dtype=np.float64)
    if not np.isfinite(prediction).all():
        return {f"{split}_{k}": float("nan") for k in REGRESSION}
    mse = sk.mean_squared_error(y, prediction)
    return {f"{split}_loss": float(mse), f"{split}_rmse": float(np.sqrt(mse) * y_std),
            f"{split}_mae": float(sk.mean_absolute_error(y, prediction) * y_std),
            f"{split}_r2": float(sk.r2_score(y, prediction))}
