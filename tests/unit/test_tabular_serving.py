"""The tabular predictors: raw rows in (text, empty cells, unseen categories, any column order), labels or
values in training units out, bad columns refused."""
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from pipelines.errors import DataError
from pipelines.registry import TASKS
from tests.messy_table import messy_table
from trainables.reporting import MemoryIO
from trainables.task import DataRequest

CONFIG = {"batch_size": 32, "epochs": 3, "lr": 0.01, "optimizer": "Adam", "n_layers": 1, "n_units_l0": 16,
          "activation": "ReLU", "dropout": 0.0, "weight_decay": 0.0, "class_weight": "none", "seed": 3}


def trained(task_name: str, request: DataRequest = DataRequest(seed=0)):
    task = TASKS[task_name].task
    data = task.load_data(request)
    io = MemoryIO()
    task.train(CONFIG, data, io)
    model = task.build_model(CONFIG, data)
    model.load_state_dict(io.state["best_models"][0])
    return task, model.eval(), data


def raw_test_rows(data) -> pd.DataFrame:
    """The test split as a user would send it: raw, columns by name."""
    return data.raw.x_test


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
    assert (example.dtypes == np.float64).all()  # doubles in the signature: MLflow refuses ints for them
    with pytest.raises(DataError, match="missing column.*'mean radius'"):
        predictor.predict(example.drop(columns=["mean radius"]))
    with pytest.raises(DataError, match="unknown column.*'target'.*drop it"):
        predictor.predict(example.assign(target=1))
    with pytest.raises(DataError, match="not numbers in column.*'mean area'"):
        predictor.predict(example.assign(**{"mean area": "big"}))
    with pytest.raises(DataError, match="infinite values in column.*'mean area'"):
        predictor.predict(example.assign(**{"mean area": np.inf}))
    assert len(predictor.predict(example.assign(**{"mean area": np.nan}))) == len(example)  # imputed


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    path = tmp_path_factory.mktemp("messy") / "people.csv"
    messy_table().to_csv(path, index=False)
    task, model, data = trained("binary", DataRequest(data=str(path), target="label", seed=0))
    return task, model, data, task.make_predictor(model, data, CONFIG)


def test_raw_rows_of_a_messy_table_predict_as_the_trained_model_does(messy):
    task, model, data, predictor = messy
    predicted = predictor.predict(data.raw.x_test)["prediction"].to_numpy()
    with torch.inference_mode():
        index = (model(data.x_test).squeeze(-1) > 0).long()
    assert list(predicted) == [data.classes[i] for i in index.tolist()]


def test_served_rows_may_have_gaps_unseen_categories_any_order_and_the_left_out_columns(messy):
    task, model, data, predictor = messy
    rows = data.raw.x_test.head(4).copy()
    rows.loc[rows.index[0], ["age", "city", "joined", "income"]] = [np.nan, None, None, None]  # empty cells
    rows.loc[rows.index[1], "city"] = "atlantis"                 # a category never seen in training
    rows.loc[rows.index[2], "income"] = "n/a"                    # numbers as text take stray text as empty
    shuffled = rows[list(reversed(rows.columns))]                # columns in another order
    inputs_only = rows[predictor.inputs]                         # without the columns it leaves out
    assert predictor.predict(shuffled).equals(predictor.predict(rows))
    assert predictor.predict(inputs_only).equals(predictor.predict(rows))
    assert set(predictor.predict(rows)["prediction"]) <= {"yes", "no"}
    assert predictor.left_out == ["customer", "row", "comment", "source"]
    with pytest.raises(DataError, match=r"missing column\(s\) 'city'.*and ignores customer, row"):
        predictor.predict(rows.drop(columns=["city"]))


def test_the_example_shows_an_empty_cell_where_training_had_gaps(messy):
    from mlflow.models import infer_signature

    task, model, data, predictor = messy
    example = predictor.example()
    assert list(example.columns) == predictor.inputs and example.iloc[-1][["age", "city"]].isna().all()
    inputs = {c.name: c for c in infer_signature(example, predictor.predict(example)).inputs.inputs}
    assert not inputs["age"].required and not inputs["city"].required   # may be empty
    assert inputs["member"].required and inputs["joined"].type.name == "string"


def test_read_raw_reads_csv_tsv_and_parquet_and_refuses_a_missing_file(tmp_path):
    task = TASKS["regression"].task
    frame = pd.DataFrame({"a": [1, 3], "b": ["x", None]})
    frame.to_csv(tmp_path / "rows.csv", index=False)
    frame.to_csv(tmp_path / "rows.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "rows.parquet")
    for name in ("rows.csv", "rows.tsv", "rows.parquet"):
        read = task.read_raw(str(tmp_path / name))
        assert list(read.columns) == ["a", "b"] and read["a"].tolist() == [1, 3]
        assert read["b"].isna().tolist() == [False, True]
    with pytest.raises(DataError, match="does not exist"):
        task.read_raw(str(tmp_path / "nope.csv"))


def test_text_columns_empty_in_the_first_rows_are_still_text_in_the_example(tmp_path):
    from mlflow.models import infer_signature

    table = messy_table()
    table["note"] = None
    table.loc[200:, "note"] = ["call back", "vip"] * 20   # empty in the first rows, text further down
    path = tmp_path / "people.csv"
    table.to_csv(path, index=False)
    task, model, data = trained("binary", DataRequest(data=str(path), target="label", seed=0))
    predictor = task.make_predictor(model, data, CONFIG)
    inputs = {c.name: c for c in infer_signature(predictor.example(), None).inputs.inputs}
    assert inputs["note"].type.name == "string" and not inputs["note"].required


def test_columns_left_out_by_drop_are_ignored_when_served(tmp_path):
    path = tmp_path / "people.csv"
    messy_table().to_csv(path, index=False)
    task, model, data = trained("binary", DataRequest(data=str(path), target="label", seed=0, drop=("member",)))
    predictor = task.make_predictor(model, data, CONFIG)
    rows = pd.read_csv(path).drop(columns=["label"]).head(5)   # the member column included
    assert "member" in predictor.left_out and len(predictor.predict(rows)) == 5
