"""Queries of a sweep's MLflow runs: the parent run by name, its child runs, the leaderboard; closing open runs."""
from __future__ import annotations

import math

from pipelines.engine.outcomes import trial_label
from pipelines.errors import UsageError
from pipelines.tracking.store import RUN_STATUS
from trainables.metrics import Objective

MAX_TRIAL_RUNS = 50000   # more than any sweep has trials: one search returns them all


def find_sweep(client, name: str):
    """The parent run of the sweep NAME, in any experiment; UsageError when there is none."""
    parent = find_sweep_or_none(client, name)
    if parent is None:
        raise UsageError(f"No sweep named {name!r} in the MLflow store {client.tracking_uri}; give the "
                         f"--tracking-uri it ran with, or 'hpo run TASK --name {name}' makes one.")
    return parent


def find_sweep_or_none(client, name: str):
    """The parent run of the sweep NAME, in any experiment, or None."""
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string=f"tags.`hpo.sweep` = '{name}' AND tags.`hpo.role` = 'sweep'", max_results=1)
    return runs[0] if runs else None


def child_runs(client, experiment_id: str, parent_run_id: str) -> list:
    """The runs of a sweep's trials."""
    return client.search_runs([experiment_id], max_results=MAX_TRIAL_RUNS,
                              filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'")


def best_trial_name(parent) -> str:
    """The sweep's best trial as everything names it (trial-008), from its parent run's tags."""
    number, trial_id = parent.data.tags.get("hpo.best_trial", ""), parent.data.tags.get("hpo.best_trial_id", "")
    return trial_label(int(number), trial_id) if number.isdigit() else trial_id


def objective_of(parent) -> Objective:
    """What the sweep ranked its trials by: its --metric (a sweep from before --metric: val_loss)."""
    return Objective(parent.data.params.get("metric", "val_loss"))


def leaderboard(client, parent) -> list[dict]:
    """Every trial of a sweep with its params and last metrics (best_* of its best epoch), best first."""
    objective = objective_of(parent)
    rows = [{"trial": run.info.run_name, "status": run.data.tags.get("hpo.status", ""),
             **dict(run.data.metrics), "params": dict(run.data.params), "run_id": run.info.run_id}
            for run in child_runs(client, parent.info.experiment_id, parent.info.run_id)]
    return sorted(rows, key=lambda r: objective.loss(r[objective.best]) if objective.best in r else math.inf)


def close_running_trials(client, experiment_id: str, parent_run_id: str, status: str, error: str | None = None,
                         open_statuses: tuple[str, ...] = ("RUNNING",)) -> None:
    """End the sweep's child runs whose MLflow status is one of `open_statuses`, tagging them `status`."""
    from mlflow.entities import (
        RunTag,  # MLflow on the sweep's path: see pipelines.tracking.store
    )

    for run in (r for r in child_runs(client, experiment_id, parent_run_id) if r.info.status in open_statuses):
        tags = [RunTag("hpo.status", status)] + ([RunTag("hpo.error", error)] if error else [])
        client.log_batch(run.info.run_id, tags=tags)
        client.set_terminated(run.info.run_id, RUN_STATUS.get(status, "FINISHED"))
