"""What every task module provides: its contract with the sweep engine."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from torch import nn


@dataclass(frozen=True)
class DataRequest:
    """What the user asked for on the command line; a task's loader turns it into its data."""
    data: str | None = None       # --data: a file or folder of the user's
    target: str | None = None     # --target: the column to predict in a CSV
    dataset: str | None = None    # --dataset: a named data set other than the default
    data_dir: str | None = None   # --data-dir: where a downloadable data set lives or is cached
    seed: int = 0                 # fixes the splits


@dataclass(frozen=True)
class Task:
    name: str
    default_data: str                                   # what a sweep uses without --data
    metrics: tuple[str, ...]                            # reported every epoch besides val_loss
    load_data: Callable[[DataRequest], Any]             # raises DataError on bad input
    build_model: Callable[[dict, Any], nn.Module]
    train: Callable[[dict, Any, Any], None]             # (config, data, TrialIO): the trial's body
    evaluate: Callable[[nn.Module, Any, str], dict]     # metrics of a model on "val" or "test"
    metric: str = "val_loss"                            # the objective
    mode: str = "min"
