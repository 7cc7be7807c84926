"""Sweeps from Python (a notebook, a script): `hpo.run(task, **flags)` runs one as `hpo run` does, with the
same checks and records, and hands back what it found."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.errors import InputError, UsageError


@dataclass(frozen=True)
class SweepResult:
    name: str
    task: str                   # the task's name (its MLflow experiment's)
    final_model: str            # which model the sweep hands back: best, refit or ensemble
    model_uri: str              # runs:/<parent run>/model, for mlflow.pyfunc.load_model or hpo promote
    best_config: dict           # the best trial's config
    best_metrics: dict          # the best trial's validation and test metrics
    test_metrics: dict          # the final model's test_* metrics, and the baselines' baseline_*
    parent_run_id: str
    trial_run_ids: dict         # MLflow run id of each trial, by its name (trial-000, ...)
    experiment_id: str
    tracking_uri: str
    sweep_dir: Path             # Tune's storage of the sweep: `hpo resume NAME` continues it
    interrupted: bool = False
    trials: list = field(default_factory=list)   # pipelines.engine.results.TrialRecord of each trial


def run(task: str, **flags) -> SweepResult:
    """Run a sweep of `task` (a built-in's name, a task file's path, module:NAME) with the flags of `hpo run`
    as keyword arguments (trials=20, cv=5, tracking_uri="sqlite:///mlflow.db", ...); raises
    pipelines.errors.InputError (a UsageError or DataError) for bad input, before anything is written."""
    from pipelines.engine.prepare import prepare
    from pipelines.engine.settings import SweepSettings

    known = settings_fields()
    unknown = sorted(set(flags) - known)
    if unknown:
        raise UsageError(f"hpo.run() takes no flag {', '.join(map(repr, unknown))}; "
                         f"it takes {', '.join(sorted(known))}.")
    settings = SweepSettings(task=str(task), **flags)
    try:
        prepared = prepare(settings)
    except InputError as exc:
        raise as_keywords(exc) from None
    from pipelines.engine.ray_session import session
    from pipelines.engine.sweep import run_sweep

    try:
        return result_of(run_sweep(settings, prepared=prepared))
    finally:  # a sweep that raised leaves no Ray of its own running in the caller's process
        ending = session.end_beside()
        if ending is not None:
            ending.join()


def settings_fields() -> set[str]:
    """The keywords hpo.run() takes: the settings of a sweep, but its task."""
    from pipelines.engine.settings import SweepSettings

    return {f.name for f in dataclasses.fields(SweepSettings)} - {"task"}


def as_keywords(exc: InputError) -> InputError:
    """The same error, saying which keyword of hpo.run() the flags it names are: the checks speak the CLI's words."""
    flags = list(dict.fromkeys(f for f in re.findall(r"--([a-z][a-z-]+)", str(exc))
                               if f.replace("-", "_") in settings_fields()))
    if not flags:
        return exc
    named = ", ".join(f"--{f} is {f.replace('-', '_')}=" for f in flags)
    return type(exc)(f"{exc} (in hpo.run(), {named})")


def result_of(outcome) -> SweepResult:
    from pipelines.tracking.runs import child_runs
    from pipelines.tracking.store import client_for

    client = client_for(outcome.tracking_uri)
    parent = client.get_run(outcome.parent_run_id)
    children = child_runs(client, outcome.experiment_id, outcome.parent_run_id)
    metrics = parent.data.metrics
    return SweepResult(
        name=outcome.name, task=outcome.task, final_model=outcome.final_model,
        model_uri=f"runs:/{outcome.parent_run_id}/model", best_config=dict(outcome.best.config) if outcome.best else {},
        best_metrics=dict(outcome.best_metrics),
        test_metrics={k: v for k, v in metrics.items() if k.startswith(("test_", "baseline_"))},
        parent_run_id=outcome.parent_run_id, trial_run_ids={r.info.run_name: r.info.run_id for r in children},
        experiment_id=outcome.experiment_id, tracking_uri=outcome.tracking_uri, sweep_dir=outcome.sweep_dir,
        interrupted=outcome.interrupted, trials=list(outcome.trials))
