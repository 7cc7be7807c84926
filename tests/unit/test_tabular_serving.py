"""The tabular predictors: raw columns in, labels or values in training units out, bad columns refused."""
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from pipelines.errors import DataError
from pipelines.registry import TASKS
from trainables.reporting import MemoryIO
from trainables.task import DataRequest

CONFIG = {"batch_size": 32, "epochs": 3, "lr": 0.01, "optimizer": "Adam", "n_layers": 1, "n_units_l0": 16,
          "activation": "ReLU", "dropout": 0.0, "weight_decay": 0.0, "seed": 3}


def trained(task_name: str):
    task = TASKS[task_name].task
    data = task.load_data(DataRequest(seed=0))
    io = MemoryIO()
    task.train(CONFIG, data, io)
    model = task.build_model(CONFIG, data)
    model.load_state_dict(io.state["best_models"][0])
    return task, model.eval(), data


def raw_test_rows(data) -> pd.DataFrame:
    """The test split as a user would send it: unscaled, columns by name."""
    return pd.DataFrame(data.x_test.double().numpy() * data.x_std + data.x_mean, columns=data.feature_names)


@pytest.mark.parametrize("task_name", ["binary", "multiclass"])
def test_classifiers_return_the_labels_the_model_picks(task_name):
    task, model, data = trained(task_name)
    predictor = task.make_predictor(model, data, CONFIG)
    predicted = predictor.predict(raw_test_rows(data))["prediction"].to_numpy()
    with torch.inference_mode():
        logits = model(data.x_test)
    index = (logits.squeeze(-1) > 0).long() if logits.shape[1] == 1 else logits.argmax(dim=1)
    assert list(predicted) == [data.classes[i] for i in index.tolist()]
    accuracy = np.mean(predicted == np.asarray(data.classes)[data.y_test.numpy()])
    assert accuracy == pytest.approx(task.evaluate(model, data, "test")["test_acc"])


def test_regression_returns_values_in_the_targets_units():
    task, model, data = trained("regression")
    predictor = task.make_predictor(model, data, CONFIG)
    predicted = predictor.predict(raw_test_rows(data))["prediction"].to_numpy()
    truth = data.y_test.double().numpy() * data.y_std + data.y_mean
    rmse = float(np.sqrt(np.mean((predicted - truth) ** 2)))
    assert rmse == pytest.approx(task.evaluate(model, data, "test")["test_rmse"], rel=1e-4)
    assert abs(predicted.mean() - data.y_mean) < 3 * data.y_std  # units of the target, not standardised


def test_predictor_survives_pickling_and_refuses_bad_columns():
    task, model, data = trained("binary")
    predictor = pickle.loads(pickle.dumps(task.make_predictor(model, data, CONFIG)))
    example = predictor.example()
    assert list(example.columns) == data.feature_names and len(predictor.predict(example)) == len(example)
    with pytest.raises(DataError, match="missing column.*'mean radius'"):
        predictor.predict(example.drop(columns=["mean radius"]))
    with pytest.raises(DataError, match="unknown column.*'target'.*drop it"):
        predictor.predict(example.assign(target=1))
    with pytest.raises(DataError, match="empty or infinite.*'mean area'"):
        predictor.predict(example.assign(**{"mean area": np.nan}))


def test_read_raw_reads_integers_as_floats_and_refuses_a_missing_file(tmp_path):
    task = TASKS["regression"].task
    (tmp_path / "rows.csv").write_text("a,b\n1,2.5\n3,4.0\n")
    frame = task.read_raw(str(tmp_path / "rows.csv"))
    assert list(frame.dtypes) == [np.float64, np.float64]
    with pytest.raises(DataError, match="does not exist"):
        task.read_raw(str(tmp_path / "nope.csv"))
