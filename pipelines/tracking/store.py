"""The MLflow store: where it is, the client that writes it, its experiments, and params as MLflow takes them.

All writes happen in the driver process through one MlflowClient: trials never talk to MLflow, so a
SQLite store has a single writer and no lock errors, and the same code works with a remote server.
MLflow is imported inside the functions: a sweep imports it beside Ray's start (pipelines.engine.sweep).
"""
from __future__ import annotations

import contextlib
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from filelock import FileLock

from pipelines.errors import UsageError
from pipelines.tracking.patience import PatientClient

MAX_BATCH = 1000             # MLflow's limit of metrics in one log_batch call
RUN_STATUS = {"failed": "FAILED", "interrupted": "KILLED"}  # MLflow run status by hpo.status; else FINISHED
SCHEMES = ("sqlite", "http", "https", "file", "postgresql", "mysql", "databricks")
PREPROCESSING_FILE = "preprocessing.json"  # on a sweep's parent run: what became of each column of its table


def resolve_tracking_uri(flag: str | None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else sqlite:///<cwd>/mlflow.db; sqlite paths made absolute.

    Absolute matters: trials and tools may run with another working directory, and a relative sqlite
    path would quietly make a second store there.
    """
    uri = flag or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"
    scheme = urlparse(uri).scheme
    if scheme not in SCHEMES:
        raise UsageError(f"The --tracking-uri {uri!r} has an unsupported scheme {scheme!r}; "
                         f"use one of {', '.join(SCHEMES)} (e.g. sqlite:///path/mlflow.db or http://host:5000).")
    if scheme == "sqlite":
        path = Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None
        if path is None or not str(path):
            raise UsageError(f"The --tracking-uri {uri!r} must look like sqlite:///path/to/mlflow.db.")
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.parent.is_dir():
            raise UsageError(f"The folder of the --tracking-uri database '{path.parent}' does not exist.")
        uri = f"sqlite:///{path}"
    if scheme in ("http", "https"):
        check_server(uri)
    return uri


def check_server(uri: str, timeout: float = 5.0) -> None:
    """A tracking server must answer before a sweep starts; MLflow's own client would retry for minutes."""
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # it answered: a server (behind a proxy, say) without /health
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(f"The MLflow tracking server at --tracking-uri {uri!r} cannot be reached ({reason}); "
                         "start it, or use a local store like sqlite:///path/mlflow.db.") from None


def artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """Artifacts of a SQLite store sit beside the database file, not in whatever cwd a run has."""
    if not tracking_uri.startswith("sqlite:///"):
        return None  # a server or database store decides for itself
    return (Path(tracking_uri[len("sqlite:///"):]).parent / "mlartifacts" / experiment).as_uri()


def client_for(tracking_uri: str):
    import mlflow
    from mlflow.tracking import MlflowClient

    # MLflow sets its logger to INFO when imported (schema set-up notes); a user needs only warnings.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # It logs each failed query with a traceback; a busy store's are waited out (PatientClient), others raised.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    mlflow.set_tracking_uri(tracking_uri)
    with store_lock(tracking_uri):
        # The first use creates a new SQLite store (schema migrations): one process at a time.
        client = PatientClient(MlflowClient(tracking_uri))
        client.search_experiments(max_results=1)
    return client


def store_lock(tracking_uri: str):
    """A file lock beside a SQLite store, for what two sweeps starting at once must not race on."""
    if not tracking_uri.startswith("sqlite:///"):
        return contextlib.nullcontext()
    return FileLock(tracking_uri[len("sqlite:///"):] + ".lock", timeout=120)


def experiment_id(client, name: str, tracking_uri: str) -> str:
    with store_lock(tracking_uri):  # two sweeps of one task starting at once make one experiment
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        return client.create_experiment(name, artifact_location=artifact_location(tracking_uri, name))


def params_of(config: dict) -> list:
    from mlflow.entities import Param

    return [Param(str(k), str(v)) for k, v in config.items()]
