"""rnn: next-value prediction on a univariate series with an RNN, LSTM or GRU.

Default data: a generated noisy sine (trainables/series_data.py; noise variance 0.01, the floor of the
test MSE); or a user's series with --data FILE.csv --target COL, in file order.

A trial sees windows of `window` past values and predicts the next one. `val_loss` is the MSE of the
standardised series (comparable across series); `val_rmse` is in the series' own units. The parent run
also gets a naive baseline that predicts the last value seen (`baseline_val_loss`, `baseline_val_rmse`,
`baseline_test_loss`, `baseline_test_rmse`, and the same as `baseline_last_value_*`): a model worth keeping beats it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from pipelines.errors import DataError
from trainables.catalog import card
from trainables.loop import Member, fit, in_memory, prepare_trial
from trainables.series_data import SeriesData, load_series, series_values, without_trailing_gaps
from trainables.table_files import read_table
from trainables.task import DataRequest, Task

CELLS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


class SeriesRNN(nn.Module):
    """A recurrent stack over (batch, window, 1) windows; a linear head on the last step's output."""

    def __init__(self, cell: str, hidden_size: int, n_layers: int, dropout: float, window: int):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"The 'cell' must be one of {', '.join(CELLS)}, got {cell!r}.")
        self.window = window  # the input length it was trained on: evaluation and serving use the same
        # nn.RNN's dropout acts between stacked layers only; the one before the head works for 1 layer too.
        self.recurrent = CELLS[cell](input_size=1, hidden_size=hidden_size, num_layers=n_layers,
                                     dropout=dropout if n_layers > 1 else 0.0, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The recurrence always runs in float32: oneDNN has no bfloat16 LSTM on the CPU, and a few dozen
        # hidden units gain nothing from a lower precision, while rounding would compound over the window.
        with torch.autocast(x.device.type, enabled=False):
            output, _ = self.recurrent(x.float())
        return self.head(self.dropout(output[:, -1])).squeeze(-1)


def load_data(request: DataRequest) -> SeriesData:
    return load_series(request.data, request.target, request.dataset)


def build_model(config: dict, data: SeriesData) -> nn.Module:
    return SeriesRNN(config["cell"], int(config["hidden_size"]), int(config["n_layers"]),
                     float(config.get("dropout", 0.0)), int(config["window"]))


def train(config: dict, data: SeriesData, io) -> None:
    model, data, optimizer = prepare_trial(build_model, config, data, io)
    x, y = data.windows("train", model.window)
    fit([Member(model, optimizer, in_memory(x, y, int(config["batch_size"])), lambda m: evaluate(m, data, "val"),
                clip=float(config.get("grad_clip", 0.0)) or None)], nn.functional.mse_loss, config=config, io=io)


def scores(split_name: str, prediction: torch.Tensor, target: torch.Tensor, std: float) -> dict:
    mse = nn.functional.mse_loss(prediction, target).item()
    return {f"{split_name}_loss": mse, f"{split_name}_rmse": mse ** 0.5 * std}


@torch.inference_mode()
def evaluate(model: nn.Module, data: SeriesData, split_name: str) -> dict:
    model.eval()
    x, y = data.windows(split_name, model.window)
    return scores(split_name, model(x), y, data.std)


def last_value(data: SeriesData) -> dict:
    """The naive baseline that predicts the last value seen, on val and test, in the model's metrics."""
    metrics = {}
    for split_name in ("val", "test"):
        start, end = data.target_range(split_name)
        metrics.update(scores(split_name, data.values[start - 1:end - 1], data.values[start:end], data.std))
    return {"last_value": metrics}


SERIES, VALUE = "series", "value"  # the served model's input columns: rows of each series in time order


def series_rows(raw) -> pd.DataFrame:
    """The served model's input: rows (series, value), each series' rows in time order.

    A table with a `value` column is in that shape already (without a `series` column it is one series,
    named "series"); any other table is wide, one series per column (a shorter one ends in empty cells),
    and becomes those rows, column by column."""
    if not isinstance(raw, pd.DataFrame):
        raise DataError(f"An rnn model predicts from a table of series, got {type(raw).__name__}.")
    if VALUE in raw.columns:
        series = raw[SERIES].astype(str) if SERIES in raw.columns else SERIES
        rows = pd.DataFrame({SERIES: series, VALUE: raw[VALUE]})
    elif not len(raw.columns):
        raise DataError("The table has no columns; each column should be a series.")
    else:
        rows = pd.concat([pd.DataFrame({SERIES: str(column), VALUE: without_trailing_gaps(raw[column])})
                          for column in raw.columns], ignore_index=True)
    if pd.api.types.is_integer_dtype(rows[VALUE]):
        rows[VALUE] = rows[VALUE].astype(np.float64)  # the signature's type: whole numbers are values too
    return rows


class SeriesPredictor:
    """The next value of each series given to it, in the series' units (serving; CPU, eval mode).

    `predict(raw)`: raw is a table as series_rows() reads it: rows (series, value), or one series per
    column. When one of the series is named like the series the model was trained on (the user's
    training CSV), only that one is used. Returns one row per series: `series` and `prediction`."""

    def __init__(self, model: SeriesRNN, data: SeriesData):
        self.model = model.cpu().eval()
        self.window = model.window
        self.mean, self.std, self.name = data.mean, data.std, data.name
        self.example_values = data.unscale(data.values[-self.window:]).tolist()

    def predict(self, raw) -> pd.DataFrame:
        rows = series_rows(raw)
        names = list(dict.fromkeys(rows[SERIES]))  # in order of first appearance
        names = [self.name] if self.name in names else names
        windows = []
        for name in names:
            values = series_values(rows[VALUE][rows[SERIES] == name], name, "the input")
            if len(values) < self.window:
                raise DataError(f"The series '{name}' has {len(values)} values; this model reads the last "
                                f"{self.window}.")
            windows.append((values[-self.window:] - self.mean) / self.std)
        with torch.inference_mode():
            scaled = self.model(torch.tensor(np.array(windows), dtype=torch.float32).unsqueeze(-1))
        return pd.DataFrame({SERIES: names, "prediction": (scaled.numpy() * self.std + self.mean).astype(np.float64)})

    def example(self) -> pd.DataFrame:
        return pd.DataFrame({SERIES: self.name, VALUE: self.example_values})


def make_predictor(model: nn.Module, data: SeriesData, config: dict) -> SeriesPredictor:
    return SeriesPredictor(model, data)


def read_raw(path: str) -> pd.DataFrame:
    """A CSV of series for `hpo predict`, as series_rows() reads it: one numeric series per column (the
    training CSV works when all its columns are numeric: its target column is used), or rows with
    `series` and `value` columns. A non-numeric column is refused here, naming it."""
    rows = series_rows(read_table(path))
    for name in dict.fromkeys(rows[SERIES]):
        series_values(rows[VALUE][rows[SERIES] == name], name, f"'{path}'")  # a DataError names a bad column
    return rows


TASK = Task(**card("rnn"), load_data=load_data, build_model=build_model, train=train,
            evaluate=evaluate, make_predictor=make_predictor, read_raw=read_raw, baselines=last_value)
