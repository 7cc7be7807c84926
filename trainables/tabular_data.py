"""Tabular data for the MLP tasks: built-in scikit-learn sets or a user's CSV, split and scaled.

Splits are 70/15/15 train/val/test, stratified for classification and fixed by the seed. Features
(and a regression target) are standardised with statistics of the training split only.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipelines.errors import DataError

VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
MIN_ROWS = 20            # below this a 70/15/15 split leaves nothing to validate on
MIN_ROWS_PER_CLASS = 5   # stratified splits need a few of each class in every split


@dataclass(frozen=True)
class RawSplits:
    """The rows of each split before scaling (class indices, or the target in its units)."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass
class TabularData:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    feature_names: list[str]
    target: str
    classes: list | None       # label values by class index; None for regression
    x_mean: np.ndarray         # the scaler, fitted on the training split
    x_std: np.ndarray
    y_mean: float = 0.0        # regression targets are standardised too; 0/1 for classification
    y_std: float = 1.0
    source: str = ""           # where the rows came from, for the run's lineage
    fingerprint: str = ""      # sha256 prefix of the raw table
    raw: RawSplits | None = None  # the splits before scaling: a refit or a fold fits its own scaler on them

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]


def fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    digest.update(np.asarray(y).astype(str).tobytes())
    return digest.hexdigest()[:16]


def read_csv(path: str | Path, target: str | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features, raw target column and feature names of a CSV; every problem is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The --data file '{path}' does not exist or is not a file.")
    if not target:
        raise DataError("--data needs --target COL, the column to predict.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"The --data file '{path}' is not a readable CSV: {str(exc).splitlines()[0]}") from None
    if target not in frame.columns:
        raise DataError(f"The --target '{target}' is not a column of '{path}'; "
                        f"columns: {', '.join(map(str, frame.columns))}.")
    if len(frame) < MIN_ROWS:
        raise DataError(f"The --data file '{path}' has {len(frame)} rows; at least {MIN_ROWS} are needed.")
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise DataError(f"The --data file '{path}' has no feature columns besides the target '{target}'.")
    empty = frame.columns[frame.isna().any()].tolist()
    if empty:
        counts = ", ".join(f"'{c}' ({int(frame[c].isna().sum())})" for c in empty)
        raise DataError(f"The --data file '{path}' has empty cells in columns {counts}; fill or drop them.")
    text = [str(c) for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])
            or pd.api.types.is_bool_dtype(features[c])]
    if text:
        raise DataError(f"The --data file '{path}' has non-numeric feature columns "
                        f"{', '.join(repr(c) for c in text)}; encode them as numbers or drop them.")
    x = features.to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        bad = [str(c) for c in features.columns if not np.isfinite(features[c].to_numpy(np.float64)).all()]
        raise DataError(f"The --data file '{path}' has infinite values in columns {', '.join(bad)}.")
    return x, frame[target].to_numpy(), [str(c) for c in features.columns]


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


def split_rows(x: np.ndarray, y: np.ndarray, *, seed: int, stratified: bool) -> tuple[np.ndarray, ...]:
    """x_train, y_train, x_val, y_val, x_test, y_test: 70/15/15, fixed by the seed, of the raw rows."""
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=seed, stratify=y if stratified else None)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=VAL_FRACTION / (1 - TEST_FRACTION), random_state=seed,
        stratify=y_rest if stratified else None)
    return x_train, y_train, x_val, y_val, x_test, y_test


def split_and_scale(x: np.ndarray, y: np.ndarray, *, seed: int, classes: list | None,
                    feature_names: list[str], target: str, source: str) -> TabularData:
    """70/15/15 splits fixed by the seed; scaling fitted on the training split only."""
    raw = RawSplits(*split_rows(x, y, seed=seed, stratified=classes is not None))
    return scaled(raw, classes=classes, feature_names=feature_names, target=target, source=source,
                  fingerprint=fingerprint(x, y))


def scaled(raw: RawSplits, *, classes: list | None, feature_names: list[str], target: str, source: str,
           fingerprint: str, target_scale: tuple[float, float] | None = None) -> TabularData:
    """The splits as tensors, features standardised with the statistics of raw.x_train; a regression target
    with `target_scale` (mean, std), else with those of raw.y_train."""
    x_mean = raw.x_train.mean(axis=0)
    x_std = raw.x_train.std(axis=0)
    x_std[x_std == 0] = 1.0  # a constant column stays zero instead of dividing by zero
    y_mean, y_std = ((0.0, 1.0) if classes is not None else target_scale or
                     (float(raw.y_train.mean()), float(raw.y_train.std()) or 1.0))

    def features(a):
        return torch.tensor((a - x_mean) / x_std, dtype=torch.float32)

    def labels(a):
        if classes is not None:
            return torch.tensor(a, dtype=torch.long)
        return torch.tensor((a - y_mean) / y_std, dtype=torch.float32)

    return TabularData(
        features(raw.x_train), labels(raw.y_train), features(raw.x_val), labels(raw.y_val), features(raw.x_test),
        labels(raw.y_test), feature_names=feature_names, target=target, classes=classes, x_mean=x_mean,
        x_std=x_std, y_mean=y_mean, y_std=y_std, source=source, fingerprint=fingerprint, raw=raw)


def rescaled(data: TabularData, raw: RawSplits) -> TabularData:
    """The same table cut into other splits, with a feature scaler fitted on their training rows. The target
    keeps its scale, so that losses on the standardised target stay comparable with the original splits'."""
    return scaled(raw, classes=data.classes, feature_names=data.feature_names, target=data.target,
                  source=data.source, fingerprint=data.fingerprint, target_scale=(data.y_mean, data.y_std))


def merge_validation(data: TabularData) -> TabularData:
    """For a refit: train+val as the training split (its own scaler); val and test rows as they were."""
    r = data.raw
    return rescaled(data, RawSplits(np.concatenate([r.x_train, r.x_val]), np.concatenate([r.y_train, r.y_val]),
                                    r.x_val, r.y_val, r.x_test, r.y_test))


def cross_validation_folds(data: TabularData, k: int, seed: int) -> list[TabularData]:
    """K folds of train+val, stratified for classification and fixed by the seed; each with its own scaler."""
    from sklearn.model_selection import KFold, StratifiedKFold

    r = data.raw
    x, y = np.concatenate([r.x_train, r.x_val]), np.concatenate([r.y_train, r.y_val])
    if data.classes is not None:
        counts = np.bincount(y.astype(int), minlength=len(data.classes))
        if k > counts.min():
            rarest = data.classes[int(counts.argmin())]
            raise DataError(f"The --cv {k} asks for more folds than train+val has rows of class {rarest!r} of "
                            f"'{data.target}' ({counts.min()}); use --cv {counts.min()} or fewer.")
    elif k > len(y):
        raise DataError(f"The --cv {k} asks for more folds than train+val has rows ({len(y)}).")
    splitter = (StratifiedKFold if data.classes is not None else KFold)(n_splits=k, shuffle=True, random_state=seed)
    return [rescaled(data, RawSplits(x[train], y[train], x[val], y[val], r.x_test, r.y_test))
            for train, val in splitter.split(x, y)]


def load_tabular(*, builtin, data: str | None, target: str | None, seed: int,
                 min_classes: int | None, max_classes: int | None = None) -> TabularData:
    """A user's CSV when `data` is given, else the built-in set; `min_classes` None means regression.

    `builtin` is a function returning (x, y, feature_names, target_name, source).
    """
    if data is not None:
        x, y_raw, names = read_csv(data, target)
        source, target_name = str(Path(data).resolve()), target
    else:
        x, y_raw, names, target_name, source = builtin()
    if min_classes is None:
        return split_and_scale(x, regression_target(y_raw, target_name), seed=seed, classes=None,
                               feature_names=names, target=target_name, source=source)
    y, classes = encode_labels(y_raw, target_name, min_classes, max_classes)
    return split_and_scale(x, y, seed=seed, classes=classes, feature_names=names, target=target_name, source=source)


def sklearn_builtin(loader_name: str):
    """A `builtin` for load_tabular from a scikit-learn loader that ships its data."""
    def load():
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        target = getattr(bunch, "target_names", None)
        target_name = "target" if target is None or len(target) != 1 else str(target[0])
        return (bunch.data.astype(np.float64), bunch.target, [str(n) for n in bunch.feature_names],
                target_name, f"sklearn:{loader_name}")
    return load
