"""regression: an MLP predicting a standardised target, trained with MSE or L1.

Default data: scikit-learn's diabetes set (442 rows, 10 features). `--dataset california_housing`
uses scikit-learn's California housing loader (downloads, or reads the cache in --data-dir); a CSV
comes with --data/--target.

`val_loss` is always the MSE on the standardised target, whichever training loss a trial uses, so
that trials stay comparable; `val_rmse` and `val_mae` are in the target's own units and `val_r2` is R^2.
"""
import numpy as np
import pandas as pd
import torch
from torch import nn

from pipelines.errors import DataError
from trainables import baselines
from trainables.catalog import card
from trainables.folds import DEFAULT_FOLDS
from trainables.loop import evaluate_with, make_train
from trainables.metrics import regression_scores
from trainables.tabular import build_tabular_mlp, split
from trainables.tabular_data import TabularData, cross_validation_folds, load_tabular, merge_validation, sklearn_builtin
from trainables.tabular_serving import make_predictor, read_raw
from trainables.task import DataRequest, Task

LOSSES = {"MSE": nn.MSELoss, "L1": nn.L1Loss}
DATASETS = ("diabetes", "california_housing")


def california_housing(data_dir: str | None):
    """A `builtin` reading scikit-learn's California housing (cached in data_dir, or downloaded)."""
    def load():
        from sklearn.datasets import fetch_california_housing

        try:
            bunch = fetch_california_housing(data_home=data_dir, download_if_missing=True, n_retries=1)
        except OSError as exc:  # URLError is an OSError: no network and no cache
            where = data_dir or "scikit-learn's data home (~/scikit_learn_data)"
            raise DataError(f"California housing is not cached in {where} and cannot be downloaded "
                            f"({exc}); place cal_housing_py3.pkz there or pass --data-dir.") from None
        x = pd.DataFrame(bunch.data.astype(np.float64), columns=list(bunch.feature_names))
        return x, bunch.target, "MedHouseVal", "sklearn:fetch_california_housing"
    return load


def load_data(request: DataRequest) -> TabularData:
    dataset = request.dataset or "diabetes"
    if dataset not in DATASETS:
        raise DataError(f"The --dataset of regression must be one of {', '.join(DATASETS)}, got {dataset!r}.")
    builtin = sklearn_builtin("load_diabetes") if dataset == "diabetes" else california_housing(request.data_dir)
    return load_tabular(builtin=builtin, data=request.data, target=request.target, seed=request.seed,
                        min_classes=None, drop=request.drop)


def build_model(config: dict, data: TabularData) -> nn.Module:
    return build_tabular_mlp(config, data, n_outputs=1)


def make_loss(config: dict, data: TabularData) -> nn.Module:
    loss = LOSSES[config.get("loss", "MSE")]()
    return lambda prediction, y: loss(prediction.squeeze(-1), y)


@torch.inference_mode()
def outputs(model: nn.Module, data: TabularData, split_name: str) -> np.ndarray:
    """The predictions, on the standardised target's scale."""
    model.eval()
    return model(split(data, split_name)[0]).squeeze(-1).float().cpu().numpy()


def score(split_name: str, predictions: np.ndarray, data: TabularData) -> dict:
    return regression_scores(split_name, split(data, split_name)[1].cpu().numpy(), predictions, data.y_std)


evaluate = evaluate_with(outputs, score)


TASK = Task(**card("regression"), load_data=load_data, build_model=build_model,
            train=make_train(build_model, make_loss, evaluate), evaluate=evaluate,
            make_predictor=make_predictor, read_raw=read_raw, baselines=baselines.tabular,
            outputs=outputs, score=score, merge_validation=merge_validation,
            cross_validate=cross_validation_folds, default_folds=DEFAULT_FOLDS)
