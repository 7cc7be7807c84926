"""The searcher's bookkeeping with Optuna, on an in-memory study (no Ray): what each way a trial ends is told
as, its per-epoch values, its restore after a crash; and Tune's trial folders named like the MLflow runs."""
import math
import pickle
from types import SimpleNamespace

import optuna
import pytest
from optuna.trial import TrialState

from pipelines.engine import study_file
from pipelines.engine.searcher import OptunaStudySearcher, TrialFolderName, make_sampler, open_study
from pipelines.registry import TASKS
from search_spaces.grid import grid_values
from search_spaces.yaml_space import load_space_file


@pytest.fixture
def searcher():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=make_sampler("tpe", 0, 20), direction="minimize")  # in memory
    return OptunaStudySearcher(study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=100)


def epochs(*losses, final=False, **last):
    """A batched report of epochs 1..n with these val_losses, as a trial sends it."""
    history = [{"epoch": i, "val_loss": v, "best_val_loss": min(losses[:i])} for i, v in enumerate(losses, 1)]
    return {**history[-1], "history": history, "final": final, **last}


def state_of(searcher, number):
    return searcher.study.trials[number]


def test_a_trial_that_ended_by_itself_is_complete_with_its_best_val_loss(searcher):
    config = searcher.suggest("a")
    assert config["seed"] == 100 and searcher.number_of("a") == 0
    searcher.on_trial_result("a", epochs(0.9, 0.5))
    searcher.on_trial_complete("a", epochs(0.9, 0.5, 0.7, final=True))
    trial = state_of(searcher, 0)
    assert trial.state == TrialState.COMPLETE and trial.value == 0.5
    assert trial.intermediate_values == {1: 0.9, 2: 0.5, 3: 0.7}  # every epoch once, the last one too
    assert "a" not in searcher.live


def test_a_trial_the_scheduler_stopped_is_pruned_with_its_epochs_as_intermediate_values(searcher):
    searcher.suggest("a")
    searcher.on_trial_complete("a", epochs(0.9, 0.8))  # no `final`: stopped from outside
    trial = state_of(searcher, 0)
    assert trial.state == TrialState.PRUNED and trial.intermediate_values == {1: 0.9, 2: 0.8}


def test_a_trial_that_raised_or_diverged_fails(searcher):
    searcher.suggest("a")
    searcher.suggest("b")
    searcher.on_trial_complete("a", None, error=True)
    searcher.on_trial_complete("b", epochs(0.9, math.nan, final=True, diverged="val_loss is nan"))
    assert [t.state for t in searcher.study.trials] == [TrialState.FAIL, TrialState.FAIL]


def test_a_non_finite_epoch_is_not_reported_to_optuna(searcher):
    searcher.suggest("a")
    searcher.on_trial_result("a", epochs(0.9, math.inf))
    assert state_of(searcher, 0).intermediate_values == {1: 0.9}


def test_close_tells_the_trials_the_sweep_ended_without_an_event_as_pruned(searcher):
    searcher.suggest("a")
    searcher.on_trial_result("a", epochs(0.9))
    searcher.close()
    assert state_of(searcher, 0).state == TrialState.PRUNED and not searcher.live


def test_restore_after_a_crash_goes_on_with_the_running_trials_and_fails_the_lost_ones(searcher, tmp_path):
    for trial_id in "abc":
        searcher.suggest(trial_id)
    searcher.on_trial_result("a", epochs(0.9, 0.6))
    searcher.on_trial_complete("b", epochs(0.4, final=True))
    searcher.save(str(tmp_path / "searcher.json"))
    searcher.suggest("d")  # handed out after the last save: the crash loses it
    restarted = OptunaStudySearcher(searcher.study, TASKS["binary"].define_space, metric="val_loss", mode="min",
                                    seed=100)
    restarted.restore(str(tmp_path / "searcher.json"))

    assert set(restarted.live) == {"a", "c"} and restarted.number_of("d") is None
    assert restarted.last_step == {"a": 2, "c": 0}
    assert [t.state for t in restarted.study.trials] == [TrialState.RUNNING, TrialState.COMPLETE,
                                                         TrialState.RUNNING, TrialState.FAIL]
    restarted.on_trial_complete("a", epochs(0.9, 0.6, 0.3, final=True))  # goes on where it was
    assert state_of(restarted, 0).state == TrialState.COMPLETE and state_of(restarted, 0).value == 0.3
    assert state_of(restarted, 0).intermediate_values == {1: 0.9, 2: 0.6, 3: 0.3}


def test_the_searcher_pickles_without_its_live_trials(searcher):
    searcher.suggest("a")
    assert pickle.loads(pickle.dumps(searcher)).live == {}


def test_the_folder_of_a_trial_carries_its_optuna_number_from_its_seed():
    name = TrialFolderName(sweep_seed=100)
    assert name(SimpleNamespace(trial_id="ab12", config={"seed": 107, "lr": 0.1})) == "trial-007_ab12"
    assert name(SimpleNamespace(trial_id="ab12", config={"lr": 0.1})) == "trial_ab12"  # no seed: Ray's id only
    assert len(pickle.dumps(name)) < 200


def test_a_grid_point_a_crash_lost_runs_after_the_restore(tmp_path):
    """A grid counts a failed point as visited: the point of a trial closed as lost is queued again."""
    space = tmp_path / "grid.yaml"
    space.write_text("lr: {type: categorical, choices: [0.1, 0.01]}\nn_layers: {type: categorical, choices: [0, 1]}\n")
    overrides = load_space_file(str(space))
    study = open_study("s", tmp_path / study_file.STUDY_FILE, make_sampler("grid", 0, 4, grid_values(overrides)), "min")
    searcher = OptunaStudySearcher(study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=0,
                                   overrides=overrides, grid=True)
    point = lambda config: (config["lr"], config["n_layers"])  # noqa: E731
    first = point(searcher.suggest("a"))
    searcher.save(str(tmp_path / "searcher.json"))
    saved = pickle.dumps(searcher)
    lost = point(searcher.suggest("b"))  # handed out after the save: the crash loses it
    restored = pickle.loads(saved)
    restored.restore(str(tmp_path / "searcher.json"))
    assert study.trials[1].state.name == "FAIL"
    after = [point(restored.suggest(trial_id)) for trial_id in "cde"]
    assert after[0] == lost  # queued again, then the two points the grid had left
    assert sorted([first, *after]) == sorted((lr, n) for lr in (0.1, 0.01) for n in (0, 1))


def test_a_restored_searcher_does_not_repeat_the_configs_of_trials_a_crash_lost(tmp_path):
    """Tune restores the searcher as it pickled it when the sweep began; its sampler must not draw again."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study("s", tmp_path / study_file.STUDY_FILE, make_sampler("tpe", 0, 20), "min")
    searcher = OptunaStudySearcher(study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=100)
    searcher.suggest("a")
    searcher.save(str(tmp_path / "searcher.json"))
    saved = pickle.dumps(searcher)
    lost = [searcher.suggest(trial_id) for trial_id in "bc"]  # handed out after the save: the crash loses them
    restored = pickle.loads(saved)
    restored.restore(str(tmp_path / "searcher.json"))
    after = [restored.suggest(trial_id) for trial_id in "de"]
    without_seed = [{k: v for k, v in c.items() if k != "seed"} for c in lost + after]
    assert all(config not in without_seed[:i] for i, config in enumerate(without_seed))
