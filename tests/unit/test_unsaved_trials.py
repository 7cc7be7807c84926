"""Trials that ended after Tune's last save: which of the study's trials a resume keeps, and how it closes
their MLflow runs (a real SQLite store, no Ray)."""
import optuna
import pytest
from mlflow.entities import Run, RunData, RunInfo, RunTag
from optuna.trial import TrialState

from pipelines.engine.given_trials import WARM_START_ATTR
from pipelines.engine.searcher import LOST_ATTR, OptunaStudySearcher, make_sampler
from pipelines.engine.unsaved_trials import NO_ERROR_KEPT, close_and_record, trial_runs_by_number, unsaved_trials
from pipelines.registry import TASKS
from pipelines.tracking.store import client_for, experiment_id
from tests.unit.test_searcher import epochs
from trainables.metrics import Objective


@pytest.fixture
def searcher():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=make_sampler("random", 0, 20), direction="minimize")  # in memory
    return OptunaStudySearcher(study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=100)


def restarted(searcher, saved):
    again = OptunaStudySearcher(searcher.study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=100)
    again.restore(saved)
    return again


def run_of(trial_id, error=None):
    """An MLflow run entity as the store gives it back: a trial's, with its error tag."""
    tags = [RunTag("hpo.trial_id", trial_id)] + ([RunTag("hpo.error", error)] if error else [])
    return Run(RunInfo(trial_id, "1", "me", "FAILED", 0, 1, "active"), RunData(tags=tags))


def test_the_trials_kept_are_those_that_ran_to_an_end_after_the_save(searcher, tmp_path):
    searcher.study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={WARM_START_ATTR: "earlier"}))
    for trial_id in "abc":
        searcher.suggest(trial_id)
    searcher.on_trial_complete("a", epochs(0.4, final=True))
    searcher.save(str(tmp_path / "searcher.json"))
    known = set(searcher.numbers.values())
    for trial_id in "def":  # after the save; the crash comes before the next
        searcher.suggest(trial_id)
    searcher.on_trial_complete("d", epochs(0.3, final=True))
    searcher.on_trial_complete("e", epochs(0.6, 0.7))     # stopped by ASHA: pruned
    searcher.on_trial_complete("f", None, error=True)     # raised: failed, but it ran (it has a run)
    searcher.on_trial_complete("b", epochs(0.2, final=True))  # known to Tune: not kept
    searcher.suggest("g")  # handed out, never ended: closed as lost by the restore, not kept
    searcher.study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL))  # closed lost by an older resume
    study = restarted(searcher, str(tmp_path / "searcher.json")).study

    found = unsaved_trials(study, known, runs={6: run_of("f"), 8: run_of("lost", error="lost: the sweep ended")})
    assert [(t.number, t.state) for t in found] == [(4, TrialState.COMPLETE), (5, TrialState.PRUNED),
                                                    (6, TrialState.FAIL)]
    assert study.trials[7].state == TrialState.FAIL and study.trials[7].user_attrs[LOST_ATTR]
    assert unsaved_trials(study, known, runs={}) == found[:2]  # a failed trial without a run never ran
    assert study.trials[3].state == TrialState.RUNNING  # c: known to Tune, it goes on


def test_their_open_runs_are_closed_with_the_outcome_in_the_study(searcher, tmp_path):
    client = client_for(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = experiment_id(client, "binary", f"sqlite:///{tmp_path / 'mlflow.db'}")
    parent = client.create_run(experiment, tags={"hpo.role": "sweep"}).info.run_id
    for trial_id in "ab":
        number = searcher.suggest(trial_id)["seed"] - 100
        run = client.create_run(experiment, run_name=f"trial-00{number}", tags={
            "mlflow.parentRunId": parent, "hpo.trial_id": trial_id, "hpo.optuna_trial": str(number)})
        client.log_metric(run.info.run_id, "best_val_acc", 0.9)
    searcher.on_trial_complete("a", epochs(0.3, final=True))
    searcher.on_trial_complete("b", None, error=True)
    runs = trial_runs_by_number(client, experiment, parent)
    kept = close_and_record(client, searcher.study.trials, runs, ("val_loss", "val_acc"), Objective())

    assert [(k.number, k.trial_id, k.status, k.best, k.metrics, k.error) for k in kept] == [
        (0, "a", "completed", 0.3, {"val_acc": 0.9}, None), (1, "b", "failed", kept[1].best, {"val_acc": 0.9},
                                                             NO_ERROR_KEPT)]
    closed = trial_runs_by_number(client, experiment, parent)
    assert (closed[0].info.status, closed[0].data.tags["hpo.status"]) == ("FINISHED", "completed")
    assert (closed[1].info.status, closed[1].data.tags["hpo.error"]) == ("FAILED", NO_ERROR_KEPT)
