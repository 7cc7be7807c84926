"""Serving the tabular tasks: a predictor that takes raw feature columns by name and returns labels
or values in the units of the training data, and the reader of `hpo predict --data FILE.csv`.

The predictor carries what training learnt besides the weights: the feature order, the scaler fitted
on the training split, the class labels (binary, multiclass) or the target's mean and spread (regression).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from pipelines.errors import DataError
from trainables.tabular_data import TabularData

EXAMPLE_ROWS = 3   # rows in a model's input example


class TabularPredictor:
    def __init__(self, model: nn.Module, data: TabularData):
        self.model = model.cpu().eval()
        self.feature_names = list(data.feature_names)
        self.target = data.target
        self.x_mean, self.x_std = np.asarray(data.x_mean), np.asarray(data.x_std)
        self.classes = list(data.classes) if data.classes is not None else None
        self.y_mean, self.y_std = float(data.y_mean), float(data.y_std)
        # Raw rows (the training split unscaled), so the example looks like what a user sends.
        self.example_rows = data.x_train[:EXAMPLE_ROWS].double().numpy() * self.x_std + self.x_mean

    def example(self):
        return pd.DataFrame(self.example_rows, columns=self.feature_names)

    def features(self, raw) -> torch.Tensor:
        """The scaled feature matrix of raw rows; a DataError names missing, extra or bad columns."""
        frame = raw if isinstance(raw, pd.DataFrame) else pd.DataFrame(raw)
        columns = [str(c) for c in frame.columns]
        missing = [c for c in self.feature_names if c not in columns]
        extra = [c for c in columns if c not in self.feature_names]
        if missing or extra:
            problems = ([f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []) + (
                [f"unknown column(s) {', '.join(map(repr, extra))}"
                 + (f" (the target '{self.target}' is what the model predicts: drop it)"
                    if self.target in extra else "")] if extra else [])
            raise DataError(f"The input has {' and '.join(problems)}; the model takes exactly the columns "
                            f"{', '.join(self.feature_names)}.")
        frame = frame.set_axis(columns, axis=1)[self.feature_names]
        try:
            x = frame.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            bad = [c for c in self.feature_names if not pd.api.types.is_numeric_dtype(frame[c])]
            raise DataError(f"The input has non-numeric values in column(s) {', '.join(map(repr, bad))}.") from None
        if not np.isfinite(x).all():
            bad = [c for c, ok in zip(self.feature_names, np.isfinite(x).all(axis=0)) if not ok]
            raise DataError(f"The input has empty or infinite values in column(s) {', '.join(map(repr, bad))}.")
        return torch.tensor((x - self.x_mean) / self.x_std, dtype=torch.float32)

    @torch.inference_mode()
    def outputs(self, raw) -> np.ndarray:
        """Class probabilities (rows, classes), or predictions in the target's units (rows,)."""
        out = self.model(self.features(raw)).double()
        if self.classes is None:        # regression: back to the target's units
            return (out.squeeze(-1) * self.y_std + self.y_mean).numpy()
        if out.shape[-1] == 1:          # one logit: the log-odds of the second class
            positive = torch.sigmoid(out.squeeze(-1))
            return torch.stack([1 - positive, positive], 1).numpy()
        return torch.softmax(out, -1).numpy()

    def labels(self, outputs: np.ndarray, raw=None) -> pd.DataFrame:
        """The `prediction` column for outputs like those of outputs(): labels, or the values (the raw
        rows they came from add nothing to it)."""
        if self.classes is None:
            return pd.DataFrame({"prediction": outputs})
        values = np.asarray(self.classes, dtype=object)[outputs.argmax(axis=1)]
        # Labels keep their type: numbers stay numbers.
        return pd.DataFrame({"prediction": pd.Series(list(values)).infer_objects().to_numpy()})

    def predict(self, raw):
        return self.labels(self.outputs(raw))


def make_predictor(model: nn.Module, data: TabularData, config: dict) -> TabularPredictor:
    return TabularPredictor(model, data)


def read_raw(path: str):
    """The rows of a CSV of raw feature columns (the predictor checks the columns)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The --data file '{path}' does not exist or is not a file.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"The --data file '{path}' is not a readable CSV: {str(exc).splitlines()[0]}") from None
    # Whole-number columns as float: the model's signature takes doubles, and MLflow refuses to
    # convert 64-bit integers to them.
    numbers = frame.select_dtypes(include=["integer"]).columns
    return frame.astype({c: "float64" for c in numbers})
