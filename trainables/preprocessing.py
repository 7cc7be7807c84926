"""What becomes of each column of a table: its kind, decided once from the table, and the scikit-learn
preprocessing that turns raw rows into model inputs, fitted on training rows only (each fold's under --cv).

- numeric: median imputation, a missing-indicator column where the training rows had gaps, standardisation;
  a text column of numbers (a few stray markers such as '?' aside) is numeric, its other cells empty;
- category (text, booleans): one-hot, rare categories grouped into one, the most frequent kept of a column
  with many, an empty cell its own category, a category unseen in training all zeros;
- date: year, month and day of week, then as numeric;
- left out, with the reason: empty or one value on every row, an identifier, free text.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC, CATEGORY, DATE, LEFT_OUT = "numeric", "category", "date", "left out"
NUMBER_SHARE = 0.95      # a text column whose filled cells are numbers at least this often is numeric
DATE_SHARE = 0.9         # ... dates at least this often is a date
ID_SHARE = 0.95          # ... distinct on at least this share of its rows is an identifier (or free text)
FREE_TEXT_WORDS = 3      # a text column whose cells have this many words (median) and are mostly distinct
FREE_TEXT_SHARE = 0.5    # (at least this share) is free text
MIN_CATEGORY_ROWS = 5    # a category with fewer training rows joins the column's "infrequent" one
MAX_CATEGORIES = 20      # one-hot columns per text column at most (the most frequent, and one for the rest)
EMPTY = "(empty)"        # the category of an empty cell
DATE_PARTS = ("year", "month", "day_of_week")


@dataclass(frozen=True)
class Column:
    """One feature column of the table and what the preprocessing makes of it."""
    name: str
    kind: str          # NUMERIC, CATEGORY, DATE or LEFT_OUT
    why: str = ""      # what was done and why, where it is not plain (a left-out column always says)
    empty: int = 0     # empty cells in the table
    text_numbers: bool = False  # numbers written as text: a cell that is not a number counts as empty

    def as_dict(self) -> dict:
        return {"column": self.name, "kind": self.kind, "why": self.why, "empty_cells": self.empty}


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%"


def plan_column(name: str, values: pd.Series) -> Column:
    filled = values.dropna()
    rows, empty = len(values), int(values.isna().sum())
    if filled.empty:
        return Column(name, LEFT_OUT, "empty on every row", empty)
    distinct = filled.nunique()
    if distinct == 1 and not empty:
        return Column(name, LEFT_OUT, f"the same value ({filled.iloc[0]!r}) on every row", empty)
    if pd.api.types.is_bool_dtype(values):
        return Column(name, CATEGORY, "", empty)
    if pd.api.types.is_numeric_dtype(values):
        numbers = filled.to_numpy(np.float64)
        # Row numbers: whole, rising row by row from 0 or 1 (with gaps where rows were left out).
        rising = np.all(np.mod(numbers, 1) == 0) and np.all(np.diff(numbers) > 0)
        if distinct == rows and numbers.min() in (0, 1) and rising:
            return Column(name, LEFT_OUT, f"an identifier: the row numbers {numbers.min():g} to {numbers.max():g}",
                          empty)
        return Column(name, NUMERIC, "", empty)
    text = filled.astype(str)
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().mean() >= NUMBER_SHARE:
        strays = int(numbers.isna().sum())
        return Column(name, NUMERIC, f"numbers as text; {strays} other cell(s) read as empty" if strays else
                      "numbers as text", empty, text_numbers=True)
    if _date_share(text) >= DATE_SHARE:
        return Column(name, DATE, f"a date: its {', '.join(p.replace('_', ' ') for p in DATE_PARTS)} as numbers",
                      empty)
    words = text.str.split().str.len().median()
    if distinct >= ID_SHARE * len(filled) and words < FREE_TEXT_WORDS:
        return Column(name, LEFT_OUT, f"an identifier: a distinct value on {_share(distinct, len(filled))} of rows",
                      empty)
    if words >= FREE_TEXT_WORDS and distinct >= FREE_TEXT_SHARE * len(filled):
        return Column(name, LEFT_OUT, f"free text: {words:g} words a cell, {_share(distinct, len(filled))} distinct",
                      empty)
    if distinct > MAX_CATEGORIES:
        return Column(name, CATEGORY, f"{distinct} categories: the {MAX_CATEGORIES - 1} most frequent kept, "
                      "the rest as one", empty)
    return Column(name, CATEGORY, "", empty)


# A date names its year (4 digits) or has three parts (3/4/21): times of day and ordinals are not dates.
DATE_LOOK = r"\d{4}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2}"


def read_dates(values: pd.Series) -> pd.Series:
    """Dates (UTC where a cell gives an offset), NaT for a cell that is not one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(values.astype(object), errors="coerce", format="mixed", utc=True)
        except (ValueError, TypeError, OverflowError):
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")


def _date_share(text: pd.Series) -> float:
    """The share of cells that read as dates (a sample: parsing every cell of a long column costs seconds)."""
    sample = text.sample(min(len(text), 500), random_state=0)
    if sample.str.contains(DATE_LOOK, regex=True).mean() < DATE_SHARE:  # most text columns end here
        return 0.0
    return float(read_dates(sample).notna().mean())


def plan_columns(features: pd.DataFrame) -> tuple[Column, ...]:
    return tuple(plan_column(str(name), features[name]) for name in features.columns)


def used(columns) -> list[str]:
    """The columns the model takes, in the table's order."""
    return [c.name for c in columns if c.kind != LEFT_OUT]


def as_numbers(frame) -> pd.DataFrame:
    """Numeric cells as floats; a cell that is not a finite number as empty (numbers written as text)."""
    numbers = pd.DataFrame(frame).apply(pd.to_numeric, errors="coerce").astype(np.float64)
    return numbers.where(np.isfinite(numbers))


def text_of(value):
    """A cell as the text of a category: a whole-number float as the integer it is (a column read back as
    numbers has 1.0 where the training table had "1"); an empty cell as NaN."""
    if pd.isna(value):
        return np.nan
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_text(frame) -> np.ndarray:
    """Category cells as strings (booleans and numbers alike), an empty one as NaN for the imputer."""
    frame = pd.DataFrame(frame)
    return np.stack([frame[c].map(text_of).to_numpy(dtype=object) for c in frame.columns], axis=1)


def date_parts(frame) -> np.ndarray:
    """Each date column as its year, month and day of week; a cell that is not a date as empty."""
    frame, parts = pd.DataFrame(frame), []
    for c in frame.columns:
        dates = read_dates(frame[c])
        parts += [dates.dt.year, dates.dt.month, dates.dt.dayofweek]
    return np.stack([p.to_numpy(dtype=np.float64, na_value=np.nan) for p in parts], axis=1)


def date_part_names(transformer, names) -> np.ndarray:
    return np.asarray([f"{n}_{p}" for n in names for p in DATE_PARTS], dtype=object)


def make_preprocessor(columns):
    """The unfitted ColumnTransformer for the planned columns (left-out ones are not given to it)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    def of(kind):
        return [c.name for c in columns if c.kind == kind]

    parts = [
        ("numeric", make_pipeline(FunctionTransformer(as_numbers, feature_names_out="one-to-one"),
                                  SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                  StandardScaler()), of(NUMERIC)),
        ("category", make_pipeline(FunctionTransformer(as_text, feature_names_out="one-to-one"),
                                   SimpleImputer(strategy="constant", fill_value=EMPTY),
                                   OneHotEncoder(handle_unknown="ignore", min_frequency=MIN_CATEGORY_ROWS,
                                                 max_categories=MAX_CATEGORIES, sparse_output=False)), of(CATEGORY)),
        ("date", make_pipeline(FunctionTransformer(date_parts, feature_names_out=date_part_names),
                               SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), of(DATE)),
    ]
    return ColumnTransformer([p for p in parts if p[2]], remainder="drop", sparse_threshold=0.0)


def fit_preprocessor(columns, x_train: pd.DataFrame):
    """The preprocessing fitted on training rows: it takes the used columns of raw rows by name."""
    return make_preprocessor(columns).fit(x_train[used(columns)])


def transform(preprocessor, columns, rows: pd.DataFrame) -> np.ndarray:
    return preprocessor.transform(rows[used(columns)]).astype(np.float64)
