"""The sweep's final model, chosen on validation, never on test, among:

- best: the best trial's weights at its best epoch (under --cv, its K fold models averaged);
- refit: the best config trained again on all of train+val for the epochs its trial found best. Its
  validation score is its trial's (the same config on more rows): it wins a tie with `best`;
- ensemble: the K best trials' models averaged (probabilities, or predicted values). Under --cv it is
  scored fold by fold on the rows each fold's models did not train on, like a trial.

Every candidate is scored on test too, for the record; only validation picks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from pipelines.engine.results import checkpointed_best
from trainables import device as devices
from trainables.ensemble import EnsemblePredictor
from trainables.folds import fold_datas, whole
from trainables.metrics import Objective
from trainables.reporting import MemoryIO, load_state

PREFERENCE = ("refit", "best", "ensemble")   # on equal validation scores, the first of these wins


@dataclass
class Candidate:
    kind: str                    # best, refit or ensemble
    models: list                 # per trial, its (model, data) per fold: each model with the data (scalers) it trained on
    config: dict                 # the best trial's config
    estimate: float              # the objective on validation that the choice compares, lower is better
                                 # (Objective.loss)
    metrics: dict = field(default_factory=dict)   # val_* (where it did not train on them) and test_*


def trial_models(task, result, data) -> list:
    """A trial's (model, fold data) pairs at its best epoch, from its last checkpoint."""
    with result.checkpoint.as_directory() as folder:
        state = load_state(folder)
    pairs = []
    for weights, fold in zip(state["best_models"], fold_datas(data)):
        model = task.build_model(result.config, fold)
        model.load_state_dict(weights)
        pairs.append((model, fold))
    return pairs


def averaged(task, pairs: list, split: str, data) -> dict:
    """The metrics of the pairs' averaged outputs on a split of `data`; of the one model's where there is one."""
    if len(pairs) == 1:
        return task.evaluate(*pairs[0], split)
    return task.score(split, np.mean([task.outputs(model, fold, split) for model, fold in pairs], axis=0), data)


def scores(task, trials: list, data) -> dict:
    """val_* as the trials were scored (per fold, on the rows it did not train on, then the mean), and test_*
    of every model averaged."""
    per_fold = [averaged(task, [models[i] for models in trials], "val", fold)
                for i, fold in enumerate(fold_datas(data))]
    val = {k: float(np.mean([s[k] for s in per_fold])) for k in per_fold[0]}
    return {**val, **averaged(task, [pair for models in trials for pair in models], "test", whole(data))}


def refit(task, result, data) -> list:
    """The trial's config trained on train+val for its best epoch count, no early end; its last weights."""
    epochs = int(result.metrics.get("best_epoch") or result.config["epochs"])
    # Its lr schedule as long as the trial's (the trial's best epoch lay that far along it).
    config = {**result.config, "epochs": epochs, "patience": epochs,
              "schedule_epochs": result.config.get("schedule_epochs", result.config["epochs"])}
    merged = task.merge_validation(whole(data))
    # On the driver's GPU where it has one (an image set's refit is a whole training).
    io = MemoryIO(device=devices.choose([0] if torch.cuda.is_available() else []))
    task.train(config, merged, io)
    model = task.build_model(config, merged)
    model.load_state_dict(io.state["models"][0])
    return [(model, merged)]


def candidates(task, ranked: list, data, ensemble: int, objective: Objective) -> list[Candidate]:
    """The candidates from the trial results, best first (`ranked`), with a top-`ensemble` ensemble."""
    best = ranked[0]
    best_models = trial_models(task, best, data)
    found = [Candidate("best", [best_models], best.config, checkpointed_best(best, objective),
                       scores(task, [best_models], data))]
    if task.merge_validation is not None:
        models = refit(task, best, data)
        found.append(Candidate("refit", [models], best.config, found[0].estimate,
                               task.evaluate(*models[0], "test")))
    if task.outputs is not None and min(ensemble, len(ranked)) >= 2:
        trials = [best_models] + [trial_models(task, r, data) for r in ranked[1:ensemble]]
        metrics = scores(task, trials, data)
        found.append(Candidate("ensemble", trials, best.config, metrics[objective.metric], metrics))
    for candidate in found:
        candidate.estimate = objective.loss(candidate.estimate) if math.isfinite(candidate.estimate) else math.inf
    return found


def choose(found: list[Candidate]) -> Candidate:
    return min(found, key=lambda c: (c.estimate, PREFERENCE.index(c.kind)))


def predictor_of(task, candidate: Candidate):
    """What serves the candidate: the task's predictor of its one model, or of each model, averaged."""
    predictors = [task.make_predictor(model, fold, candidate.config)
                  for models in candidate.models for model, fold in models]
    return predictors[0] if len(predictors) == 1 else EnsemblePredictor(predictors)
