"""Several trained models served as one: their outputs averaged (class probabilities, or predicted values).

Members are predictors of one task (make_predictor), each with its own preprocessing; they take the same
raw input and give outputs of the same shape.
"""
from __future__ import annotations

import numpy as np


class EnsemblePredictor:
    def __init__(self, members: list):
        self.members = members

    @property
    def left_out(self) -> list:
        """Columns of the training table the members ignore (tables only)."""
        return list(getattr(self.members[0], "left_out", []))

    @property
    def text_numbers(self) -> list:
        return list(getattr(self.members[0], "text_numbers", []))

    def example(self):
        return self.members[0].example()

    def outputs(self, raw) -> np.ndarray:
        return np.mean([member.outputs(raw) for member in self.members], axis=0)

    def labels(self, outputs: np.ndarray, raw):
        return self.members[0].labels(outputs, raw)

    def predict(self, raw):
        return self.labels(self.outputs(raw), raw)
