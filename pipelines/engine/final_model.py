"""The sweep's final model, chosen on validation, never on test, among:

- best: the weights of the best trial's best epoch;
- refit: the best config trained again on train+val for the epochs its trial found best. Its validation
  score is its trial's (the same config with more rows): it wins a tie with `best`;
- ensemble: the K best trials' models averaged (probabilities, or predicted values), scored on validation.

Every candidate is scored on test as well, for the record; only validation picks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pipelines.engine.results import checkpointed_best_val_loss
from trainables.ensemble import EnsemblePredictor
from trainables.reporting import MemoryIO, load_state

PREFERENCE = ("refit", "best", "ensemble")   # on equal validation scores, the first of these wins


@dataclass
class Candidate:
    kind: str                    # best, refit or ensemble
    members: list                # (model, data) pairs: each model with the data (scalers) it was trained on
    config: dict                 # the config of the best trial (of the ensemble's first member)
    estimate: float              # the objective on validation that the choice compares
    metrics: dict = field(default_factory=dict)   # val_* (where not trained on) and test_*


def trial_model(task, result, data):
    """The best epoch's weights of a trial, from its last checkpoint."""
    with result.checkpoint.as_directory() as folder:
        state = load_state(folder)
    model = task.build_model(result.config, data)
    model.load_state_dict(state["best_model"])
    return model


def scores_of(task, members: list, split: str, data) -> dict:
    """The metrics of the members' averaged outputs on a split; of the one model's where there is one."""
    if len(members) == 1:
        model, member_data = members[0]
        return task.evaluate(model, member_data, split)
    outputs = np.mean([task.outputs(model, member_data, split) for model, member_data in members], axis=0)
    return task.score(split, outputs, data)


def refit(task, result, data):
    """The trial's config trained on train+val for its best epoch count, no early end; its last weights."""
    epochs = int(result.metrics.get("best_epoch") or result.config["epochs"])
    config = {**result.config, "epochs": epochs, "patience": epochs}
    merged = task.merge_validation(data)
    io = MemoryIO()
    task.train(config, merged, io)
    model = task.build_model(config, merged)
    model.load_state_dict(io.state["model"])
    return model, merged


def candidates(task, ranked: list, data, ensemble: int) -> list[Candidate]:
    """The candidates from the trial results, best first (`ranked`), for a top-`ensemble` ensemble."""
    best = ranked[0]
    sign = 1.0 if task.mode == "min" else -1.0
    best_model = trial_model(task, best, data)
    found = [Candidate("best", [(best_model, data)], best.config, checkpointed_best_val_loss(best),
                       {**task.evaluate(best_model, data, "val"), **task.evaluate(best_model, data, "test")})]
    if task.merge_validation is not None:
        model, merged = refit(task, best, data)
        found.append(Candidate("refit", [(model, merged)], best.config, found[0].estimate,
                               task.evaluate(model, merged, "test")))
    if task.outputs is not None and min(ensemble, len(ranked)) >= 2:
        members = [(best_model, data)] + [(trial_model(task, r, data), data) for r in ranked[1:ensemble]]
        metrics = {**scores_of(task, members, "val", data), **scores_of(task, members, "test", data)}
        found.append(Candidate("ensemble", members, best.config, metrics[task.metric], metrics))
    # The objective's direction: a lower estimate is better after the sign.
    for candidate in found:
        candidate.estimate = sign * candidate.estimate if math.isfinite(candidate.estimate) else math.inf
    return found


def choose(found: list[Candidate]) -> Candidate:
    return min(found, key=lambda c: (c.estimate, PREFERENCE.index(c.kind)))


def predictor_of(task, candidate: Candidate):
    """What serves the candidate: the task's predictor of its model, or of each member, averaged."""
    predictors = [task.make_predictor(model, member_data, candidate.config) for model, member_data in candidate.members]
    return predictors[0] if len(predictors) == 1 else EnsemblePredictor(predictors)
