"""What the three MLP tasks share: building the MLP from a config, and a split's features and targets."""
from __future__ import annotations

import torch
from torch import nn

from trainables.mlp import build_mlp, layer_widths
from trainables.tabular_data import TabularData


def build_tabular_mlp(config: dict, data: TabularData, n_outputs: int) -> nn.Module:
    return build_mlp(data.n_features, n_outputs, layer_widths(config),
                     activation=config.get("activation", "ReLU"), dropout=float(config.get("dropout", 0.0)))


def split(data: TabularData, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The features and targets of the 'train', 'val' or 'test' split."""
    return getattr(data, f"x_{name}"), getattr(data, f"y_{name}")
