"""A task's data cut for K-fold cross-validation: what a trial trains on under `--cv K`.

The test split stays held out; train+val is cut into K folds, and fold i's data trains on the other
folds and validates on fold i, with everything fitted on data (scalers) fitted on its training rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_FOLDS = 5   # what the tabular tasks cross-validate on without --cv (Task.default_folds)


@dataclass(frozen=True)
class Folds:
    whole: Any      # the task's data as loaded: its test split is every fold's test split
    folds: tuple    # one data per fold, of the task's own data type


def fold_datas(data) -> list:
    """The datas a trial trains one model each on: the folds, or the data itself."""
    return list(data.folds) if isinstance(data, Folds) else [data]


def whole(data):
    """The task's data as loaded, with or without folds."""
    return data.whole if isinstance(data, Folds) else data
