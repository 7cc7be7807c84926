"""One univariate series for next-value prediction: the generated noisy sine or a column of a user's CSV.

Splits are chronological, 70/15/15 train/val/test by time, never shuffled. A window's target lies in its
split; its inputs are the values just before the target, which for the first windows of val (test)
reach back into the end of train (val): values known at prediction time, so nothing leaks. The series
is standardised with the mean and standard deviation of the training part only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipelines.errors import DataError
from trainables.table_files import read_table
from trainables.tabular_data import fingerprint

VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
MIN_LENGTH = 100          # fewer values leave too few windows to train and validate on

# The generated default: sin(STEP * t) for t = 0 .. SINE_LENGTH-1, plus Gaussian noise of standard
# deviation SINE_NOISE_STD (variance 0.01), from a fixed generator, so every sweep sees the same series.
# A period is 2*pi/STEP ~ 63 steps. The noise variance is the floor of any next-value MSE (in series units).
SINE_LENGTH = 2000
SINE_STEP = 0.1
SINE_NOISE_STD = 0.1
SINE_NOISE_VARIANCE = SINE_NOISE_STD ** 2
SINE_SEED = 0


@dataclass
class SeriesData:
    values: torch.Tensor      # the whole series, standardised, float32, in time order
    n_train: int              # values[:n_train] is train, then val, then test
    n_val: int
    mean: float               # the scaler, fitted on the training part
    std: float
    name: str                 # the series' name (the CSV column, or "sine")
    source: str = ""
    fingerprint: str = ""

    def target_range(self, split_name: str) -> tuple[int, int]:
        """The indices of the values a split predicts."""
        bounds = {"train": (0, self.n_train), "val": (self.n_train, self.n_train + self.n_val),
                  "test": (self.n_train + self.n_val, len(self.values))}
        return bounds[split_name]

    def windows(self, split_name: str, window: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs (n, window, 1) and targets (n,) of the split: every target t with its `window`
        values before it. Train's first target is at index `window`, so train never reads val."""
        if window >= self.n_train:
            raise ValueError(f"The 'window' {window} must be shorter than the training part of the series "
                             f"({self.n_train} values).")
        start, end = self.target_range(split_name)
        start = max(start, window)
        inputs = self.values[start - window:end - 1].unfold(0, window, 1)  # rows: values[t-window:t]
        return inputs.unsqueeze(-1).contiguous(), self.values[start:end]

    def unscale(self, values):
        return values * self.std + self.mean


def noisy_sine() -> np.ndarray:
    rng = np.random.default_rng(SINE_SEED)
    t = np.arange(SINE_LENGTH)
    return np.sin(SINE_STEP * t) + rng.normal(0.0, SINE_NOISE_STD, SINE_LENGTH)


def series_values(column, name: str, where: str) -> np.ndarray:
    """A column as finite float64 values; every problem is a DataError naming the column."""
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        bad = next((v for v in column if not _is_number(v)), column.iloc[0] if len(column) else None)
        raise DataError(f"The series '{name}' of {where} must be numeric; got values like {bad!r}.")
    values = column.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise DataError(f"The series '{name}' of {where} has {int(np.isnan(values).sum())} empty cells "
                        f"(first at row {int(np.flatnonzero(np.isnan(values))[0])}); fill or drop them.")
    if not np.isfinite(values).all():
        raise DataError(f"The series '{name}' of {where} has infinite values.")
    return values


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def without_trailing_gaps(column):
    """A column without the empty cells at its end (a shorter series in a table of several)."""
    filled = column.notna().to_numpy()
    return column.iloc[:len(filled) - int(filled[::-1].argmax())] if filled.any() else column.iloc[:0]


def read_series_csv(path: str | Path, target: str | None) -> np.ndarray:
    """The --target column of a CSV, in file order (the time order)."""
    if not target:
        raise DataError("--data needs --target COL, the column of the series to predict.")
    frame = read_table(path)
    if target not in frame.columns:
        raise DataError(f"The --target '{target}' is not a column of '{path}'; "
                        f"columns: {', '.join(map(str, frame.columns))}.")
    return series_values(frame[target], target, f"'{path}'")


def split_series(values: np.ndarray, *, name: str, source: str) -> SeriesData:
    if len(values) < MIN_LENGTH:
        raise DataError(f"The series '{name}' has {len(values)} values; at least {MIN_LENGTH} are needed.")
    n_val = int(round(len(values) * VAL_FRACTION))
    n_test = int(round(len(values) * TEST_FRACTION))
    n_train = len(values) - n_val - n_test
    mean, std = float(values[:n_train].mean()), float(values[:n_train].std())
    if std == 0:
        raise DataError(f"The series '{name}' is constant over its training part ({mean}); there is nothing to learn.")
    scaled = torch.tensor((values - mean) / std, dtype=torch.float32)
    return SeriesData(scaled, n_train, n_val, mean, std, name, source, fingerprint(values, np.zeros(0)))


def load_series(data: str | None, target: str | None, dataset: str | None) -> SeriesData:
    if dataset is not None:
        raise DataError(f"The rnn task has no --dataset (got {dataset!r}); it uses the generated noisy sine, "
                        "or your series with --data FILE.csv --target COL.")
    if data is None:
        return split_series(noisy_sine(), name="sine", source=f"generated:noisy_sine(seed={SINE_SEED})")
    return split_series(read_series_csv(data, target), name=target, source=str(Path(data).resolve()))
