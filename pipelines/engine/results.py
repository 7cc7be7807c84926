"""A sweep's results as the driver reads them from Ray Tune: one record per trial, and the best trial."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.engine.outcomes import last_line, outcome_of
from trainables.metrics import Objective
from trainables.reporting import STATE_FILE


@dataclass(frozen=True)
class TrialRecord:
    number: int | None       # Optuna's trial number
    trial_id: str            # Ray Tune's trial id
    status: str              # completed, early_stopped, failed or interrupted
    error: str | None
    epochs: int
    best: float              # the objective's value at the trial's best epoch (best_val_loss by default)
    metrics: dict            # the task's metrics at the trial's best epoch (at its last report if none)
    config: dict


@dataclass
class SweepOutcome:
    """What a sweep ended with; filled in as it ends."""
    name: str
    task: str
    sweep_dir: Path
    tracking_uri: str
    parent_run_id: str
    experiment_id: str
    trials: list[TrialRecord] = field(default_factory=list)
    objective: Objective = Objective()
    best: TrialRecord | None = None
    best_metrics: dict = field(default_factory=dict)   # of the best trial's best weights: val and test
    baselines: dict = field(default_factory=dict)      # baseline_<metric> of untuned models on the same test rows
    final_model: str = ""                              # which model the sweep hands back: best, refit or ensemble
    seconds: float = 0.0
    interrupted: bool = False                          # ended by Ctrl-C; `hpo resume` continues it
    without_weights: list = field(default_factory=list)  # trials whose checkpoint was deleted: no candidates
    unsaved: list[TrialRecord] = field(default_factory=list)  # ended after Tune's last save before a crash
    model_params: tuple = ()                           # a task of the user's: its own params, shown in the table


def collect_trials(results, number_of, metric_names, objective: Objective = Objective()) -> list[TrialRecord]:
    """One record per trial that started, from Tune's ResultGrid (or any iterable of its Results)."""
    records = []
    for result in results:
        metrics = result.metrics or {}
        if not metrics and result.error is None:
            continue  # never started: the sweep ended first
        # A trial that failed before its first report has no metrics; its folder ends in its id.
        trial_id = metrics.get("trial_id") or Path(result.path or "").name.rsplit("_", 1)[-1]
        error = last_line(str(result.error)) if result.error else metrics.get("diverged")
        records.append(TrialRecord(
            number=number_of(trial_id), trial_id=trial_id, status=outcome_of(metrics, result.error is not None),
            error=error, epochs=int(metrics.get("epoch", 0)),
            best=float(metrics.get(objective.best, math.nan)),
            metrics={m: metrics.get(f"best_{m}", metrics.get(m)) for m in metric_names
                     if m in metrics or f"best_{m}" in metrics},
            config=result.config or {}))
    return records


def checkpointed_best(result, objective: Objective) -> float:
    """A trial's best value of the objective as of its last checkpoint: the best weights the driver can
    load. A trial the time budget cut short may have reported better epochs since (trials checkpoint
    every 30 s)."""
    for checkpoint, metrics in result.best_checkpoints or []:
        if checkpoint.path == result.checkpoint.path:
            return metrics.get(objective.best, math.nan)
    return result.metrics.get(objective.best, math.nan)


def has_weights(result) -> bool:
    """Whether a trial's last checkpoint is there to load (someone may have deleted it)."""
    return result.checkpoint is not None and Path(result.checkpoint.path, STATE_FILE).is_file()


def ranked_results(results, objective: Objective) -> list:
    """The trials that did not fail and have weights to load, best first by their checkpointed best value."""
    return sorted((r for r in results if has_weights(r) and r.metrics
                   and outcome_of(r.metrics, r.error is not None) != "failed"
                   and math.isfinite(checkpointed_best(r, objective))),
                  key=lambda r: objective.loss(checkpointed_best(r, objective)))


def without_weights(results) -> list[str]:
    """The trial ids of trials that finished with a checkpoint which is no longer there."""
    return [r.metrics.get("trial_id", "") for r in results
            if r.checkpoint is not None and r.metrics and not has_weights(r)]

