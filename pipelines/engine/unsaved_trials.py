"""Trials that ended after Ray Tune last saved the sweep (it saves at most every 10 s) and that a crash then
took out of Tune's records: the Optuna study and MLflow keep them.

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


def unsaved_trials(study, known_numbers) -> list:
    """The study's trials that ran to an end though Tune's saved state never gave them out: neither told from
    another sweep (--warm-start) nor closed by a resume as lost before they ran."""
    return [t for t in study.get_trials(deepcopy=False, states=tuple(ENDED))
            if t.number not in known_numbers and WARM_START_ATTR not in t.user_attrs and LOST_ATTR not in t.user_attrs]


def close_and_record(client, experiment_id: str, parent_run_id: str, trials: list, metric_names,
                     objective) -> list[TrialRecord]:
    """Close the trials' MLflow runs the crash left open, with their outcome in the study; their records."""
    from mlflow.entities import RunTag  # MLflow on the sweep's path: see pipelines.tracking.store

    by_number = {t.number: t for t in trials}
    runs = {int(r.data.tags["hpo.optuna_trial"]): r for r in child_runs(client, experiment_id, parent_run_id)
            if r.data.tags.get("hpo.optuna_trial", "").isdigit()}
    records = []
    for number, trial in by_number.items():
        status, run = ENDED[trial.state], runs.get(number)
        metrics = run.data.metrics if run else {}
        if run is not None and run.info.status in ("RUNNING", "KILLED"):
            client.log_batch(run.info.run_id, tags=[RunTag("hpo.status", status)])
            client.set_terminated(run.info.run_id, RUN_STATUS.get(status, "FINISHED"))
        value = trial.value if trial.value is not None else metrics.get(objective.best, math.nan)
        records.append(TrialRecord(
            number=number, trial_id=run.data.tags.get("hpo.trial_id", "") if run else f"optuna-{number}",
            status=status, error=run.data.tags.get("hpo.error") if run else None,
            epochs=int(metrics.get("epoch", max(trial.intermediate_values, default=0))), best=float(value),
            metrics={m: metrics.get(f"best_{m}", metrics.get(m)) for m in metric_names
                     if m in metrics or f"best_{m}" in metrics},
            config={k: typed(v) for k, v in run.data.params.items()} if run else dict(trial.params)))
    return records
