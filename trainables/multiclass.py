"""multiclass: classification with an MLP whose logits go straight into CrossEntropy (no softmax).

Default data: scikit-learn's iris set (150 rows, 4 features, 3 classes); or a CSV with --data/--target.
"""
import torch
from torch import nn

from trainables import baselines
from trainables.metrics import CLASSIFICATION_METRICS, classification_scores
from trainables.tabular import build_tabular_mlp, make_train, split
from trainables.tabular_data import TabularData, load_tabular, sklearn_builtin
from trainables.tabular_serving import make_predictor, read_raw
from trainables.task import DataRequest, Task


def load_data(request: DataRequest) -> TabularData:
    return load_tabular(builtin=sklearn_builtin("load_iris"), data=request.data,
                        target=request.target, seed=request.seed, min_classes=2)


def build_model(config: dict, data: TabularData) -> nn.Module:
    return build_tabular_mlp(config, data, n_outputs=len(data.classes))


def make_loss(config: dict) -> nn.Module:
    return nn.CrossEntropyLoss()


@torch.inference_mode()
def evaluate(model: nn.Module, data: TabularData, split_name: str) -> dict:
    model.eval()
    x, y = split(data, split_name)
    return classification_scores(split_name, y.cpu().numpy(), torch.softmax(model(x).float(), 1).cpu().numpy())


TASK = Task(name="multiclass", default_data="scikit-learn iris (150 rows, 4 features, 3 classes)",
            metrics=CLASSIFICATION_METRICS, load_data=load_data, build_model=build_model,
            train=make_train(build_model, make_loss, evaluate), evaluate=evaluate,
            make_predictor=make_predictor, read_raw=read_raw, baselines=baselines.tabular)
