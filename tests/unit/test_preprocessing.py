"""What becomes of each kind of column, fitted on training rows only; targets with gaps; TSV, Parquet, --drop."""
import numpy as np
import pandas as pd
import pytest

from pipelines.errors import DataError
from tests.messy_table import messy_table
from trainables import binary, multiclass, regression
from trainables.preprocessing import CATEGORY, DATE, LEFT_OUT, NUMERIC, fit_preprocessor, plan_column
from trainables.table_files import MAX_COLUMNS
from trainables.tabular_data import cross_validation_folds
from trainables.task import DataRequest


@pytest.mark.parametrize("values, kind, why", [
    ([1.5, 2.0, np.nan, 4.0] * 10, NUMERIC, ""),
    ([f"{i / 2}" for i in range(39)] + ["?"], NUMERIC, "numbers as text; 1 other cell(s) read as empty"),
    (["a", "b", None, "c"] * 10, CATEGORY, ""),
    ([True, False] * 20, CATEGORY, ""),
    ([f"k{i % 30}" for i in range(300)], CATEGORY, "30 categories: the 19 most frequent kept, the rest as one"),
    (["2021-03-04", "2022-11-30", None, "2020-01-01"] * 10, DATE, "a date: its year, month, day of week as numbers"),
    ([f"ID-{i}" for i in range(40)], LEFT_OUT, "an identifier: a distinct value on 100% of rows"),
    (list(range(1, 41)), LEFT_OUT, "an identifier: the row numbers 1 to 40"),
    ([f"the parcel came late again {i}" for i in range(40)], LEFT_OUT, "free text: 6 words a cell, 100% distinct"),
    (["same"] * 40, LEFT_OUT, "the same value ('same') on every row"),
    ([np.nan] * 40, LEFT_OUT, "empty on every row"),
    ([7.0] * 39 + [np.nan], NUMERIC, ""),   # one value and gaps: whether it is filled is what it says
    (list(range(40, 0, -1)), NUMERIC, ""),  # whole and distinct, but falling: a quantity, not row numbers
])
def test_each_kind_of_column(values, kind, why):
    column = plan_column("c", pd.Series(values))
    assert (column.kind, column.why) == (kind, why)
    assert column.empty == pd.Series(values).isna().sum()


def test_the_preprocessing_imputes_encodes_and_scales_with_training_rows_only():
    train = pd.DataFrame({"x": [1.0, 2.0, np.nan, 3.0] * 5, "city": ["a", "a", "b", None] * 5 + [],
                          "day": ["2021-01-04", "2021-06-05", None, "2022-01-01"] * 5})
    columns = tuple(plan_column(c, train[c]) for c in train.columns)
    pre = fit_preprocessor(columns, train)
    names = list(pre.get_feature_names_out())
    assert names == ["numeric__x", "numeric__missingindicator_x", "category__city_(empty)", "category__city_a",
                     "category__city_b", "date__day_year", "date__day_month", "date__day_day_of_week"]
    rows = pd.DataFrame({"day": [None, "2021-01-04"], "city": ["never seen", None], "x": [np.nan, 2.0]})
    out = pre.transform(rows)
    assert out[0, 0] == pytest.approx((2.0 - 2.0) / np.std([1, 2, 2, 3]))  # the training median fills the gap
    assert out[0, 1] > 0 > out[1, 1]          # the missing flag (standardised with the rest)
    assert list(out[0, 2:5]) == [0, 0, 0]     # an unseen category is all zeros
    assert list(out[1, 2:5]) == [1, 0, 0]     # an empty cell is its own category
    assert np.isfinite(out).all()


def test_a_users_messy_table_loads_with_a_note_for_each_column_left_out(tmp_path):
    path = tmp_path / "people.csv"
    messy_table().to_csv(path, index=False)
    data = binary.load_data(DataRequest(data=str(path), target="label", seed=0))
    assert data.notes == ("3 row(s) with an empty 'label' left out",
                          "column 'customer' left out: an identifier: a distinct value on 100% of rows",
                          "column 'row' left out: an identifier: the row numbers 1 to 240",
                          "column 'comment' left out: free text: 8 words a cell, 100% distinct",
                          "column 'source' left out: the same value ('web') on every row")
    kinds = {c.name: c.kind for c in data.columns}
    assert kinds == {"customer": LEFT_OUT, "row": LEFT_OUT, "age": NUMERIC, "income": NUMERIC, "city": CATEGORY,
                     "member": CATEGORY, "joined": DATE, "comment": LEFT_OUT, "source": LEFT_OUT}
    assert data.classes == ["no", "yes"] and sum(map(len, (data.y_train, data.y_val, data.y_test))) == 237
    assert np.isfinite(data.x_train.numpy()).all()
    report = data.preprocessing_report()
    assert report["target"] == "label" and len(report["columns"]) == 9
    assert len(report["model_inputs"]) == data.n_features and "category__city_paris" in report["model_inputs"]


def test_each_fold_fits_its_own_preprocessing(tmp_path):
    path = tmp_path / "people.csv"
    messy_table().to_csv(path, index=False)
    data = multiclass.load_data(DataRequest(data=str(path), target="label", seed=0))
    folds = cross_validation_folds(data, 3, seed=0)
    medians = {float(f.preprocessor.named_transformers_["numeric"][1].statistics_[0]) for f in folds}
    assert len(medians) > 1  # the age median of each fold's own training rows
    for fold in folds:
        assert abs(fold.x_train[:, 0].mean().item()) < 1e-5  # scaled on its training rows


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_tsv_and_parquet_read_like_csv(tmp_path, suffix):
    frame = messy_table()
    csv_data = binary.load_data(DataRequest(data=str(_write(frame, tmp_path / "t.csv")), target="label"))
    other = binary.load_data(DataRequest(data=str(_write(frame, tmp_path / f"t{suffix}")), target="label"))
    assert other.notes == csv_data.notes and other.n_features == csv_data.n_features
    assert np.allclose(other.x_train.numpy(), csv_data.x_train.numpy(), atol=1e-6)


def _write(frame: pd.DataFrame, path):
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")
    return path


def test_drop_leaves_columns_out_and_a_bad_parquet_file_is_refused(tmp_path):
    path = _write(messy_table(), tmp_path / "t.csv")
    data = regression.load_data(DataRequest(data=str(path), target="age", drop=("city", "joined")))
    assert data.notes[0] == "--drop: left out city, joined" and "city" not in data.feature_names
    assert data.notes[1] == "27 row(s) with an empty 'age' left out"
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        binary.load_data(DataRequest(data=str(tmp_path / "bad.parquet"), target="label"))


@pytest.mark.parametrize("values, kind", [
    (["10:30", "11:00"] * 20, CATEGORY),                                   # times of day are not dates
    (["1st", "2nd"] * 20, CATEGORY),                                       # nor ordinals
    (["2021-03-04T10:00+01:00", "2021-05-04T10:00+02:00"] * 20, DATE),    # mixed UTC offsets
])
def test_what_reads_as_a_date(values, kind):
    assert plan_column("c", pd.Series(values)).kind == kind


def test_infinite_numbers_written_as_text_count_as_empty_and_whole_labels_stay_integers(tmp_path):
    frame = messy_table()
    frame["income"] = frame["income"].where(frame.index != 9, "inf")
    frame["label"] = frame["label"].map({"yes": 1, "no": 0})  # with its gaps: read back as floats
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    data = binary.load_data(DataRequest(data=str(path), target="label"))
    assert np.isfinite(data.x_train.numpy()).all() and data.classes == [0, 1]
    assert all(isinstance(c, int) for c in data.classes)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_a_table_of_absurd_width_is_refused_before_it_is_read(tmp_path, suffix):
    path = tmp_path / f"wide{suffix}"
    if suffix == ".parquet":
        pd.DataFrame({f"c{i}": [0.0] for i in range(MAX_COLUMNS + 1)}).to_parquet(path)
    else:  # a header of a million columns: pandas alone takes minutes over it
        separator = "\t" if suffix == ".tsv" else ","
        path.write_text(separator.join(f"c{i}" for i in range(1_000_000)) + "\n" + "1" + "\n")
    with pytest.raises(DataError, match="more than 10,000 columns"):
        binary.load_data(DataRequest(data=str(path), target="c0"))


def test_a_table_with_lone_carriage_returns_is_not_taken_for_a_wide_one(tmp_path):
    path = tmp_path / "mac.csv"
    frame = pd.concat([messy_table()] * 6, ignore_index=True)  # over 10,000 commas in all, 9 to a line
    path.write_bytes(frame.to_csv(index=False, lineterminator="\r").encode())
    assert binary.load_data(DataRequest(data=str(path), target="label")).n_features > 0
