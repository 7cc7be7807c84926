"""The private parts of Ray Tune and Optuna that `hpo resume` relies on (pipelines/engine/internals.py):
each test fails loudly when an installed version changes one. No Ray is started."""
import optuna
import pytest
from optuna.trial import TrialState
from ray import tune
from ray.tune.search import SearchGenerator

from pipelines.engine import internals
from pipelines.engine.resume import raise_budget
from pipelines.engine.searcher import OptunaStudySearcher
from pipelines.errors import UsageError
from pipelines.registry import TASKS


def study():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="minimize")


def searcher_of(a_study):
    return OptunaStudySearcher(a_study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=0)


def test_a_tuner_keeps_its_searcher_and_callbacks_where_restore_reads_them():
    searcher, callback = searcher_of(study()), tune.Callback()
    tuner = tune.Tuner(lambda config: None, tune_config=tune.TuneConfig(search_alg=searcher),
                       run_config=tune.RunConfig(callbacks=[callback]))
    assert internals.restored_searcher(tuner) is searcher
    assert internals.restored_callbacks(tuner) == [callback]


def test_a_running_trial_found_by_number_can_report_and_be_told_again():
    a_study = study()
    a_study.ask()
    frozen = a_study.get_trials(deepcopy=False)[0]
    trial = internals.optuna_trial_of(a_study, frozen)
    trial.report(0.5, 1)
    a_study.tell(trial, 0.5)
    assert a_study.trials[0].state == TrialState.COMPLETE and a_study.trials[0].intermediate_values == {1: 0.5}


def test_the_grid_point_of_a_trial_is_read_back_from_what_the_grid_sampler_records():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    grid = {"lr": [0.1, 0.01], "n_layers": [0, 1, 2]}
    a_study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=0))
    for _ in range(6):
        trial = a_study.ask()
        trial.suggest_categorical("n_layers", grid["n_layers"])
        trial.suggest_categorical("lr", grid["lr"])
    assert all(internals.grid_point_of(a_study.sampler, t) == t.params for t in a_study.trials)
    assert sorted(tuple(sorted(t.params.items())) for t in a_study.trials) == sorted(
        (("lr", lr), ("n_layers", n)) for lr in grid["lr"] for n in grid["n_layers"])
    a_study.enqueue_trial({"lr": 0.1, "n_layers": 0})
    a_study.ask()
    assert internals.grid_point_of(a_study.sampler, a_study.trials[-1]) is None  # enqueued: no point of its own
    again = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=0))  # a resume's sampler
    assert internals.grid_point_of(again.sampler, a_study.trials[3]) == a_study.trials[3].params


def saved_generator(folder, searcher):
    generator = SearchGenerator(searcher)
    generator.save_to_dir(str(folder), session_str="2026-12-01_00-00-00")
    return generator


def test_the_saved_trial_budget_is_where_tune_restores_it_from(tmp_path):
    searcher = searcher_of(study())
    saved_generator(tmp_path, searcher)
    path = internals.saved_search_state(tmp_path)
    assert path is not None and path.name.startswith("search_gen_state-")
    internals.set_saved_trial_budget(path, 12)
    restored = SearchGenerator(searcher)
    restored.restore_from_dir(str(tmp_path))
    assert restored.total_samples == 12 and not restored.is_finished()


def test_the_saved_experiment_of_a_moved_sweep_makes_its_new_trials_where_the_sweep_is_now(tmp_path):
    from ray.tune.experiment import Experiment

    searcher = searcher_of(study())
    generator = SearchGenerator(searcher)
    generator.add_configurations(Experiment("moved", lambda config: None, storage_path=str(tmp_path / "before"),
                                            num_samples=4))
    (tmp_path / "after" / "moved").mkdir(parents=True)  # the folder moved there
    generator.save_to_dir(str(tmp_path / "after" / "moved"), session_str="2026-12-01_00-00-00")
    path = internals.saved_search_state(tmp_path / "after" / "moved")
    internals.set_saved_trial_budget(path, 6)
    restored = SearchGenerator(searcher)
    restored.restore_from_dir(str(tmp_path / "after" / "moved"))
    assert restored.total_samples == 6
    assert restored._experiment.spec["storage"].experiment_fs_path == str(tmp_path / "after" / "moved")


def test_raising_a_budget_needs_a_saved_search_state(tmp_path):
    with pytest.raises(UsageError, match="no saved search state"):
        raise_budget(tmp_path, 12, 0)
    saved_generator(tmp_path, searcher_of(study()))
    assert internals.saved_trial_count(internals.saved_search_state(tmp_path)) == 0
    raise_budget(tmp_path, 30, 0)
    restored = SearchGenerator(searcher_of(study()))
    restored.restore_from_dir(str(tmp_path))
    assert restored.total_samples == 30


def test_a_budget_counts_the_trials_the_searcher_gave_out_after_tune_counted(tmp_path):
    """Killed between the writes of one save, the searcher's state knows two trials that Tune's count (0 made)
    lacks; they are among the trials Tune restores: it makes only the rest of a budget of 5."""
    saved_generator(tmp_path, searcher_of(study()))
    raise_budget(tmp_path, 5, 2)
    restored = SearchGenerator(searcher_of(study()))
    restored.restore_from_dir(str(tmp_path))
    assert restored.total_samples == 3
    raise_budget(tmp_path, 1, 4)  # never below what Tune made
    restored.restore_from_dir(str(tmp_path))
    assert restored.total_samples == 0


def test_the_searcher_state_tune_saves_beside_the_search_state_is_ours_and_readable(tmp_path):
    searcher = searcher_of(study())
    searcher.suggest("a")
    saved_generator(tmp_path, searcher)
    files = sorted(tmp_path.glob(internals.SEARCHER_STATE_PATTERN))
    assert len(files) == 1 and internals.read_searcher_state(files[0])["numbers"] == {"a": 0}
