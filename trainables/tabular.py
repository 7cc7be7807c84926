"""What the three MLP tasks share: building the MLP from a config, a split's features and targets, and
the class weights of the classification losses."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trainables.mlp import build_mlp, layer_widths
from trainables.tabular_data import TabularData


def build_tabular_mlp(config: dict, data: TabularData, n_outputs: int) -> nn.Module:
    return build_mlp(data.n_features, n_outputs, layer_widths(config),
                     activation=config.get("activation", "ReLU"), dropout=float(config.get("dropout", 0.0)),
                     norm=config.get("norm", "none"))


def split(data: TabularData, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The features and targets of the 'train', 'val' or 'test' split."""
    return getattr(data, f"x_{name}"), getattr(data, f"y_{name}")


def class_weights(config: dict, data: TabularData) -> torch.Tensor | None:
    """The config's `class_weight`: None (every row counts the same) or "balanced" (scikit-learn's: each
    class weighs n_rows / (n_classes * its rows) of the training split), on the data's device."""
    if config.get("class_weight", "none") == "none":
        return None
    from sklearn.utils.class_weight import compute_class_weight

    labels = data.y_train.cpu().numpy()
    present = np.unique(labels)
    weights = np.ones(len(data.classes))
    weights[present] = compute_class_weight("balanced", classes=present, y=labels)
    return torch.tensor(weights, dtype=torch.float32, device=data.y_train.device)
