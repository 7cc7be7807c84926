"""Sweeps that hand back more than their best trial: cross-validated trials, the refit and the top-K
ensemble as final-model candidates, untuned baselines on the parent run; the ensemble promoted and served."""
import math
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from pipelines.engine import study_file
from pipelines.engine.settings import SweepSettings
from pipelines.engine.sweep import run_sweep
from pipelines.serving.promote import promote
from trainables import multiclass
from trainables.task import DataRequest

HPO = str(Path(sys.executable).parent / "hpo")


def parent_and_children(tracking_uri, task, name):
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name(task).experiment_id],
                              filter_string=f"tags.`hpo.sweep` = '{name}'")
    return (client, next(r for r in runs if "mlflow.parentRunId" not in r.data.tags),
            [r for r in runs if "mlflow.parentRunId" in r.data.tags])


def test_a_cross_validated_sweep_reports_the_folds_spread_and_its_baselines(local_ray, store):
    folder, tracking_uri, storage = store
    outcome = run_sweep(SweepSettings(task="binary", trials=6, max_epochs=6, cv=5, name="cv", seed=0,
                                      tracking_uri=tracking_uri, storage=storage))
    client, parent, children = parent_and_children(tracking_uri, "binary", "cv")
    assert parent.data.params["cv"] == "5" and parent.data.params["ensemble"] == "3"
    for run in children:
        history = client.get_metric_history(run.info.run_id, "val_loss_std")
        assert len(history) == len(client.get_metric_history(run.info.run_id, "val_loss")) >= 1
        assert all(m.value >= 0 for m in history)
        assert {"val_acc", "val_precision", "val_recall", "val_f1", "val_auc", "val_logloss"} <= set(run.data.metrics)
    metrics = parent.data.metrics
    for name in ("test_acc", "best_trial_test_acc", "refit_test_acc", "ensemble_val_loss", "ensemble_test_acc",
                 "baseline_test_acc", "baseline_linear_test_acc", "baseline_boosting_test_acc",
                 "baseline_majority_test_acc", "baseline_test_loss"):
        assert math.isfinite(metrics[name]), name
    assert metrics["baseline_test_acc"] == max(metrics[f"baseline_{b}_test_acc"] for b in ("linear", "boosting", "majority"))
    final = parent.data.tags["hpo.final_model"]
    assert final == outcome.final_model in ("best", "refit", "ensemble")
    assert metrics["test_acc"] == metrics[{"best": "best_trial", "refit": "refit", "ensemble": "ensemble"}[final]
                                          + "_test_acc"]


def test_a_sweep_by_f1_maximises_it_everywhere(local_ray, store):
    folder, tracking_uri, storage = store
    outcome = run_sweep(SweepSettings(task="binary", trials=5, max_epochs=12, cv=3, metric="val_f1", name="by-f1",
                                      seed=0, tracking_uri=tracking_uri, storage=storage))
    client, parent, children = parent_and_children(tracking_uri, "binary", "by-f1")
    assert parent.data.params["metric"] == "val_f1"
    study = study_file.load("by-f1", folder / "ray_results" / "by-f1" / study_file.STUDY_FILE)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert complete and study.best_value == max(t.value for t in complete)
    by_run = {r.data.tags["hpo.trial_id"]: r.data.metrics for r in children}
    for run in children:
        for name in ("val_f1", "val_precision", "val_recall", "val_auc", "best_val_f1", "best_val_loss"):
            assert name in run.data.metrics, name
        f1 = [m.value for m in client.get_metric_history(run.info.run_id, "val_f1")]
        assert run.data.metrics["best_val_f1"] == pytest.approx(max(f1))  # the best epoch is the highest F1
    # the best trial is the one with the highest F1 among those whose weights the driver could load
    best_f1 = by_run[outcome.best.trial_id]["best_val_f1"]
    assert parent.data.metrics["best_val_f1"] == pytest.approx(best_f1)
    assert best_f1 >= max(t.best for t in outcome.trials if t.status == "completed") - 1e-9
    assert "test_f1" in parent.data.metrics and "baseline_test_f1" in parent.data.metrics


def test_an_ensemble_is_promoted_and_served_like_one_model(local_ray, store):
    folder, tracking_uri, storage = store
    run_sweep(SweepSettings(task="multiclass", trials=5, max_epochs=6, cv=0, ensemble=3, name="ens", seed=1,
                            tracking_uri=tracking_uri, storage=storage))
    _, parent, _ = parent_and_children(tracking_uri, "multiclass", "ens")
    assert parent.data.params["cv"] == "0"
    assert {"ensemble_val_loss", "ensemble_val_acc", "ensemble_test_acc"} <= set(parent.data.metrics)

    # Whatever the final model is (the ensemble here unless it lost on validation), promoted and served
    # it scores exactly the parent run's test_acc on the raw test rows.
    uri = promote("ens", None, "champion", tracking_uri).uri
    data = multiclass.load_data(DataRequest(seed=1))
    rows = pd.DataFrame(data.raw.x_test, columns=data.feature_names)
    labels = np.asarray(data.classes, dtype=object)[data.y_test.numpy()]
    mlflow.set_tracking_uri(tracking_uri)
    predicted = mlflow.pyfunc.load_model(uri).predict(rows)["prediction"].to_numpy()
    assert np.mean(predicted == labels) == pytest.approx(parent.data.metrics["test_acc"])

    rows.to_csv(folder / "raw.csv", index=False)
    done = subprocess.run([HPO, "predict", uri, "--data", str(folder / "raw.csv"), "--tracking-uri", tracking_uri],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(pd.read_csv(pd.io.common.StringIO(done.stdout))["prediction"]) == list(predicted)
