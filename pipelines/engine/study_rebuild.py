"""A sweep's Optuna study made again from its MLflow runs, when its journal (`optuna.journal`) was lost.

Every trial keeps its Optuna number (the runs' `hpo.optuna_trial` tag): a completed trial is told with its
params and best value of the objective, an early-stopped one as pruned with its best value, one that Tune
will go on with (running, interrupted) as RUNNING, so that its end is told; the others (failed, lost,
numbers without a run) as failed. The sampler then starts from what the sweep knew. The study is made in
a file beside the journal and put in its place whole, so a crash mid-rebuild leaves no partial study.
"""
from __future__ import annotations

import math

import optuna
from optuna.trial import TrialState

from pipelines.engine import study_file
from pipelines.engine.internals import SEARCHER_STATE_PATTERN, read_searcher_state
from pipelines.engine.searcher import LOST_ATTR, STUDY_READY, make_sampler, open_study
from pipelines.errors import SpaceError
from pipelines.tracking.runs import child_runs
from search_spaces.given_configs import distributions_of
from search_spaces.space import check_space


def typed(text: str):
    """A config value as MLflow keeps it (str of the value) turned back into the value."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def trial_of(run, prepared, known: set):
    """The Optuna trial an MLflow child run records; a failed one where its params or value cannot be read."""
    objective = prepared.objective
    status = run.data.tags.get("hpo.status")
    values = {k: typed(v) for k, v in run.data.params.items() if k in known}
    try:
        distributions = distributions_of(prepared.registered.define_space, values, overrides=prepared.overrides,
                                         caps=prepared.caps, partial=True)
    except SpaceError:
        distributions = None
    best = run.data.metrics.get(f"best_{objective.metric}", math.nan)
    if distributions is not None and status in ("running", "interrupted"):
        return optuna.trial.create_trial(params={k: values[k] for k in distributions}, distributions=distributions,
                                         state=TrialState.RUNNING)
    if distributions is None or status not in ("completed", "early_stopped") or not math.isfinite(best):
        return failed(lost=run.data.tags.get("hpo.error", "").startswith("lost"))
    params = {k: values[k] for k in distributions}
    if status == "completed":
        return optuna.trial.create_trial(params=params, distributions=distributions, value=best)
    return optuna.trial.create_trial(params=params, distributions=distributions, state=TrialState.PRUNED,
                                     intermediate_values={int(run.data.metrics.get("best_epoch", 0)): best})


def failed(lost: bool):
    """A failed trial; `lost`: one that never ran to an end (a crash lost it before Tune saved it)."""
    return optuna.trial.create_trial(state=TrialState.FAIL, user_attrs={LOST_ATTR: True} if lost else {})


def rebuild_study(prepared, client, parent) -> int:
    """Make the sweep's study from its child runs; how many runs it was made from."""
    s = prepared.settings
    runs = {}
    for run in child_runs(client, parent.info.experiment_id, parent.info.run_id):
        number = run.data.tags.get("hpo.optuna_trial", "")
        if number.isdigit():
            runs[int(number)] = run
    partial = prepared.sweep_dir / (study_file.STUDY_FILE + ".partial")
    partial.unlink(missing_ok=True)  # what a crash mid-rebuild left
    study = open_study(s.name, partial, make_sampler(s.search, s.seed, s.trials, prepared.grid),
                       prepared.objective.mode)
    known = set(check_space(prepared.registered.define_space).params)
    # Every number Tune gave out, also to trials that have no run yet (pending when the sweep stopped).
    saved = sorted(prepared.sweep_dir.glob(SEARCHER_STATE_PATTERN))
    given = set(read_searcher_state(saved[-1])["numbers"].values()) if saved else set()
    for number in range(max([*runs, *given], default=-1) + 1):  # in order: each trial its own number again
        run = runs.get(number)
        study.add_trial(trial_of(run, prepared, known) if run else failed(lost=number not in given))
    study.set_user_attr(STUDY_READY, True)
    partial.replace(prepared.sweep_dir / study_file.STUDY_FILE)  # every write above is on disk: the file is whole
    return len(runs)
