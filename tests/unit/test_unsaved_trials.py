"""Trials that ended after Tune's last save: which the study holds, and how a resume counts them."""
import optuna
import pytest
from optuna.trial import TrialState

from pipelines.engine.given_trials import WARM_START_ATTR
from pipelines.engine.searcher import LOST_ATTR, OptunaStudySearcher, make_sampler
from pipelines.engine.unsaved_trials import unsaved_trials
from pipelines.registry import TASKS
from tests.unit.test_searcher import epochs


@pytest.fixture
def searcher():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=make_sampler("random", 0, 20), direction="minimize")  # in memory
    return OptunaStudySearcher(study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=100)


def test_the_trials_that_ended_after_the_save_are_those_tune_never_gave_out(searcher, tmp_path):
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
    searcher.on_trial_complete("f", None, error=True)     # raised: failed, but it ran
    searcher.on_trial_complete("b", epochs(0.2, final=True))  # known to Tune: not counted
    searcher.suggest("g")  # handed out, never ended: closed as lost by the restore, not counted
    restarted = OptunaStudySearcher(searcher.study, TASKS["binary"].define_space, metric="val_loss", mode="min",
                                    seed=100)
    restarted.restore(str(tmp_path / "searcher.json"))

    found = unsaved_trials(restarted.study, known)
    assert [(t.number, t.state) for t in found] == [(4, TrialState.COMPLETE), (5, TrialState.PRUNED),
                                                    (6, TrialState.FAIL)]
    lost = restarted.study.trials[7]
    assert lost.state == TrialState.FAIL and lost.user_attrs[LOST_ATTR]
    assert restarted.study.trials[3].state == TrialState.RUNNING  # c: known to Tune, it goes on
