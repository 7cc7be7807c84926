"""A real local Ray for the whole integration session, and a real MLflow SQLite store per test."""
import pytest


@pytest.fixture(scope="session")
def local_ray():
    import ray

    # Its own processes, ended by ray.shutdown() at the end: never `ray stop`, which would end others' too.
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A working folder with its own MLflow store and Ray storage; returns (folder, tracking_uri, storage)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path, f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "ray_results")
