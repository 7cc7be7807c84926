"""binary: two-class classification with an MLP on logits and BCEWithLogits.

Default data: scikit-learn's breast cancer set (569 rows, 30 features); or a CSV with --data/--target.
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
    return load_tabular(builtin=sklearn_builtin("load_breast_cancer"), data=request.data,
                        target=request.target, seed=request.seed, min_classes=2, max_classes=2)


def build_model(config: dict, data: TabularData) -> nn.Module:
    return build_tabular_mlp(config, data, n_outputs=1)  # one logit: the log-odds of class 1


def make_loss(config: dict) -> nn.Module:
    loss = nn.BCEWithLogitsLoss()
    return lambda logits, y: loss(logits.squeeze(-1), y.float())


@torch.inference_mode()
def evaluate(model: nn.Module, data: TabularData, split_name: str) -> dict:
    model.eval()
    x, y = split(data, split_name)
    positive = torch.sigmoid(model(x).squeeze(-1).float())
    return classification_scores(split_name, y.cpu().numpy(), torch.stack([1 - positive, positive], 1).cpu().numpy())


TASK = Task(name="binary", default_data="scikit-learn breast cancer (569 rows, 30 features)",
            metrics=CLASSIFICATION_METRICS, load_data=load_data, build_model=build_model,
            train=make_train(build_model, make_loss, evaluate), evaluate=evaluate,
            make_predictor=make_predictor, read_raw=read_raw, baselines=baselines.tabular)
