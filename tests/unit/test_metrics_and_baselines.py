"""The metrics every task reports (scikit-learn's), and the untuned baselines on the same test rows."""
import math

import numpy as np
import pytest
from sklearn import metrics as sk

from trainables import baselines, binary, cnn, multiclass, regression
from trainables.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    classification_scores,
    mode_of,
    regression_scores,
)
from trainables.task import DataRequest


def test_classification_scores_are_scikit_learns():
    rng = np.random.default_rng(0)
    y, proba = rng.integers(0, 3, 60), rng.dirichlet([1, 1, 1], 60)
    scores = classification_scores("val", y, proba)
    assert set(scores) == {"val_loss", *CLASSIFICATION_METRICS}
    assert scores["val_acc"] == sk.accuracy_score(y, proba.argmax(1))
    assert scores["val_f1"] == pytest.approx(sk.f1_score(y, proba.argmax(1), average="macro"))
    assert scores["val_auc"] == pytest.approx(sk.roc_auc_score(y, proba, multi_class="ovr"))
    assert scores["val_loss"] == scores["val_logloss"] == pytest.approx(sk.log_loss(y, proba))


def test_binary_scores_are_of_the_positive_class_and_a_missing_class_has_no_auc():
    y, p = np.array([0, 1, 1, 0, 1]), np.array([0.2, 0.9, 0.4, 0.1, 0.8])
    scores = classification_scores("test", y, np.stack([1 - p, p], 1))
    assert scores["test_precision"] == 1.0 and scores["test_recall"] == pytest.approx(2 / 3)
    assert scores["test_auc"] == pytest.approx(sk.roc_auc_score(y, p))
    assert math.isnan(classification_scores("test", np.ones(5, int), np.stack([1 - p, p], 1))["test_auc"])


def test_a_diverged_model_scores_nan_so_the_loop_ends_it():
    assert all(math.isnan(v) for v in classification_scores("val", np.array([0, 1]), np.full((2, 2), np.nan)).values())
    assert all(math.isnan(v) for v in regression_scores("val", np.zeros(2), np.array([np.inf, 0]), 1.0).values())


def test_regression_scores_are_in_the_targets_units():
    y, prediction = np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 1.5])
    scores = regression_scores("val", y, prediction, y_std=10.0)
    assert set(scores) == {"val_loss", *REGRESSION_METRICS}
    assert scores["val_loss"] == pytest.approx(1 / 6) and scores["val_rmse"] == pytest.approx(10 * (1 / 6) ** 0.5)
    assert scores["val_mae"] == pytest.approx(10 / 3) and scores["val_r2"] == pytest.approx(sk.r2_score(y, prediction))


@pytest.mark.parametrize("name, mode", [("val_loss", "min"), ("val_f1", "max"), ("test_auc", "max"),
                                        ("val_rmse", "min"), ("val_r2", "max"), ("val_ppl", "min")])
def test_the_direction_of_a_metric_follows_its_name(name, mode):
    assert mode_of(name) == mode


@pytest.mark.parametrize("task", [binary, multiclass])
def test_classification_baselines_fit_train_and_val_and_score_the_test_rows(task):
    data = task.load_data(DataRequest(seed=0))
    found = baselines.tabular(data)
    assert set(found) == {"linear", "boosting", "majority"}
    assert found["linear"]["test_acc"] > 0.9 and found["boosting"]["test_acc"] > 0.85
    shares = np.bincount(np.concatenate([data.y_train.numpy(), data.y_val.numpy()])) / (len(data.y_train) + len(data.y_val))
    assert found["majority"]["test_acc"] == pytest.approx(np.mean(data.y_test.numpy() == shares.argmax()))


def test_regression_baselines_include_the_mean_which_explains_nothing():
    found = baselines.tabular(regression.load_data(DataRequest(seed=0)))
    assert set(found) == {"linear", "boosting", "mean"}
    assert abs(found["mean"]["test_r2"]) < 0.05 and found["linear"]["test_r2"] > found["mean"]["test_r2"]


def test_the_pixel_baseline_of_digits_is_a_linear_model_on_pixels():
    assert baselines.pixels(cnn.load_data(DataRequest(seed=0)))["linear"]["test_acc"] > 0.9
