"""The epoch loop every task shares: train, validate, stop on patience, report with a checkpoint.

A trial trains one model, or under K-fold cross-validation one per fold, in lockstep: each epoch trains
every fold's model once and reports the mean of their validation metrics."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn

from trainables.device import Precision, on_device
from trainables.folds import fold_datas
from trainables.lr_schedules import LrSchedule
from trainables.optimizers import make_optimizer

# Epochs without an improvement of the objective before a trial ends itself: regularised MLPs on small
# tables improve slowly and noisily (measured in docs/benchmarks.md, "Quality").
PATIENCE = 10
MIN_IMPROVEMENT = 1e-4  # a smaller gain in the objective does not count as an improvement


def shuffled_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator,
                     skip_single_row: bool = False):
    """One pass over (x, y) in shuffled mini-batches sliced from memory (no DataLoader). With
    `skip_single_row` (batch norm, which cannot train on one row) a last batch of one row is left out of
    the pass; the shuffle picks it anew each epoch."""
    order = torch.randperm(len(x), generator=generator).to(x.device)
    x, y = x[order], y[order]  # one gather per epoch; batches below are views
    for start in range(0, len(x), batch_size):
        if skip_single_row and start and len(x) - start == 1:
            return
        yield x[start:start + batch_size], y[start:start + batch_size]


def l1_penalty(model: nn.Module, weight: float) -> Callable[[], torch.Tensor] | None:
    """The L1 penalty of a config's `l1`: weight x the sum of |w| over the model's weight matrices (not its
    biases or norms); None for 0."""
    if not weight:
        return None
    matrices = [p for p in model.parameters() if p.dim() > 1]
    return lambda: weight * torch.stack([m.abs().sum() for m in matrices]).sum()


def train_steps(model: nn.Module, optimizer, loss_fn, batches: Iterable, precision: Precision,
                penalty: Callable[[], torch.Tensor] | None = None, clip: float | None = None) -> float:
    """One epoch made of the (x, y) batches a batch source yields; returns the mean loss per row (without the
    penalty, which is added to what is minimised; `clip` caps the gradients' norm)."""
    model.train()
    # A step of a small model is all per-op overhead: the loop adds no tensor op of its own per step
    # (batch losses are kept and weighted once at the end, with no .item() sync per batch).
    losses, sizes = [], []
    for xb, yb in batches:
        optimizer.zero_grad()
        with precision.autocast():
            loss = loss_fn(model(xb), yb)
        precision.backward_step(loss if penalty is None else loss + penalty(), optimizer, clip)
        losses.append(loss.detach())
        sizes.append(len(xb))
    weights = torch.tensor(sizes, dtype=torch.float32, device=losses[0].device)
    return float(torch.stack(losses).float() @ weights) / sum(sizes)


def prepare_trial(build_model: Callable[[dict, Any], nn.Module], config: dict, data, io):
    """The start every task's trial shares: seeded weights, the model and the data on the trial's device
    (once), and the optimizer built after that move (fused kernels step parameters where they are).
    Returns (model, data on the device, optimizer)."""
    torch.manual_seed(int(config.get("seed", 0)))
    model = build_model(config, data).to(io.device.torch)
    data = on_device(data, io.device)
    optimizer = make_optimizer(model, config["optimizer"], float(config["lr"]),
                               float(config.get("weight_decay", 0.0)))
    return model, data, optimizer


@dataclass
class Member:
    """One model a trial trains (one per fold under cross-validation), with what trains and validates it."""
    model: nn.Module
    optimizer: Any
    batches: Callable[[torch.Generator], Iterable]   # one epoch's (x, y) batches, shuffled by the generator
    validate: Callable[[nn.Module], dict]             # the val_* metrics of the model
    penalty: Callable[[], torch.Tensor] | None = None  # added to each step's loss (l1_penalty)
    clip: float | None = None                         # the gradients' norm is capped at this (grad_clip)


def in_memory(x: torch.Tensor, y: torch.Tensor, batch_size: int,
              skip_single_row: bool = False) -> Callable[[torch.Generator], Iterable]:
    """An epoch as a shuffled pass over in-memory (x, y)."""
    return lambda generator: shuffled_batches(x, y, batch_size, generator, skip_single_row)


def clone_state(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def checkpoint_state(members: list[Member], generator, progress: dict, best_models: list | None,
                     schedules: list | None = None) -> dict:
    """Everything needed to continue a trial, and the weights of each model at its best epoch so far."""
    return {"models": [m.model.state_dict() for m in members],
            "optimizers": [m.optimizer.state_dict() for m in members],
            "schedules": [s.state_dict() for s in schedules or []],
            "generator": generator.get_state(), "progress": dict(progress),
            "best_models": best_models if best_models is not None else [clone_state(m.model) for m in members]}


def mean_metrics(scores: list[dict]) -> dict:
    """The members' metrics averaged; with more than one member, val_loss_std too (their spread)."""
    if len(scores) == 1:
        return dict(scores[0])
    metrics = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
    metrics["val_loss_std"] = float(np.std([s["val_loss"] for s in scores]))
    return metrics


def best_of(metrics: dict) -> dict:
    """best_<metric> for each validation metric of an epoch: what a trial reports of its best epoch."""
    return {f"best_{k}": v for k, v in metrics.items() if k.startswith("val_")}


def fit(members: list[Member], loss_fn, *, config: dict, io) -> None:
    """Train for config['epochs'] epochs, ending early after config['patience'] (default PATIENCE) epochs
    without improvement of the objective (`io.objective`, val_loss by default; the members' mean).

    Each epoch reports `epoch`, `train_loss`, the validation metrics, the best epoch so far by the
    objective (`best_epoch`) with its validation metrics as `best_<metric>` (best_val_loss, best_val_acc...),
    and `final` (True on the last report of a trial that ends by itself), with a checkpoint of everything
    needed to continue and the weights of the best epoch so far (`best_models`, one per member). A trial
    whose loss becomes NaN or infinite ends at once, its last report saying why in `diverged`. It trains on
    `io.device`, with the mixed precision that device supports; the task has put the models and their data
    there before building the optimizers (prepare_trial).
    """
    objective = io.objective
    precisions = [Precision(io.device) for _ in members]
    epochs = int(config["epochs"])
    patience = int(config.get("patience", PATIENCE))
    generator = torch.Generator().manual_seed(int(config.get("seed", 0)))
    # best_score: the objective at the best epoch, lower is better (Objective.loss)
    progress = {"epoch": 0, "best_score": math.inf, "best": {}, "best_epoch": 0, "bad_epochs": 0}
    best_models = None
    schedules = [LrSchedule(m.optimizer, config, objective.mode) for m in members]
    saved = io.restore()
    if saved is not None:
        for member, model_state, optimizer_state in zip(members, saved["models"], saved["optimizers"]):
            member.model.load_state_dict(model_state)
            member.optimizer.load_state_dict(optimizer_state)
        for schedule, state in zip(schedules, saved.get("schedules", [])):
            schedule.load_state_dict(state)
        generator.set_state(saved["generator"])
        progress, best_models = saved["progress"], saved["best_models"]
        if "best_score" not in progress:  # saved before --metric: the objective was val_loss
            progress["best_score"] = progress.get("best_val_loss", math.inf)
            progress["best"] = {"best_val_loss": progress["best_score"]}
        if progress.get("last_report", {}).get("final"):
            # It had ended, but the sweep stopped before that was recorded: say so again.
            io.report(progress["last_report"], saved)
            return

    for epoch in range(progress["epoch"] + 1, epochs + 1):
        train_loss = float(np.mean([train_steps(m.model, m.optimizer, loss_fn, m.batches(generator), precision,
                                                m.penalty, m.clip) for m, precision in zip(members, precisions)]))
        scores = [m.validate(m.model) for m in members]
        metrics = mean_metrics(scores)
        diverged = [f"{name} became {value}" for name, value in (("train_loss", train_loss),
                                                                 ("val_loss", metrics["val_loss"]))
                    if not math.isfinite(value)]
        if diverged:
            # Retrying would diverge again: end now, with a last report that says why. The objective's
            # epoch value is its worst so that schedulers and searchers can rank the trial; its best
            # (the worst too before any best epoch) is the best epoch's.
            progress["last_report"] = {
                "epoch": epoch, "train_loss": math.inf, "val_loss": math.inf, objective.metric: objective.worst,
                objective.best: objective.worst, **progress["best"], "final": True,
                "diverged": f"{', '.join(diverged)} at epoch {epoch} "
                            f"(lr={config.get('lr')}, optimizer={config.get('optimizer')})"}
            io.report(progress["last_report"], checkpoint_state(members, generator, progress, best_models, schedules))
            return
        for schedule, member_scores in zip(schedules, scores):  # each model's lr follows its own validation
            schedule.epoch_end(member_scores[objective.metric])
        # Patience counts epochs without a real improvement; the best weights follow any improvement. An
        # undefined objective (AUC of a fold without one class, say) is the worst; the first epoch is
        # best until one is better, so a trial always reports best_* metrics.
        value = metrics[objective.metric]
        score = objective.loss(value) if math.isfinite(value) else math.inf
        improved = score < progress["best_score"] - MIN_IMPROVEMENT
        progress["bad_epochs"] = 0 if improved else progress["bad_epochs"] + 1
        if score < progress["best_score"] or not progress["best"]:
            progress["best_score"], progress["best"], progress["best_epoch"] = score, best_of(metrics), epoch
            best_models = [clone_state(m.model) for m in members]
        progress["epoch"] = epoch
        final = epoch == epochs or progress["bad_epochs"] >= patience
        progress["last_report"] = {"epoch": epoch, "train_loss": train_loss, **metrics, **progress["best"],
                                   "best_epoch": progress["best_epoch"], "final": final}
        io.report(progress["last_report"], checkpoint_state(members, generator, progress, best_models, schedules))
        if final:
            return


def evaluate_with(outputs: Callable, score: Callable):
    """A task's evaluate from its outputs (probabilities or predictions) and its score of them."""
    @torch.inference_mode()
    def evaluate(model: nn.Module, data, split_name: str) -> dict:
        return score(split_name, outputs(model, data, split_name), data)
    return evaluate


def make_train(build_model: Callable[[dict, Any], nn.Module], make_loss: Callable[[dict, Any], Any],
               evaluate: Callable[[nn.Module, Any, str], dict]):
    """A task's train function on in-memory (x_train, y_train): seed, build, optimise with the loop, a
    model per fold under --cv. make_loss(config, data) gets a fold's data on the trial's device (class
    weights come from its training labels: stratified folds share their class shares)."""
    def train(config: dict, data, io) -> None:
        members = []
        for fold in fold_datas(data):
            model, fold, optimizer = prepare_trial(build_model, config, fold, io)
            batches = in_memory(fold.x_train, fold.y_train, int(config["batch_size"]),
                                skip_single_row=config.get("norm") == "batch")
            members.append(Member(model, optimizer, batches,
                                  lambda m, fold=fold: evaluate(m, fold, "val"),
                                  penalty=l1_penalty(model, float(config.get("l1", 0.0)))))
        fit(members, make_loss(config, fold), config=config, io=io)
    return train
