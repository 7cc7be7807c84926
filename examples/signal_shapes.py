"""A task in the short form: which wave shape (sine, square, sawtooth) is in a noisy signal, told apart by a
1-D convolutional network of your own.

    hpo run examples/signal_shapes.py --trials 10
    hpo check-task examples/signal_shapes.py

The tool brings the splits, cross-validation, scaling, the training loop, the metrics, the baselines and
serving; this file gives the data, the model and the model's search space.
"""
import numpy as np
import pandas as pd
import torch
from torch import nn

import hpo

LENGTH = 64  # samples per signal


def load(request: hpo.DataRequest):
    """600 generated signals: one column per sample, the shape's name as the target."""
    rng = np.random.default_rng(1234)  # the same signals every time; request.seed cuts the splits
    t = np.linspace(0, 1, LENGTH)
    shapes = ("sine", "square", "sawtooth")
    rows, labels = [], []
    for i in range(600):
        shape = shapes[i % 3]
        phase = 2 * np.pi * (rng.uniform(1.5, 4.0) * t + rng.uniform())
        wave = {"sine": np.sin(phase), "square": np.sign(np.sin(phase)),
                "sawtooth": 2 * ((phase / (2 * np.pi)) % 1) - 1}[shape]
        rows.append(rng.uniform(0.5, 1.5) * wave + rng.normal(0, 0.6, LENGTH))
        labels.append(shape)
    table = pd.DataFrame(rows, columns=[f"t{i:02d}" for i in range(LENGTH)])
    table["shape"] = labels
    return table, "shape"


class ConvNet(nn.Module):
    def __init__(self, n_inputs: int, n_outputs: int, channels: int, kernel_size: int, blocks: int, dropout: float):
        super().__init__()
        layers, width = [], 1
        for _ in range(blocks):
            layers += [nn.Conv1d(width, channels, kernel_size, padding=kernel_size // 2), nn.ReLU(), nn.MaxPool1d(2)]
            width = channels
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(dropout))
        self.head = nn.Linear(channels, n_outputs)

    def forward(self, x):  # x: (batch, n_inputs), the signal's samples as scaled columns
        return self.head(self.features(x.unsqueeze(1)))


def build_model(config: dict, n_inputs: int, n_outputs: int) -> nn.Module:
    return ConvNet(n_inputs, n_outputs, config["channels"], config["kernel_size"], config["blocks"], config["dropout"])


def space(s: hpo.Space) -> dict:
    return {"channels": s.categorical("channels", [8, 16, 32], default=16),
            "kernel_size": s.categorical("kernel_size", [3, 5, 7], default=5),
            "blocks": s.int("blocks", 1, 3, default=2, minimum=1, maximum=5),
            "dropout": s.float("dropout", 0.0, 0.5, default=0.1, minimum=0.0, maximum=0.9),
            "epochs": s.int("epochs", 5, 40, default=20, minimum=1)}


TASK = hpo.table_task("signal_shapes", load=load, build_model=build_model, kind="classification", space=space,
                      description="600 generated noisy waves, 64 samples each, 3 shapes")

if __name__ == "__main__":  # a quick look without a sweep
    print(torch.__version__, TASK.load_data(hpo.DataRequest()).n_features, "features")
