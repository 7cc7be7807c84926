"""Failing trials: one that raises once is retried and completes; one that always raises is recorded as
failed with its reason, and the sweep reports it."""
import dataclasses
import sys
from pathlib import Path

import pytest
import ray.cloudpickle
from mlflow.tracking import MlflowClient

from pipelines import registry
from pipelines.engine import study_file
from pipelines.engine.settings import SweepSettings
from pipelines.engine.sweep import run_sweep
from trainables import multiclass


def raising_task(marker_dir: Path, failures_before_success: int):
    """multiclass, whose train raises its first `failures_before_success` attempts of each trial."""
    def train(config, data, io):
        marker = marker_dir / f"attempts-{config['seed']}"
        attempts = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(attempts + 1))
        if attempts < failures_before_success:
            raise RuntimeError(f"flaky storage went away (attempt {attempts + 1})")
        multiclass.TASK.train(config, data, io)

    return dataclasses.replace(multiclass.TASK, train=train)


@pytest.fixture
def raising(monkeypatch, tmp_path):
    # The task travels to the workers by value: they cannot import this test module.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

    def register(failures_before_success):
        task = raising_task(tmp_path, failures_before_success)
        monkeypatch.setitem(registry.TASKS, "multiclass", registry.Registered(task, registry.TASKS["multiclass"].define_space))
    yield register
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def children_of(tracking_uri, name):
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("multiclass")
    return client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.`hpo.sweep` = '{name}' AND tags.`hpo.role` = 'trial'")


def test_a_trial_that_raises_once_is_retried(local_ray, store, raising):
    folder, tracking_uri, storage = store
    raising(1)
    outcome = run_sweep(SweepSettings(task="multiclass", trials=2, max_epochs=3, name="retry", max_failures=1,
                                      scheduler="fifo", tracking_uri=tracking_uri, storage=storage))
    assert all(t.status == "completed" for t in outcome.trials)
    children = children_of(tracking_uri, "retry")
    assert len(children) == 2  # the retry goes on in the same run, not a second one
    assert all(r.data.tags["hpo.status"] == "completed" for r in children)


def test_a_trial_that_always_raises_is_failed_with_its_reason(local_ray, store, raising):
    folder, tracking_uri, storage = store
    raising(99)
    outcome = run_sweep(SweepSettings(task="multiclass", trials=2, max_epochs=3, name="broken", max_failures=1,
                                      scheduler="fifo", tracking_uri=tracking_uri, storage=storage))
    assert outcome.best is None and all(t.status == "failed" for t in outcome.trials)
    assert all("flaky storage went away (attempt 2)" in t.error for t in outcome.trials)  # tried twice
    children = children_of(tracking_uri, "broken")
    assert len(children) == 2
    for run in children:
        assert run.data.tags["hpo.status"] == "failed" and run.info.status == "FAILED"
        assert "RuntimeError: flaky storage went away" in run.data.tags["hpo.error"]
    study = study_file.load("broken", folder / "ray_results" / "broken" / study_file.STUDY_FILE)
    assert {t.state.name for t in study.trials} == {"FAIL"}


def test_diverging_trials_are_failed_and_the_rest_go_on(local_ray, store, tmp_path):
    folder, tracking_uri, storage = store
    space = tmp_path / "space.yaml"
    # SGD at lr 1e3..1e6 on this data diverges; Adam at the same rates is clipped by its own step size.
    space.write_text("optimizer: {type: categorical, choices: [SGD, Adam]}\n"
                     "lr: {type: float, low: 1.0e+3, high: 1.0e+6, log: true}\n")
    outcome = run_sweep(SweepSettings(task="multiclass", trials=6, max_epochs=3, name="nan", space=str(space),
                                      scheduler="fifo", search="random", tracking_uri=tracking_uri, storage=storage))
    failed = [t for t in outcome.trials if t.status == "failed"]
    assert failed and all("became" in t.error for t in failed)
    assert len(outcome.trials) == 6  # the sweep went on after the first divergence
    for run in children_of(tracking_uri, "nan"):
        if run.data.tags["hpo.status"] == "failed":
            assert "became" in run.data.tags["hpo.error"]
