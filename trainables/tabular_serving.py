"""Serving the tabular tasks: a predictor that takes raw rows, as the user has them, and returns labels
or values in the units of the training data, and the reader of `hpo predict --data FILE`.

The predictor carries what training learnt besides the weights: the preprocessing fitted on the training
split (imputation, one-hot categories, scaling; trainables.preprocessing), the class labels (binary,
multiclass) or the target's mean and spread (regression). Raw rows may have text columns, empty cells,
categories never seen in training, columns in any order, and the table's left-out columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from pipelines.errors import DataError
from trainables.preprocessing import LEFT_OUT, NUMERIC, as_numbers, text_of, transform, used
from trainables.table_files import read_table
from trainables.tabular_data import TabularData

EXAMPLE_ROWS = 3   # rows in a model's input example


class TabularPredictor:
    def __init__(self, model: nn.Module, data: TabularData):
        self.model = model.cpu().eval()
        self.feature_names = list(data.feature_names)
        self.columns = data.columns
        self.inputs = used(data.columns)
        # Columns of the training table the model ignores: left out by the plan, or by --drop.
        self.left_out = [c.name for c in data.columns if c.kind == LEFT_OUT] + list(data.dropped)
        self.text_numbers = [c.name for c in data.columns if c.text_numbers]
        self.preprocessor = data.preprocessor
        self.target = data.target
        self.classes = list(data.classes) if data.classes is not None else None
        self.y_mean, self.y_std = float(data.y_mean), float(data.y_std)
        # Raw training rows, so the example looks like what a user sends; where a column may be empty (it
        # had gaps in training) the last row shows an empty cell, and the signature marks the column optional.
        training = data.raw.x_train
        example = training[self.inputs].head(EXAMPLE_ROWS).copy()
        for c in data.columns:
            if c.kind == LEFT_OUT or pd.api.types.is_bool_dtype(training[c.name]):
                continue
            if c.kind == NUMERIC:
                # Doubles: from integers the signature would say long, and refuse decimals and empty cells.
                example[c.name] = as_numbers(example[[c.name]])[c.name]
                continue
            # Text in the signature: a cell of its own where the first rows are all empty.
            if example[c.name].isna().all():
                example[c.name] = example[c.name].astype(object)
                example.loc[example.index[0], c.name] = training[c.name].dropna().mode().iloc[0]
            example[c.name] = example[c.name].map(text_of).astype(object)
        gaps = [c.name for c in data.columns if c.kind != LEFT_OUT and c.empty]
        if gaps:
            example[gaps] = example[gaps].astype(object)
            example.loc[example.index[-1], gaps] = None
        self.example_rows = example

    def example(self):
        return self.example_rows.copy()

    def features(self, raw) -> torch.Tensor:
        """The model inputs of raw rows; a DataError names missing, unknown or bad columns."""
        frame = raw if isinstance(raw, pd.DataFrame) else pd.DataFrame(raw)
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        missing = [c for c in self.inputs if c not in frame.columns]
        extra = [c for c in frame.columns if c not in self.feature_names and c not in self.left_out]
        if missing or extra:
            problems = ([f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []) + (
                [f"unknown column(s) {', '.join(map(repr, extra))}"
                 + (f" (the target '{self.target}' is what the model predicts: drop it)"
                    if self.target in extra else "")] if extra else [])
            raise DataError(f"The input has {' and '.join(problems)}; the model takes the columns "
                            f"{', '.join(self.inputs)}" + (f" (and ignores {', '.join(self.left_out)})"
                                                          if self.left_out else "") + ".")
        self.check_numbers(frame)
        return torch.tensor(transform(self.preprocessor, self.columns, frame), dtype=torch.float32)

    def check_numbers(self, frame: pd.DataFrame) -> None:
        """A numeric column that was all numbers in training takes numbers or empty cells only."""
        bad, infinite = [], []
        for c in self.columns:
            if c.kind != NUMERIC or c.text_numbers:  # numbers written as text take stray text as empty
                continue
            values = frame[c.name]
            numbers = pd.to_numeric(values, errors="coerce")
            if (numbers.isna() & values.notna()).any():
                bad.append(c.name)
            elif np.isinf(numbers.to_numpy(np.float64, na_value=np.nan)).any():
                infinite.append(c.name)
        problems = ([f"values that are not numbers in column(s) {', '.join(map(repr, bad))}"] if bad else []) + (
            [f"infinite values in column(s) {', '.join(map(repr, infinite))}"] if infinite else [])
        if problems:
            raise DataError(f"The input has {' and '.join(problems)}.")

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


def read_raw(path: str) -> pd.DataFrame:
    """The rows of a table file of raw feature columns (the predictor checks the columns)."""
    return read_table(path)
