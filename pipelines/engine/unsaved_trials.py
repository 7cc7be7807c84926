"""Trials that ended after Ray Tune last saved the sweep (it saves at trial checkpoints and at most every
10 s) and that a crash then took out of Tune's records: the Optuna study and MLflow keep them.

A resume counts them against the trial budget (else Tune would run one more trial in the place of each),
closes their MLflow runs by their outcome in the study, and reports them with the trials Tune knows. They
are not candidates for the final model: Tune's results, which the final model is chosen from, lack them.
"""
from __future__ import annotations

import math

from optuna.trial import TrialState

from pipelines.engine.given_trials import WARM_START_ATTR
from pipelines.engine.results import TrialRecord
from pipelines.engine.searcher import LOST_ATTR
from pipelines.engine.study_rebuild import typed
from pipelines.tracking.runs import child_runs
from pipelines.tracking.store import RUN_STATUS

ENDED = {TrialState.COMPLETE: "completed", TrialState.PRUNED: "early_stopped", TrialState.FAIL: "failed"}
NO_ERROR_KEPT = "failed after Tune last saved the sweep; its error was not kept"


def trial_runs_by_number(client, experiment_id: str, parent_run_id: str) -> dict:
    """The sweep's MLflow trial runs by Optuna number (their `hpo.optuna_trial` tag)."""
    return {int(r.data.tags["hpo.optuna_trial"]): r for r in child_runs(client, experiment_id, parent_run_id)
            if r.data.tags.get("hpo.optuna_trial", "").isdigit()}


def ran(trial, run) -> bool:
    """Whether a trial ran to its end: completed or pruned; failed with a run that was not closed as lost
    (a resume before hpo.lost marked them closed lost trials as failed, and the rebuild of a study made failed
    trials of numbers without a run)."""
    if LOST_ATTR in trial.user_attrs:
        return False
    if trial.state != TrialState.FAIL:
        return True
    return run is not None and not run.data.tags.get("hpo.error", "").startswith("lost")


def unsaved_trials(study, known_numbers, runs: dict) -> list:
    """The study's trials that ran to an end though Tune's saved state never gave them out (not told from
    another sweep by --warm-start either); `runs`: the sweep's MLflow trial runs by number."""
    return [t for t in study.get_trials(deepcopy=False, states=tuple(ENDED))
            if t.number not in known_numbers and WARM_START_ATTR not in t.user_attrs and ran(t, runs.get(t.number))]


def close_and_record(client, trials: list, runs: dict, metric_names, objective) -> list[TrialRecord]:
    """Close the trials' MLflow runs the crash left open, with their outcome in the study; their records."""
    from mlflow.entities import RunTag  # MLflow on the sweep's path: see pipelines.tracking.store

    records = []
    for trial in trials:
        status, run = ENDED[trial.state], runs.get(trial.number)
        metrics = run.data.metrics if run else {}
        error = (run.data.tags.get("hpo.error") if run else None) or (NO_ERROR_KEPT if status == "failed" else None)
        if run is not None and run.info.status in ("RUNNING", "KILLED"):
            tags = [RunTag("hpo.status", status)] + ([RunTag("hpo.error", error)] if error else [])
            client.log_batch(run.info.run_id, tags=tags)
            client.set_terminated(run.info.run_id, RUN_STATUS.get(status, "FINISHED"))
        value = trial.value if trial.value is not None else metrics.get(objective.best, math.nan)
        records.append(TrialRecord(
            number=trial.number, trial_id=run.data.tags.get("hpo.trial_id", "") if run else f"optuna-{trial.number}",
            status=status, error=error,
            epochs=int(metrics.get("epoch", max(trial.intermediate_values, default=0))), best=float(value),
            metrics={m: metrics.get(f"best_{m}", metrics.get(m)) for m in metric_names
                     if m in metrics or f"best_{m}" in metrics},
            config={k: typed(v) for k, v in run.data.params.items()} if run else dict(trial.params)))
    return records
