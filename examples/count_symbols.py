"""A task in the full form: how many times 'a' occurs in a random string of the letters a-d, regressed by
a GRU over the characters. The data is not a table, so this file meets the whole Task contract itself,
with the loop's parts from hpo (make_train: a model per fold, patience, checkpoints; evaluate_with).

    hpo run examples/count_symbols.py --trials 8
    hpo predict runs:/RUN_ID/model --data strings.csv    # a CSV with a column `text`
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

import hpo

LETTERS, LENGTH = "abcd", 24


@dataclass(frozen=True)
class Strings:
    x_train: torch.Tensor  # (rows, LENGTH) letter indices
    y_train: torch.Tensor  # (rows,) the count of 'a', standardised
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    y_mean: float
    y_std: float


def encode(texts) -> torch.Tensor:
    return torch.tensor([[LETTERS.index(c) for c in text[:LENGTH].ljust(LENGTH, "d")] for text in texts])


def load_data(request: hpo.DataRequest) -> Strings:
    rng = np.random.default_rng(request.seed)
    texts = ["".join(rng.choice(list(LETTERS), LENGTH)) for _ in range(1500)]
    counts = np.array([t.count("a") for t in texts], dtype=np.float32)
    mean, std = float(counts[:1000].mean()), float(counts[:1000].std())
    x, y = encode(texts), torch.tensor((counts - mean) / std)
    return Strings(x[:1000], y[:1000], x[1000:1250], y[1000:1250], x[1250:], y[1250:], mean, std)


class Counter(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(len(LETTERS), 8)
        self.gru = nn.GRU(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.gru(self.embed(x))[1][-1]).squeeze(-1)


def build_model(config: dict, data: Strings) -> nn.Module:
    return Counter(config["hidden"])


@torch.inference_mode()
def outputs(model: nn.Module, data: Strings, split: str) -> np.ndarray:
    model.eval()
    return model(getattr(data, f"x_{split}")).numpy()


def score(split: str, predictions: np.ndarray, data: Strings) -> dict:
    return hpo.regression_scores(split, getattr(data, f"y_{split}").numpy(), predictions, data.y_std)


class Predictor:
    """What the logged model holds: the model and the target's scale."""

    def __init__(self, model: nn.Module, data: Strings):
        self.model, self.mean, self.std = model.cpu().eval(), data.y_mean, data.y_std

    def predict(self, raw) -> pd.DataFrame:
        texts = [str(t) for t in (raw["text"] if "text" in getattr(raw, "columns", ()) else raw.iloc[:, 0])]
        with torch.inference_mode():
            counts = self.model(encode(texts)).numpy() * self.std + self.mean
        return pd.DataFrame({"prediction": counts})

    def example(self) -> pd.DataFrame:
        return pd.DataFrame({"text": ["abcdabcdaaaa", "dddd"]})


def space(s: hpo.Space) -> dict:
    return {**hpo.training_params(s, epochs=(5, 30), default_epochs=15),
            "hidden": s.categorical("hidden", [16, 32, 64], default=32)}


evaluate = hpo.evaluate_with(outputs, score)
TASK = hpo.Task(name="count_symbols", default_data="1500 random strings of a-d, 24 letters each",
                metrics=("val_rmse", "val_mae", "val_r2"), load_data=load_data, build_model=build_model,
                train=hpo.make_train(build_model, lambda config, data: nn.MSELoss(), evaluate), evaluate=evaluate,
                make_predictor=lambda model, data, config: Predictor(model, data),
                read_raw=lambda path: pd.read_csv(path, dtype=str), outputs=outputs, score=score, space=space)
