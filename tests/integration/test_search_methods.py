"""Each search method and scheduler end to end on a real local Ray: a grid runs its combinations once each,
a warm-started sweep's study holds the earlier sweeps' trials and runs only its own budget."""
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from pipelines.engine import study_file
from pipelines.engine.settings import SweepSettings
from pipelines.engine.sweep import run_sweep

SMALL = {"task": "binary", "max_epochs": 3, "cv": 0, "ensemble": 0}


def study_of(storage, name):
    return study_file.load(name, Path(storage) / name / study_file.STUDY_FILE)


@pytest.mark.parametrize("search", ["tpe", "random", "gp", "cmaes", "qmc"])
def test_each_search_method_runs_a_sweep(local_ray, store, search):
    folder, uri, storage = store
    outcome = run_sweep(SweepSettings(**SMALL, trials=4, search=search, name=f"s-{search}", tracking_uri=uri,
                                      storage=storage), echo=lambda *a: None)
    assert outcome.best is not None and len(outcome.trials) == 4
    parent = MlflowClient(uri).get_run(outcome.parent_run_id)
    assert parent.data.params["search"] == search and parent.info.status == "FINISHED"
    states = [t.state.name for t in study_of(storage, f"s-{search}").trials]
    assert len(states) == 4 and "RUNNING" not in states
    which = f"tags.`hpo.sweep` = 's-{search}' and tags.`hpo.role` = 'trial'"
    children = MlflowClient(uri).search_runs([outcome.experiment_id], filter_string=which)
    assert all({"lr_schedule", "norm", "l1"} <= set(run.data.params) for run in children) and len(children) == 4


@pytest.mark.parametrize("scheduler", ["hyperband", "median"])
def test_each_scheduler_stops_trials_that_optuna_sees_pruned(local_ray, store, scheduler):
    folder, uri, storage = store
    outcome = run_sweep(SweepSettings(**{**SMALL, "max_epochs": 12}, trials=8, scheduler=scheduler, grace_period=2,
                                      concurrency=2, name=f"c-{scheduler}", tracking_uri=uri, storage=storage),
                        echo=lambda *a: None)
    stopped = [t for t in outcome.trials if t.status == "early_stopped"]
    states = {t.number: t.state.name for t in study_of(storage, f"c-{scheduler}").trials}
    assert stopped and all(states[t.number] == "PRUNED" for t in stopped)


def test_a_grid_runs_each_combination_once_and_a_warm_start_adds_earlier_trials(local_ray, store, tmp_path):
    folder, uri, storage = store
    (tmp_path / "grid.yaml").write_text("n_layers: {type: categorical, choices: [0, 1]}\n"
                                        "epochs: {type: int, low: 1, high: 3, step: 2}\n"
                                        "lr: {type: categorical, choices: [0.01, 0.001]}\n")
    header = []
    run_sweep(SweepSettings(**SMALL, search="grid", space=str(tmp_path / "grid.yaml"), name="grid",
                            tracking_uri=uri, storage=storage), echo=header.append)
    assert "8 trials" in header[0] and "grid search" in header[0]
    grid = study_of(storage, "grid").trials
    assert sorted((t.params["n_layers"], t.params["epochs"], t.params["lr"]) for t in grid) == sorted(
        (n, e, lr) for n in (0, 1) for e in (1, 3) for lr in (0.01, 0.001))
    assert all(set(t.params) == {"n_layers", "epochs", "lr"} for t in grid)  # the rest at their defaults

    (tmp_path / "first.yaml").write_text("- {lr: 0.02, n_layers: 1, n_units_l0: 16}\n")
    outcome = run_sweep(SweepSettings(**SMALL, trials=3, warm_start="grid", enqueue=str(tmp_path / "first.yaml"),
                                      name="warm", tracking_uri=uri, storage=storage), echo=lambda *a: None)
    trials = study_of(storage, "warm").trials
    told = [t for t in trials if t.user_attrs.get("hpo.warm_start") == "grid"]
    own = [t for t in trials if "hpo.warm_start" not in t.user_attrs]
    # The grid's 1-epoch trials lie outside this sweep's space (epochs [5, 50] capped at 3: [3, 3]).
    assert sorted(t.params["epochs"] for t in told) == [3] * 4 and len(own) == 3 and len(outcome.trials) == 3
    assert own[0].params["lr"] == 0.02 and own[0].params["n_units_l0"] == 16  # the enqueued config ran first
    runs = MlflowClient(uri).search_runs([outcome.experiment_id], filter_string="tags.`hpo.sweep` = 'warm'")
    assert len(runs) == 1 + 3  # the told trials get no child run
