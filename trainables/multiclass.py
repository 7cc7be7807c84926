"""multiclass: classification with an MLP whose logits go straight into CrossEntropy (no softmax).

Default data: scikit-learn's iris set (150 rows, 4 features, 3 classes); or a CSV with --data/--target.
"""
import numpy as np
import torch
from torch import nn

from trainables import baselines
from trainables.catalog import card
from trainables.folds import DEFAULT_FOLDS
from trainables.loop import evaluate_with, make_train
from trainables.metrics import classification_scores
from trainables.tabular import build_tabular_mlp, class_weights, split
from trainables.tabular_data import TabularData, cross_validation_folds, load_tabular, merge_validation, sklearn_builtin
from trainables.tabular_serving import make_predictor, read_raw
from trainables.task import DataRequest, Task


def load_data(request: DataRequest) -> TabularData:
    return load_tabular(builtin=sklearn_builtin("load_iris"), data=request.data,
                        target=request.target, seed=request.seed, drop=request.drop, min_classes=2)


def build_model(config: dict, data: TabularData) -> nn.Module:
    return build_tabular_mlp(config, data, n_outputs=len(data.classes))


def make_loss(config: dict, data: TabularData) -> nn.Module:
    return nn.CrossEntropyLoss(weight=class_weights(config, data))


@torch.inference_mode()
def outputs(model: nn.Module, data: TabularData, split_name: str) -> np.ndarray:
    """The probabilities of the classes."""
    model.eval()
    return torch.softmax(model(split(data, split_name)[0]).float(), 1).cpu().numpy()


def score(split_name: str, probabilities: np.ndarray, data: TabularData) -> dict:
    return classification_scores(split_name, split(data, split_name)[1].cpu().numpy(), probabilities)


evaluate = evaluate_with(outputs, score)


TASK = Task(**card("multiclass"), load_data=load_data, build_model=build_model,
            train=make_train(build_model, make_loss, evaluate), evaluate=evaluate,
            make_predictor=make_predictor, read_raw=read_raw, baselines=baselines.tabular,
            outputs=outputs, score=score, merge_validation=merge_validation,
            cross_validate=cross_validation_folds, default_folds=DEFAULT_FOLDS)
