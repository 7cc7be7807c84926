"""What the three MLP tasks share: building the MLP from a config and the train function."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from trainables.folds import fold_datas
from trainables.loop import Member, fit, in_memory, prepare_trial
from trainables.mlp import build_mlp, layer_widths
from trainables.tabular_data import TabularData


def build_tabular_mlp(config: dict, data: TabularData, n_outputs: int) -> nn.Module:
    return build_mlp(data.n_features, n_outputs, layer_widths(config),
                     activation=config.get("activation", "ReLU"), dropout=float(config.get("dropout", 0.0)))


def split(data: TabularData, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The features and targets of the 'train', 'val' or 'test' split."""
    return getattr(data, f"x_{name}"), getattr(data, f"y_{name}")


def evaluate_with(outputs: Callable, score: Callable):
    """A task's evaluate from its outputs (probabilities or predictions) and its score of them."""
    @torch.inference_mode()
    def evaluate(model: nn.Module, data, split_name: str) -> dict:
        return score(split_name, outputs(model, data, split_name), data)
    return evaluate


def make_train(build_model: Callable[[dict, TabularData], nn.Module],
               make_loss: Callable[[dict], nn.Module],
               evaluate: Callable[[nn.Module, TabularData, str], dict]):
    """A task's train function: seed, build, optimise with the shared loop (a model per fold under --cv)."""
    def train(config: dict, data, io) -> None:
        members = []
        for fold in fold_datas(data):
            model, fold, optimizer = prepare_trial(build_model, config, fold, io)
            members.append(Member(model, optimizer, in_memory(fold.x_train, fold.y_train, int(config["batch_size"])),
                                  lambda m, fold=fold: evaluate(m, fold, "val")))
        fit(members, make_loss(config), config=config, io=io)
    return train
