"""MLflow calls that wait out a busy or absent store (pipelines/tracking/patience.py), on real stores; a
locked SQLite store is in the fault suite (tests/faults/test_busy_store.py): MLflow waits 20 s per try there."""
import pickle
import socket
import time

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from pipelines.tracking.patience import PatientClient, StoreUnavailable


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()  # the store's tables
    return path


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free, and nothing listens once the probe closes


def test_a_store_out_of_reach_is_tried_again_until_the_patience_is_spent(monkeypatch):
    # MLflow's own retries off, so each attempt fails at once (a SQLite lock is held by the fault suite).
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    said, pauses = [], []
    client = PatientClient(MlflowClient(f"http://127.0.0.1:{closed_port()}"), patience=3, say=said.append,
                           sleep=lambda s: (pauses.append(s), time.sleep(s)))
    with pytest.raises(StoreUnavailable, match="stayed busy or out of reach"):
        client.search_experiments()
    assert len(said) == 1 and "waiting up to 3s" in said[0]
    assert len(pauses) >= 2 and pauses[1] > pauses[0]   # a growing pause between tries


def test_an_error_that_is_not_the_store_s_is_raised_at_once_and_the_client_pickles(database):
    client = PatientClient(MlflowClient(f"sqlite:///{database}"), patience=60)
    started = time.monotonic()
    with pytest.raises(MlflowException):
        client.get_run("no-such-run")
    assert time.monotonic() - started < 5
    again = pickle.loads(pickle.dumps(client))  # Tune pickles the callbacks that hold it
    assert again.tracking_uri == client.tracking_uri and again.search_experiments()
