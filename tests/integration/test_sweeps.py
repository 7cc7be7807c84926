"""Small sweeps on a real local Ray, checked through MLflow's client and the Optuna study on disk."""
import math

import pytest
from mlflow.tracking import MlflowClient

from pipelines.engine import study_file
from pipelines.engine.settings import SweepSettings
from pipelines.engine.sweep import run_sweep
from pipelines.registry import TASKS

STATUS_TO_OPTUNA = {"completed": "COMPLETE", "early_stopped": "PRUNED", "failed": "FAIL"}


def sweep_runs(tracking_uri, task, name):
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(task)
    assert experiment is not None, f"no experiment named {task}"
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.`hpo.sweep` = '{name}'")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1
    return client, parents[0], children


@pytest.mark.parametrize("task, trials", [("binary", 12), ("multiclass", 6), ("regression", 6)])
def test_sweep_leaves_the_design_shape_in_mlflow_and_optuna(local_ray, store, task, trials):
    folder, tracking_uri, storage = store
    # ASHA's rungs at epochs 2 and 6: every trial (5 epochs or more) meets the first, so that ASHA has trials
    # to stop whatever order they finish in.
    outcome = run_sweep(SweepSettings(task=task, trials=trials, max_epochs=8, grace_period=2, name=f"{task}-it",
                                      seed=1, tracking_uri=tracking_uri, storage=storage))
    client, parent, children = sweep_runs(tracking_uri, task, f"{task}-it")

    # parent: named after the sweep, tagged, with settings, best and test metrics, config and model
    assert parent.info.run_name == f"{task}-it" and parent.info.status == "FINISHED"
    assert parent.data.tags["hpo.task"] == task and parent.data.tags["hpo.sweep"] == f"{task}-it"
    assert parent.data.params["trials"] == str(trials) and parent.data.params["max_epochs"] == "8"
    natural = TASKS[task].task.metrics
    for metric in ("best_val_loss", "test_loss", *("best_" + m for m in natural), *(m.replace("val_", "test_") for m in natural)):
        assert math.isfinite(parent.data.metrics[metric]), metric
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"best_config.yaml", "sweep_config.yaml"} <= artifacts
    import mlflow
    mlflow.set_tracking_uri(tracking_uri)
    models = mlflow.search_logged_models(experiment_ids=[parent.info.experiment_id], output_format="list")
    assert any(m.source_run_id == parent.info.run_id for m in models)
    assert (folder / "ray_results" / f"{task}-it" / "best_config.yaml").is_file()

    # children: one per trial, nested, named, with params, per-epoch metrics and tags
    assert len(children) == trials
    study = study_file.load(f"{task}-it", folder / "ray_results" / f"{task}-it" / study_file.STUDY_FILE)
    by_number = {t.number: t for t in study.trials}
    assert len(by_number) == trials
    for run in children:
        tags, params = run.data.tags, run.data.params
        assert tags["mlflow.parentRunId"] == parent.info.run_id and run.info.status == "FINISHED"
        assert run.info.run_name.startswith("trial-") and tags["hpo.trial_id"] and tags["ray.node_id"]
        assert {"batch_size", "epochs", "n_layers", "lr", "optimizer", "activation", "dropout"} <= set(params)
        assert set(params) >= {f"n_units_l{i}" for i in range(int(params["n_layers"]))}
        history = client.get_metric_history(run.info.run_id, "val_loss")
        assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(1, len(history) + 1))
        for metric in natural:
            assert len(client.get_metric_history(run.info.run_id, metric)) == len(history)
        trial = by_number[int(tags["hpo.optuna_trial"])]
        assert trial.state.name == STATUS_TO_OPTUNA[tags["hpo.status"]]
        assert len(trial.intermediate_values) == len(history)  # every epoch told to Optuna
        assert trial.params["lr"] == pytest.approx(float(params["lr"]))
    statuses = [r.data.tags["hpo.status"] for r in children]
    assert statuses.count("completed") >= 1
    if task == "binary":
        assert statuses.count("early_stopped") >= 1, statuses  # ASHA stopped some; Optuna has them PRUNED
        assert parent.data.metrics["best_val_acc"] >= 0.9
    assert outcome.best is not None and len(outcome.trials) == trials

    # Tune's folders are named like the runs, and its saved state of a trial stays small: it is saved
    # again and again, so anything in it that grew with the sweep made long sweeps quadratic.
    sweep_dir = folder / "ray_results" / f"{task}-it"
    assert {r.info.run_name for r in children} == {d.name.rsplit("_", 1)[0] for d in sweep_dir.glob("trial-*")}
    state_file = max(sweep_dir.glob("experiment_state-*.json"))
    assert state_file.stat().st_size < trials * 40_000, state_file.stat().st_size


def test_fifo_random_sweep_prunes_nothing(local_ray, store):
    folder, tracking_uri, storage = store
    run_sweep(SweepSettings(task="multiclass", trials=4, max_epochs=4, name="fifo", search="random",
                            scheduler="fifo", tracking_uri=tracking_uri, storage=storage))
    _, parent, children = sweep_runs(tracking_uri, "multiclass", "fifo")
    assert {r.data.tags["hpo.status"] for r in children} == {"completed"}
    study = study_file.load("fifo", folder / "ray_results" / "fifo" / study_file.STUDY_FILE)
    assert {t.state.name for t in study.trials} == {"COMPLETE"}


def test_time_budget_ends_the_sweep_early(local_ray, store):
    folder, tracking_uri, storage = store
    outcome = run_sweep(SweepSettings(task="binary", trials=200, name="budget", time_budget=10,
                                      tracking_uri=tracking_uri, storage=storage))
    assert 0 < len(outcome.trials) < 200
    _, parent, children = sweep_runs(tracking_uri, "binary", "budget")
    assert children and all(r.info.status == "FINISHED" for r in children)  # none left RUNNING
    study = study_file.load("budget", folder / "ray_results" / "budget" / study_file.STUDY_FILE)
    assert "RUNNING" not in {t.state.name for t in study.trials}
