"""Tabular data for the MLP tasks: built-in scikit-learn sets or a user's table, split and preprocessed.

Splits are 70/15/15 train/val/test, stratified for classification and fixed by the seed. What becomes of
each feature column is planned once from the table (trainables.preprocessing); the preprocessing (and the
scale of a regression target) is fitted on the training split only.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipelines.errors import DataError
from trainables.preprocessing import LEFT_OUT, Column, fit_preprocessor, plan_columns, transform, used
from trainables.table_files import read_table

VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
MIN_ROWS = 20            # below this a 70/15/15 split leaves nothing to validate on
MIN_ROWS_PER_CLASS = 5   # stratified splits need a few of each class in every split


@dataclass(frozen=True)
class RawSplits:
    """The rows of each split before preprocessing: raw feature columns (DataFrames) and the target
    (class indices, or values in its units)."""
    x_train: pd.DataFrame
    y_train: np.ndarray
    x_val: pd.DataFrame
    y_val: np.ndarray
    x_test: pd.DataFrame
    y_test: np.ndarray


@dataclass
class TabularData:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    feature_names: list[str]   # every feature column of the table, left-out ones included
    target: str
    classes: list | None       # label values by class index; None for regression
    columns: tuple[Column, ...]  # what became of each feature column
    preprocessor: object       # the fitted scikit-learn ColumnTransformer: raw rows -> model inputs
    y_mean: float = 0.0        # regression targets are standardised too; 0/1 for classification
    y_std: float = 1.0
    source: str = ""           # where the rows came from, for the run's lineage
    fingerprint: str = ""      # sha256 prefix of the raw table
    raw: RawSplits | None = None  # the splits before preprocessing: a refit or a fold fits its own on them
    notes: tuple[str, ...] = field(default_factory=tuple)  # what loading did to the table, a line each
    dropped: tuple[str, ...] = ()  # the table's columns --drop left out (a served model ignores them too)

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    def preprocessing_report(self) -> dict:
        """What became of each column (the parent run's preprocessing.json)."""
        names = [str(n) for n in self.preprocessor.get_feature_names_out()]
        return {"target": self.target, "notes": list(self.notes), "columns": [c.as_dict() for c in self.columns],
                "model_inputs": names}


def fingerprint(x, y: np.ndarray) -> str:
    """A sha256 prefix of a table (a DataFrame) or an array, with its target."""
    rows = pd.util.hash_pandas_object(x, index=False).to_numpy() if isinstance(x, pd.DataFrame) else x
    digest = hashlib.sha256(np.ascontiguousarray(rows).tobytes())
    digest.update(np.asarray(y).astype(str).tobytes())
    return digest.hexdigest()[:16]


def read_features(path: str | Path, target: str | None,
                  drop: tuple[str, ...] = ()) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The feature columns, the target column and notes (rows left out) of a table file; every problem is
    a DataError, the problems found together named in one."""
    path = Path(path)
    if not target:
        raise DataError("--data needs --target COL, the column to predict.")
    frame = read_table(path)
    frame.columns = [str(c) for c in frame.columns]
    problems = []
    if target not in frame.columns:
        problems.append(f"the --target '{target}' is not one of its columns")
    unknown = [c for c in drop if c not in frame.columns]
    if unknown:
        problems.append(f"the --drop column(s) {', '.join(map(repr, unknown))} are not among its columns")
    if target in drop:
        problems.append(f"the --drop names the --target '{target}'")
    if problems:
        raise DataError(f"In '{path}': {'; '.join(problems)}. Its columns: {', '.join(frame.columns)}.")
    notes = [f"--drop: left out {', '.join(drop)}"] if drop else []
    empty_target = frame[target].isna()
    if empty_target.any():
        notes.append(f"{int(empty_target.sum())} row(s) with an empty '{target}' left out")
        frame = frame[~empty_target].reset_index(drop=True)
        labels = frame[target]
        if pd.api.types.is_float_dtype(labels) and (labels % 1 == 0).all():
            frame[target] = labels.astype(np.int64)  # whole-number labels read as floats for their gaps
    features = frame.drop(columns=[target, *drop])
    if len(frame) < MIN_ROWS:
        problems.append(f"it has {len(frame)} rows with a '{target}'; at least {MIN_ROWS} are needed")
    if features.shape[1] == 0:
        problems.append(f"it has no feature columns besides the target '{target}'")
    infinite = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])
                and not pd.api.types.is_bool_dtype(features[c]) and np.isinf(features[c].to_numpy(np.float64)).any()]
    if infinite:
        problems.append(f"it has infinite values in column(s) {', '.join(map(repr, infinite))}")
    if problems:
        raise DataError(f"The --data file '{path}': {'; '.join(problems)}.")
    return features, frame[target].to_numpy(), notes


def encode_labels(y: np.ndarray, target: str, min_classes: int, max_classes: int | None) -> tuple[np.ndarray, list]:
    """Class indices and the label of each index; string or numeric labels alike."""
    classes, y_index = np.unique(y.astype(str) if y.dtype == object else y, return_inverse=True)
    n = len(classes)
    if n < min_classes or (max_classes is not None and n > max_classes):
        wanted = f"exactly {min_classes}" if max_classes == min_classes else f"at least {min_classes}"
        shown = ", ".join(map(str, classes[:10])) + (" ..." if n > 10 else "")
        raise DataError(f"The target '{target}' must have {wanted} classes, got {n}: {shown}.")
    counts = np.bincount(y_index)
    rare = [str(classes[i]) for i in np.flatnonzero(counts < MIN_ROWS_PER_CLASS)]
    if rare:
        raise DataError(f"The target '{target}' has fewer than {MIN_ROWS_PER_CLASS} rows of class(es) "
                        f"{', '.join(rare)}; every class needs at least {MIN_ROWS_PER_CLASS}.")
    return y_index, [c.item() if hasattr(c, "item") else c for c in classes]


def regression_target(y: np.ndarray, target: str) -> np.ndarray:
    try:
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"The target '{target}' of a regression must be numeric; got values like {y[0]!r}.") from None
    if not np.isfinite(values).all():
        raise DataError(f"The target '{target}' has non-finite values.")
    if np.ptp(values) == 0:
        raise DataError(f"The target '{target}' is constant ({values[0]}); there is nothing to learn.")
    return values


def split_rows(x: pd.DataFrame, y: np.ndarray, *, seed: int, stratified: bool) -> tuple:
    """x_train, y_train, x_val, y_val, x_test, y_test: 70/15/15, fixed by the seed, of the raw rows."""
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=seed, stratify=y if stratified else None)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=VAL_FRACTION / (1 - TEST_FRACTION), random_state=seed,
        stratify=y_rest if stratified else None)
    return (x_train.reset_index(drop=True), y_train, x_val.reset_index(drop=True), y_val,
            x_test.reset_index(drop=True), y_test)


def split_and_preprocess(x: pd.DataFrame, y: np.ndarray, *, seed: int, classes: list | None, target: str,
                         source: str, notes: list[str] = ()) -> TabularData:
    """70/15/15 splits fixed by the seed; each column's kind planned from the table, the preprocessing
    fitted on the training split only."""
    columns = plan_columns(x)
    if not used(columns):
        reasons = "; ".join(f"'{c.name}': {c.why}" for c in columns)
        raise DataError(f"No column of the table is one a model can use: {reasons}.")
    notes = [*notes, *(f"column '{c.name}' left out: {c.why}" for c in columns if c.kind == LEFT_OUT)]
    raw = RawSplits(*split_rows(x, y, seed=seed, stratified=classes is not None))
    return preprocessed(raw, columns=columns, classes=classes, feature_names=[str(c) for c in x.columns],
                        target=target, source=source, fingerprint=fingerprint(x, y), notes=tuple(notes))


def preprocessed(raw: RawSplits, *, columns: tuple[Column, ...], classes: list | None, feature_names: list[str],
                 target: str, source: str, fingerprint: str, notes: tuple[str, ...] = (),
                 target_scale: tuple[float, float] | None = None) -> TabularData:
    """The splits as tensors through the preprocessing fitted on raw.x_train; a regression target
    standardised with `target_scale` (mean, std), else with those of raw.y_train."""
    preprocessor = fit_preprocessor(columns, raw.x_train)
    y_mean, y_std = ((0.0, 1.0) if classes is not None else target_scale or
                     (float(raw.y_train.mean()), float(raw.y_train.std()) or 1.0))

    def features(rows):
        return torch.tensor(transform(preprocessor, columns, rows), dtype=torch.float32)

    def labels(a):
        if classes is not None:
            return torch.tensor(a, dtype=torch.long)
        return torch.tensor((a - y_mean) / y_std, dtype=torch.float32)

    return TabularData(
        features(raw.x_train), labels(raw.y_train), features(raw.x_val), labels(raw.y_val), features(raw.x_test),
        labels(raw.y_test), feature_names=feature_names, target=target, classes=classes, columns=columns,
        preprocessor=preprocessor, y_mean=y_mean, y_std=y_std, source=source, fingerprint=fingerprint, raw=raw,
        notes=notes)


def rescaled(data: TabularData, raw: RawSplits) -> TabularData:
    """The same table cut into other splits, with the preprocessing fitted on their training rows. The
    target keeps its scale, so that losses on the standardised target stay comparable with the original
    splits'."""
    return replace(preprocessed(raw, columns=data.columns, classes=data.classes, feature_names=data.feature_names,
                                target=data.target, source=data.source, fingerprint=data.fingerprint,
                                notes=data.notes, target_scale=(data.y_mean, data.y_std)), dropped=data.dropped)


def _rows(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def merge_validation(data: TabularData) -> TabularData:
    """For a refit: train+val as the training split (its own preprocessing); val and test rows as they were."""
    r = data.raw
    return rescaled(data, RawSplits(_rows(r.x_train, r.x_val), np.concatenate([r.y_train, r.y_val]),
                                    r.x_val, r.y_val, r.x_test, r.y_test))


def cross_validation_folds(data: TabularData, k: int, seed: int) -> list[TabularData]:
    """K folds of train+val, stratified for classification and fixed by the seed; each with its own
    preprocessing."""
    from sklearn.model_selection import KFold, StratifiedKFold

    r = data.raw
    x, y = _rows(r.x_train, r.x_val), np.concatenate([r.y_train, r.y_val])
    if data.classes is not None:
        counts = np.bincount(y.astype(int), minlength=len(data.classes))
        if k > counts.min():
            rarest = data.classes[int(counts.argmin())]
            raise DataError(f"The --cv {k} asks for more folds than train+val has rows of class {rarest!r} of "
                            f"'{data.target}' ({counts.min()}); use --cv {counts.min()} or fewer.")
    elif k > len(y):
        raise DataError(f"The --cv {k} asks for more folds than train+val has rows ({len(y)}).")
    splitter = (StratifiedKFold if data.classes is not None else KFold)(n_splits=k, shuffle=True, random_state=seed)
    return [rescaled(data, RawSplits(x.iloc[train].reset_index(drop=True), y[train],
                                     x.iloc[val].reset_index(drop=True), y[val], r.x_test, r.y_test))
            for train, val in splitter.split(x, y)]


def load_tabular(*, builtin, data: str | None, target: str | None, seed: int, min_classes: int | None,
                 max_classes: int | None = None, drop: tuple[str, ...] = ()) -> TabularData:
    """A user's table when `data` is given (less the `drop` columns), else the built-in set; `min_classes`
    None means regression.

    `builtin` is a function returning (x as a DataFrame, y, target_name, source).
    """
    notes = []
    if data is not None:
        x, y_raw, notes = read_features(data, target, drop)
        source, target_name = str(Path(data).resolve()), target
    else:
        if drop:
            raise DataError("--drop names columns of --data; give --data FILE too.")
        x, y_raw, target_name, source = builtin()
    if min_classes is None:
        loaded = split_and_preprocess(x, regression_target(y_raw, target_name), seed=seed, classes=None,
                                      target=target_name, source=source, notes=notes)
    else:
        y, classes = encode_labels(y_raw, target_name, min_classes, max_classes)
        loaded = split_and_preprocess(x, y, seed=seed, classes=classes, target=target_name, source=source,
                                      notes=notes)
    return replace(loaded, dropped=tuple(drop))


def sklearn_builtin(loader_name: str):
    """A `builtin` for load_tabular from a scikit-learn loader that ships its data."""
    def load():
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        target = getattr(bunch, "target_names", None)
        target_name = "target" if target is None or len(target) != 1 else str(target[0])
        x = pd.DataFrame(bunch.data.astype(np.float64), columns=[str(n) for n in bunch.feature_names])
        return x, bunch.target, target_name, f"sklearn:{loader_name}"
    return load
