"""GPU flags on a Ray without GPUs (the session's local Ray): `auto` means the CPU, with a message;
an explicit GPU share is refused before anything is written."""
import pytest

from pipelines.engine.settings import SweepSettings
from pipelines.engine.sweep import run_sweep
from pipelines.errors import UsageError


def test_auto_on_a_cluster_without_gpus_runs_on_the_cpu(local_ray, store):
    folder, tracking_uri, storage = store
    said = []
    outcome = run_sweep(SweepSettings(task="binary", trials=1, max_epochs=1, name="auto", gpus_per_trial="auto",
                                      tracking_uri=tracking_uri, storage=storage), echo=said.append)
    assert said[0] == "--gpus-per-trial auto: the Ray cluster has no GPUs, so trials run on the CPU."
    assert outcome.best is not None and [t.status for t in outcome.trials] == ["completed"]


def test_an_explicit_gpu_share_on_a_cluster_without_gpus_is_refused(local_ray, store):
    folder, tracking_uri, storage = store
    with pytest.raises(UsageError, match=r"--gpus-per-trial 0.5 asks for GPUs, but the Ray cluster has none"):
        run_sweep(SweepSettings(task="binary", trials=1, max_epochs=1, name="gpus", gpus_per_trial=0.5,
                                tracking_uri=tracking_uri, storage=storage))
    assert not (folder / "ray_results" / "gpus").exists() and not (folder / "mlflow.db").exists()
