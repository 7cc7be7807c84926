"""The rnn and cnn tasks end to end through the `hpo` command, on a real local Ray and MLflow store:
the sweep, then its model loaded by MLflow's own API and through `hpo predict`, from raw input."""
import io

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from tests.integration.test_cli import hpo

# Small models so that two trials of two epochs stay quick on a 2-core machine.
RNN_SPACE = ("window: {type: int, low: 8, high: 12}\nhidden_size: {type: int, low: 8, high: 16}\n"
             "n_layers: {type: int, low: 1, high: 1}\nbatch_size: {type: categorical, choices: [128]}\n")
CNN_SPACE = ("conv_blocks: {type: int, low: 1, high: 2}\nconv_channels_b0: {type: int, low: 4, high: 8}\n"
             "conv_channels_b1: {type: int, low: 4, high: 8}\nn_layers: {type: int, low: 0, high: 1}\n")


def parent_and_trials(tmp_path, task):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name(task).experiment_id])
    parent = next(r for r in runs if r.data.tags.get("hpo.role") == "sweep")
    return parent, [r for r in runs if r.data.tags.get("hpo.role") == "trial"]


def test_rnn_sweep_on_a_users_series_logs_the_naive_baseline(tmp_path):
    t = np.arange(400)
    level = 100 + 10 * np.sin(t * 0.15) + np.random.default_rng(0).normal(0, 0.5, len(t))
    (tmp_path / "sales.csv").write_text("day,level\n" + "".join(f"{d},{v:.4f}\n" for d, v in zip(t, level)))
    (tmp_path / "space.yaml").write_text(RNN_SPACE)
    done = hpo("run", "rnn", "--data", "sales.csv", "--target", "level", "--space", "space.yaml",
               "--trials", "2", "--max-epochs", "2", "--name", "sales", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    parent, trials = parent_and_trials(tmp_path, "rnn")
    assert parent.data.tags["hpo.task"] == "rnn" and len(trials) == 2
    metrics = parent.data.metrics
    for name in ("best_val_loss", "best_val_rmse", "test_loss", "test_rmse", "baseline_val_loss",
                 "baseline_val_rmse", "baseline_test_loss", "baseline_test_rmse"):
        assert np.isfinite(metrics[name]), name
    # The last-value baseline on this series: noise twice plus the step of the sine, in its units.
    assert 0.5 < metrics["baseline_test_rmse"] < 2.5
    for trial in trials:
        assert {"window", "cell", "n_layers", "hidden_size", "dropout", "lr", "optimizer", "batch_size",
                "epochs"} <= set(trial.data.params)
        assert "val_rmse" in trial.data.metrics
    # The served model: the training CSV (only its target column is used) and rows (series, value).
    predicted = hpo("predict", f"runs:/{parent.info.run_id}/model", "--data", "sales.csv", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    table = pd.read_csv(io.StringIO(predicted.stdout))
    assert table["series"].tolist() == ["level"] and 85 < table["prediction"].iloc[0] < 115
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model(f"runs:/{parent.info.run_id}/model")
    rows = pd.DataFrame({"series": ["mine"] * 40, "value": level[-40:]})  # unrounded: the CSV has 4 decimals
    assert model.predict(rows)["prediction"].iloc[0] == pytest.approx(table["prediction"].iloc[0], abs=1e-3)


def test_cross_validated_cnn_sweep_on_an_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for k, name in enumerate(("red", "green", "blue")):
        (tmp_path / "shapes" / name).mkdir(parents=True)
        for i in range(10):
            pixels = rng.integers(0, 80, (12, 12, 3)).astype(np.uint8)
            pixels[..., k] = 230
            Image.fromarray(pixels).save(tmp_path / "shapes" / name / f"{i}.png")
    (tmp_path / "space.yaml").write_text(CNN_SPACE)
    done = hpo("run", "cnn", "--data", "shapes", "--space", "space.yaml", "--trials", "2", "--max-epochs", "2",
               "--cv", "2", "--name", "shapes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    parent, trials = parent_and_trials(tmp_path, "cnn")
    assert parent.data.tags["hpo.task"] == "cnn" and len(trials) == 2 and parent.data.params["cv"] == "2"
    assert {"ensemble_val_acc", "refit_test_acc", "baseline_test_acc"} <= set(parent.data.metrics)
    assert 0.0 <= parent.data.metrics["test_acc"] <= 1.0 and np.isfinite(parent.data.metrics["test_loss"])
    for trial in trials:
        assert {"conv_blocks", "conv_channels_b0", "n_layers", "dropout"} <= set(trial.data.params)
        assert {"val_acc", "val_loss_std", "best_val_acc"} <= set(trial.data.metrics)
    # The served model: an image folder through `hpo predict`, a list of paths through MLflow's API.
    predicted = hpo("predict", f"runs:/{parent.info.run_id}/model", "--data", "shapes", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    table = pd.read_csv(io.StringIO(predicted.stdout))
    assert len(table) == 30 and set(table["prediction"]) <= {"red", "green", "blue"}
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model(f"runs:/{parent.info.run_id}/model")
    first = [str(tmp_path / p) for p in table["image"][:3]]
    assert model.predict(first)["prediction"].tolist() == table["prediction"][:3].tolist()
