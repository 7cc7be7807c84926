"""The search methods (Optuna's samplers, the grid), the schedulers (Ray's), and configs from outside
the search (--enqueue, --warm-start): everything but a running sweep."""
import optuna
import pytest
from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler, MedianStoppingRule

from pipelines.engine.schedulers import report_epochs, scheduler_for
from pipelines.engine.searcher import OptunaStudySearcher, make_sampler, search_note
from pipelines.engine.settings import SweepSettings
from pipelines.errors import SpaceError
from pipelines.registry import TASKS
from search_spaces.given_configs import distributions_of
from search_spaces.grid import grid_size, grid_values
from search_spaces.space import Space
from search_spaces.yaml_space import parse_space

GRID = parse_space({"n_layers": {"type": "categorical", "choices": [0, 1]},
                    "epochs": {"type": "int", "low": 2, "high": 6, "step": 2}})


@pytest.mark.parametrize("search, kind", [
    ("tpe", optuna.samplers.TPESampler), ("random", optuna.samplers.RandomSampler),
    ("gp", optuna.samplers.GPSampler), ("cmaes", optuna.samplers.CmaEsSampler),
    ("qmc", optuna.samplers.QMCSampler)])
def test_each_search_is_optunas_sampler_and_seeded(search, kind):
    define = TASKS["binary"].define_space

    def configs():
        study = optuna.create_study(sampler=make_sampler(search, seed=3, trials=20))
        return [define(Space(study.ask())) for _ in range(3)]
    assert isinstance(make_sampler(search, 3, 20), kind)
    assert configs() == configs()  # the same seed, the same configs


def test_the_header_says_what_a_joint_sampler_does_with_the_rest():
    assert search_note("tpe") == "tpe search"
    assert "categorical and conditional params sampled at random" in search_note("cmaes")


def test_a_grid_is_the_choices_and_stepped_ints_of_the_space_file():
    grid = grid_values(GRID)
    assert grid == {"n_layers": [0, 1], "epochs": [2, 4, 6]} and grid_size(grid) == 6
    assert grid_values(GRID, caps={"epochs": 4}) == {"n_layers": [0, 1], "epochs": [2, 4]}
    with pytest.raises(SpaceError, match="'lr' \\(float \\[0.001, 0.1\\] log\\) is continuous"):
        grid_values(parse_space({"lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True}}))
    with pytest.raises(SpaceError, match="give --space FILE.yaml"):
        grid_values({})


def test_a_grid_search_runs_each_combination_once_with_the_other_params_at_their_defaults():
    study = optuna.create_study(sampler=make_sampler("grid", 0, 6, grid_values(GRID)))
    searcher = OptunaStudySearcher(study, TASKS["binary"].define_space, metric="val_loss", mode="min", seed=0,
                                   overrides=GRID, grid=True, constants={"patience": 4})
    configs = [searcher.suggest(f"t{i}") for i in range(6)]
    assert sorted((c["n_layers"], c["epochs"]) for c in configs) == [(n, e) for n in (0, 1) for e in (2, 4, 6)]
    one = next(c for c in configs if c["n_layers"] == 1)
    assert (one["lr"], one["optimizer"], one["batch_size"], one["n_units_l0"], one["lr_schedule"], one["norm"],
            one["l1"], one["class_weight"], one["patience"]) == (1e-3, "Adam", 32, 64, "constant", "none", 0.0,
                                                                  "none", 4)


@pytest.mark.parametrize("scheduler, kind, epochs", [
    ("asha", AsyncHyperBandScheduler, (6, 18)), ("hyperband", AsyncHyperBandScheduler, (6, 18)),
    ("median", MedianStoppingRule, tuple(range(6, 50))), ("fifo", FIFOScheduler, ())])
def test_each_scheduler_is_rays_and_trials_report_where_it_acts(scheduler, kind, epochs):
    settings = SweepSettings("binary", scheduler=scheduler)
    assert isinstance(scheduler_for(settings, 50), kind) and report_epochs(settings, 50) == epochs
    if scheduler == "hyperband":
        assert len(scheduler_for(settings, 50)._brackets) == 3
    if scheduler == "asha":
        tuned = SweepSettings("binary", grace_period=2, reduction_factor=2)
        assert report_epochs(tuned, 20) == (2, 4, 8, 16)


def test_given_configs_fit_the_space_or_say_which_value_does_not():
    define = TASKS["binary"].define_space
    found = distributions_of(define, {"lr": 0.01, "n_layers": 1}, partial=True)
    assert set(found) == {"lr", "n_layers"} and found["lr"].log
    with pytest.raises(SpaceError, match="'lr' is 5, outside \\[0.0001, 0.1\\]"):
        distributions_of(define, {"lr": 5}, partial=True)
    with pytest.raises(SpaceError, match="'batch_size' is missing"):
        distributions_of(define, {"lr": 0.01})       # a finished trial has every param
    narrow = parse_space({"n_layers": {"type": "categorical", "choices": [0]}})
    with pytest.raises(SpaceError, match="'n_layers' is 1, outside the choices \\[0\\]"):
        distributions_of(define, {"n_layers": 1}, overrides=narrow, partial=True)


def test_the_grid_sampler_lets_the_last_point_end_without_stopping_the_study():
    grid = grid_values(GRID)
    study = optuna.create_study(sampler=make_sampler("grid", 0, 6, grid))
    for _ in range(grid_size(grid)):  # Optuna's own sampler would raise in stop() at the last tell
        trial = study.ask()
        TASKS["binary"].define_space(Space(trial, GRID, grid=True))
        study.tell(trial, 1.0)
    assert len({(t.params["n_layers"], t.params["epochs"]) for t in study.trials}) == 6


def test_the_median_rule_lets_a_trial_go_on_until_there_is_a_median():
    rule = scheduler_for(SweepSettings("binary", scheduler="median"), 50)
    assert rule._on_insufficient_samples(None, None, 7) == rule.CONTINUE


def test_a_grid_sweep_takes_no_enqueued_or_warm_started_trials():
    from pipelines.engine.settings import check_settings
    from pipelines.errors import UsageError

    with pytest.raises(UsageError, match="takes no --enqueue or --warm-start"):
        check_settings(SweepSettings("binary", search="grid", warm_start="earlier"))
