"""Tabular data: the built-in sets, a user's table (CSV, TSV, Parquet), the splits and preprocessing, and
every table error."""
import joblib
import numpy as np
import pytest
import torch

from pipelines.errors import DataError
from trainables import binary, multiclass, regression
from trainables.task import DataRequest


def csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def blobs(n=60, classes=("yes", "no"), seed=0):
    rng = np.random.default_rng(seed)
    rows = ["a,b,label"]
    for i in range(n):
        label = classes[i % len(classes)]
        shift = classes.index(label) * 3.0
        rows.append(f"{rng.normal() + shift:.4f},{rng.normal() * 10 + 100:.4f},{label}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("task, n_rows, n_features, n_classes", [
    (binary, 569, 30, 2), (multiclass, 150, 4, 3), (regression, 442, 10, None)])
def test_builtin_sets_split_70_15_15(task, n_rows, n_features, n_classes):
    data = task.load_data(DataRequest(seed=0))
    sizes = [len(data.x_train), len(data.x_val), len(data.x_test)]
    assert sum(sizes) == n_rows and data.n_features == n_features
    assert abs(sizes[1] / n_rows - 0.15) < 0.02 and abs(sizes[2] / n_rows - 0.15) < 0.02
    assert (len(data.classes) if data.classes else None) == n_classes
    assert data.fingerprint and data.source.startswith("sklearn:")


def test_scaling_uses_the_training_split_only():
    data = binary.load_data(DataRequest(seed=0))
    assert torch.allclose(data.x_train.mean(0), torch.zeros(30), atol=1e-4)
    assert torch.allclose(data.x_train.std(0, unbiased=False), torch.ones(30), atol=1e-3)
    assert not torch.allclose(data.x_val.mean(0), torch.zeros(30), atol=1e-3)


def test_splits_are_stratified_and_fixed_by_the_seed():
    a, b, c = (multiclass.load_data(DataRequest(seed=s)) for s in (3, 3, 4))
    assert torch.equal(a.x_val, b.x_val) and not torch.equal(a.x_val, c.x_val)
    assert torch.bincount(a.y_val).tolist() == [8, 7, 8] or sorted(torch.bincount(a.y_val).tolist()) == [7, 8, 8]


def test_regression_target_is_standardised_and_rmse_in_its_units():
    data = regression.load_data(DataRequest(seed=0))
    assert abs(data.y_train.mean().item()) < 1e-4 and data.y_std > 10


def test_csv_with_string_labels(tmp_path):
    data = binary.load_data(DataRequest(data=csv(tmp_path, blobs()), target="label", seed=1))
    assert data.classes == ["no", "yes"] and data.feature_names == ["a", "b"]
    assert data.y_train.dtype == torch.long and len(data.x_train) == 42


def test_csv_with_numeric_labels_for_multiclass(tmp_path):
    data = multiclass.load_data(DataRequest(data=csv(tmp_path, blobs(90, classes=(3, 7, 9))), target="label"))
    assert data.classes == [3, 7, 9]


def test_csv_for_regression(tmp_path):
    rows = ["x1,x2,y"] + [f"{i},{i % 7},{2.5 * i + 1}" for i in range(40)]
    data = regression.load_data(DataRequest(data=csv(tmp_path, "\n".join(rows)), target="y"))
    assert data.classes is None and data.y_std > 1


@pytest.mark.parametrize("task, text, target, fragment", [
    (binary, blobs(), "nope", "the --target 'nope' is not one of its columns. Its columns: a, b, label"),
    (binary, blobs(), None, "needs --target"),
    (binary, blobs(classes=("a", "b", "c")), "label", "exactly 2 classes, got 3"),
    (binary, blobs(classes=("a",)), "label", "exactly 2 classes, got 1"),
    (multiclass, blobs(classes=("a",)), "label", "at least 2 classes, got 1"),
    (binary, blobs(21, classes=("a", "b", "b", "b", "b", "b", "b")), "label", "fewer than 5 rows of class(es) a"),
    (binary, "a,city,label\n" + "".join(f"{i},paris,{i % 2}\n" for i in range(30)), "label",
     "No column of the table is one a model can use: 'a': an identifier: the row numbers 0 to 29; "
     "'city': the same value ('paris') on every row"),
    (binary, "a,b,label\n1,2,yes\n", "label", "has 1 rows with a 'label'; at least 20 are needed"),
    (binary, "a,b,label\n1,inf,yes\n", "label",  # problems found together are named together
     "has 1 rows with a 'label'; at least 20 are needed; it has infinite values in column(s) 'b'"),
    (binary, "", "label", "not a readable CSV"),
    (binary, "a,b,label\n" + "1,2,yes\n" * 25 + "1,2,yes,4,5\n", "label", "not a readable CSV"),
    (binary, "label\n" + "yes\nno\n" * 15, "label", "no feature columns"),
    (regression, blobs(), "label", "must be numeric"),
    (regression, "a,y\n" + "".join(f"{i},5\n" for i in range(30)), "y", "constant"),
    (binary, "a,b,label\n" + "".join(f"{i},inf,{i % 2}\n" for i in range(30)), "label", "infinite values"),
])
def test_csv_errors_name_the_problem(tmp_path, task, text, target, fragment):
    with pytest.raises(DataError) as caught:
        task.load_data(DataRequest(data=csv(tmp_path, text), target=target))
    assert fragment in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        binary.load_data(DataRequest(data=str(tmp_path / "none.csv"), target="y"))


def test_unknown_regression_dataset():
    with pytest.raises(DataError, match="must be one of diabetes, california_housing"):
        regression.load_data(DataRequest(dataset="boston"))


def test_california_housing_reads_scikit_learns_cache(tmp_path):
    # scikit-learn caches the set as cal_housing_py3.pkz: target first, then 8 raw columns.
    rng = np.random.default_rng(0)
    raw = np.column_stack([rng.uniform(1e4, 5e5, 50), rng.uniform(1, 10, (50, 8)) + 1.0])
    joblib.dump(raw, tmp_path / "cal_housing_py3.pkz", compress=3)
    data = regression.load_data(DataRequest(dataset="california_housing", data_dir=str(tmp_path)))
    assert data.n_features == 8 and data.target == "MedHouseVal"
    assert sum(map(len, (data.x_train, data.x_val, data.x_test))) == 50
