"""The short form of a task: supervised learning on rows of features, with the user's own model.

table_task() takes what is the user's (how to load the rows, how to build the model, classification or
regression, the model's search space) and brings the rest, as for the built-in tabular tasks: the splits and
cross-validation, preprocessing (scaling, encoders, empty cells), the epoch loop with patience and
checkpoints, the metrics, the untuned baselines, the final model's refit and ensemble, and serving.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from torch import nn

from pipelines.errors import DataError
from search_spaces.mlp import training_params
from search_spaces.space import Space
from trainables import baselines, multiclass, regression
from trainables.folds import DEFAULT_FOLDS
from trainables.loop import evaluate_with, make_train
from trainables.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS
from trainables.tabular_data import TabularData, cross_validation_folds, load_tabular, merge_validation
from trainables.tabular_serving import make_predictor, read_raw
from trainables.task import DataRequest, Task

KINDS = {"classification": (multiclass, CLASSIFICATION_METRICS), "regression": (regression, REGRESSION_METRICS)}


def rows_of(loaded, name: str) -> tuple[pd.DataFrame, np.ndarray, str, str]:
    """What a user's load() gave, as (features, target, target name, source): (DataFrame, "column"),
    (DataFrame, Series or array), or (2-D array, 1-D array)."""
    if not isinstance(loaded, tuple) or len(loaded) != 2:
        raise DataError(f"The {name} task's load() must return (features, target), got {type(loaded).__name__}.")
    x, y = loaded
    if isinstance(x, pd.DataFrame) and isinstance(y, str):
        if y not in x.columns:
            raise DataError(f"The {name} task's load() names the target {y!r}, which is not a column of its table.")
        x, y = x.drop(columns=[y]), x[y]
    target = str(getattr(y, "name", None) or "target")
    if not isinstance(x, pd.DataFrame):
        x = np.asarray(x)
        if x.ndim != 2:
            raise DataError(f"The {name} task's load() must give 2-D features (rows, columns), got shape {x.shape}.")
        x = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"The {name} task's load() must give one target per row: {len(x)} rows, "
                        f"target of shape {y.shape}.")
    return x.rename(columns=str), y, target, f"{name}:load"


class _DrawnFirst:
    """A Space that answers with the user's value for a param their space already drew."""

    def __init__(self, space: Space, drawn: dict):
        self.space, self.drawn = space, drawn

    def __getattr__(self, kind):  # int, float, categorical
        def suggest(name, *args, **kwargs):
            return self.drawn[name] if name in self.drawn else getattr(self.space, kind)(name, *args, **kwargs)
        return suggest


def with_training_params(model_space: Callable[[Space], dict]) -> Callable[[Space], dict]:
    """The user's space and the training params every task searches (batch size, epochs, lr, optimizer, lr
    schedule, weight decay), each at the tool's default range unless the user's space gives it."""
    def define(space: Space) -> dict:
        config = dict(model_space(space))
        drawn = _DrawnFirst(space, config)
        training = training_params(drawn)
        training["weight_decay"] = drawn.float("weight_decay", 1e-6, 1e-2, default=1e-4, log=True, minimum=0.0)
        return {**training, **config}
    return define


def table_task(name: str, *, load: Callable[[DataRequest], tuple], build_model: Callable[[dict, int, int], nn.Module],
               kind: str, space: Callable[[Space], dict], first_trial: dict | None = None,
               description: str = "") -> Task:
    """A Task from the user's parts:
    load(request) -> (features, target): a DataFrame and its target column's name, or features and targets
      (DataFrame or 2-D array, and a 1-D array); `hpo run FILE --data t.csv --target y` reads a table instead;
    build_model(config, n_inputs, n_outputs) -> nn.Module mapping (batch, n_inputs) to (batch, n_outputs):
      logits of each class for classification, one value for regression;
    kind: "classification" or "regression";
    space(space) -> dict: the model's params drawn from an hpo.Space (space.int, space.float, space.categorical);
      the training params are added unless it draws them itself."""
    if kind not in KINDS:
        raise ValueError(f"table_task's kind must be one of {', '.join(KINDS)}, got {kind!r}.")
    losses, metrics = KINDS[kind]
    classes = 2 if kind == "classification" else None

    def load_data(request: DataRequest) -> TabularData:
        return load_tabular(builtin=lambda: rows_of(load(request), name), data=request.data, target=request.target,
                            seed=request.seed, drop=request.drop, min_classes=classes)

    def build(config: dict, data: TabularData) -> nn.Module:
        model = build_model(config, data.n_features, len(data.classes) if classes else 1)
        if not isinstance(model, nn.Module):
            raise TypeError(f"build_model must return a torch nn.Module, got {type(model).__name__}")
        return model

    evaluate = evaluate_with(losses.outputs, losses.score)
    return Task(name=name, default_data=description or f"{name}'s load()", metrics=metrics, load_data=load_data,
                build_model=build, train=make_train(build, losses.make_loss, evaluate), evaluate=evaluate,
                make_predictor=make_predictor, read_raw=read_raw, baselines=baselines.tabular,
                outputs=losses.outputs, score=losses.score, merge_validation=merge_validation,
                cross_validate=cross_validation_folds, default_folds=DEFAULT_FOLDS,
                space=with_training_params(space), first_trial=first_trial)
