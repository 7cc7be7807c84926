"""MLflow: where the store is, the sweep's parent run, and one nested child run per trial.

All writes happen in the driver process through one MlflowClient: trials never talk to MLflow, so a
SQLite store has a single writer and no lock errors, and the same code works with a remote server.
Per-epoch metrics and the node tags are buffered and sent with log_batch every few seconds and when a
trial ends.
"""
from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from urllib.parse import urlparse

from ray.tune import Callback

from pipelines import interrupts
from pipelines.errors import UsageError
from pipelines.trial import epochs_of, outcome_of, trial_label

FLUSH_SECONDS = 2.0          # how stale the UI's per-epoch metrics may get while a sweep runs
MAX_BATCH = 1000             # MLflow's limit of metrics in one log_batch call
RUN_STATUS = {"failed": "FAILED", "interrupted": "KILLED"}  # MLflow run status by hpo.status; else FINISHED
SCHEMES = ("sqlite", "http", "https", "file", "postgresql", "mysql", "databricks")


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
    import urllib.error
    import urllib.request

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
    mlflow.set_tracking_uri(tracking_uri)
    with store_lock(tracking_uri):
        # The first use creates a new SQLite store (schema migrations): one process at a time.
        client = MlflowClient(tracking_uri)
        client.search_experiments(max_results=1)
    return client


def store_lock(tracking_uri: str):
    """A file lock beside a SQLite store, for what two sweeps starting at once must not race on."""
    import contextlib

    from filelock import FileLock

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


class TrialLogger(Callback):
    """Ray Tune callback: a child run per trial under the sweep's parent run, metrics batched.

    The trial's status tag is `completed` when it ended by itself (its epoch budget or its patience),
    `early_stopped` when the scheduler (hpo.stop_reason=scheduler) or the end of the sweep
    (sweep_ended: its time budget) stopped it first, `failed` when it raised or diverged, and
    `interrupted` (run KILLED) when Ctrl-C ended the sweep first; `hpo resume` reopens those.
    """

    def __init__(self, client, experiment: str, parent_run_id: str, sweep: str, task: str,
                 metric_names: tuple[str, ...], number_of):
        self.client = client
        self.experiment = experiment
        self.parent_run_id = parent_run_id
        self.sweep = sweep
        self.task = task
        self.metric_names = ("train_loss", "val_loss", "best_val_loss") + tuple(metric_names)
        self.number_of = number_of            # Ray trial id -> Optuna trial number
        self.runs: dict[str, str] = {}        # Ray trial id -> MLflow run id
        self.pending: dict[str, list] = {}    # MLflow run id -> metrics not yet sent
        self.pending_tags: dict[str, list] = {}  # MLflow run id -> tags not yet sent
        self.tagged: dict[str, str] = {}      # Ray trial id -> the node its tags name
        self.logged_epoch: dict[str, int] = {}  # Ray trial id -> last epoch whose metrics were logged
        self.last_flush = time.monotonic()
        self.adopted = True                   # a new sweep has no earlier runs to adopt

    def __setstate__(self, state):
        # Unpickled: Tune restores its callbacks when a sweep is resumed. The runs it made before
        # are adopted from MLflow at the first trial start, so that no trial gets a second run.
        self.__dict__.update(state)
        for name in ("logged_epoch", "pending_tags"):  # saved by a version that did not keep them
            self.__dict__.setdefault(name, {})
        self.adopted = False

    def adopt_earlier_runs(self) -> None:
        earlier = self.client.search_runs([self.experiment], max_results=50000,
                                          filter_string=f"tags.mlflow.parentRunId = '{self.parent_run_id}'")
        for run in earlier:
            trial_id = run.data.tags.get("hpo.trial_id")
            if trial_id and trial_id not in self.runs:
                self.runs[trial_id] = run.info.run_id
        self.adopted = True

    def reopen(self, trial_id: str, run_id: str) -> None:
        from mlflow.entities import RunTag

        self.client.update_run(run_id, status="RUNNING")
        self.client.log_batch(run_id, tags=[RunTag("hpo.status", "running")])
        self.pending.setdefault(run_id, [])
        # It goes on from its last checkpoint, which may be older than the last epoch it logged.
        steps = [m.step for m in self.client.get_metric_history(run_id, "val_loss")]
        self.logged_epoch[trial_id] = max(steps, default=0)

    def run_name(self, trial) -> str:
        return trial_label(self.number_of(trial.trial_id), trial.trial_id)

    def on_trial_start(self, iteration, trials, trial, **info):
        if not self.adopted:
            self.adopt_earlier_runs()
        if trial.trial_id in self.runs:  # a retried or resumed trial goes on in its run
            if self.runs[trial.trial_id] not in self.pending:
                self.reopen(trial.trial_id, self.runs[trial.trial_id])
            return
        from mlflow.entities import RunTag

        run = self.client.create_run(self.experiment, run_name=self.run_name(trial), tags={
            "mlflow.parentRunId": self.parent_run_id, "hpo.sweep": self.sweep, "hpo.task": self.task,
            "hpo.role": "trial", "hpo.trial_id": trial.trial_id, "hpo.status": "running"})
        run_id = run.info.run_id
        self.runs[trial.trial_id] = run_id
        self.pending[run_id] = []
        number = self.number_of(trial.trial_id)
        tags = [RunTag("hpo.optuna_trial", str(number))] if number is not None else []
        self.client.log_batch(run_id, params=params_of(trial.config), tags=tags)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        from mlflow.entities import Metric, RunTag

        run_id = self.runs.get(trial.trial_id)
        if run_id is None:
            return
        if "node_id" in result and self.tagged.get(trial.trial_id) != result["node_id"]:
            # Again when a retry (after its node died, say) runs the trial on another node.
            self.tagged[trial.trial_id] = result["node_id"]
            tags = [RunTag("ray.node_id", str(result["node_id"])),
                    RunTag("hpo.device", str(result.get("device", "cpu")))]
            if result.get("device_fallback"):  # given a GPU that CUDA could not see: trained on the CPU
                tags.append(RunTag("hpo.device_fallback", str(result["device_fallback"])))
            self.pending_tags.setdefault(run_id, []).extend(tags)  # sent with the metrics
        stamp, batch = int(time.time() * 1000), self.pending[run_id]
        for epoch in epochs_of(result):
            # A retried trial goes on from its last checkpoint, which may be older than its last
            # report: the epochs it runs again are logged once.
            step = int(epoch["epoch"])
            if step <= self.logged_epoch.get(trial.trial_id, 0):
                continue
            self.logged_epoch[trial.trial_id] = step
            for name in self.metric_names:
                value = epoch.get(name)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    batch.append(Metric(name, float(value), stamp, step))

    def on_step_end(self, iteration, trials, **info):
        if time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def send(self, run_id: str, tags: list = ()) -> None:
        """A run's buffered metrics and tags, and `tags`, in as few log_batch calls as MLflow allows
        (each is a store transaction: a short trial's whole result goes in one)."""
        metrics = self.pending.get(run_id, [])
        tags = list({t.key: t for t in self.pending_tags.pop(run_id, []) + list(tags)}.values())  # last wins
        while metrics or tags:
            self.client.log_batch(run_id, metrics=metrics[:MAX_BATCH], tags=tags)
            del metrics[:MAX_BATCH]
            tags = []

    def flush(self) -> None:
        for run_id in list(self.pending):
            self.send(run_id)
        self.last_flush = time.monotonic()

    def finish(self, trial, status: str, error: str | None = None, stop_reason: str | None = None) -> None:
        run_id = self.runs.get(trial.trial_id)
        if run_id is None:
            return
        from mlflow.entities import RunTag

        tags = [RunTag("hpo.status", status)]
        if error:
            tags.append(RunTag("hpo.error", error[:5000]))
        if stop_reason:
            tags.append(RunTag("hpo.stop_reason", stop_reason))
        self.send(run_id, tags)
        self.client.set_terminated(run_id, RUN_STATUS.get(status, "FINISHED"))
        self.pending.pop(run_id, None)

    def close_open(self, trials, status: str | None = None, **reason) -> None:
        """End the runs of trials still open; `status` None: each by its last result."""
        for trial in trials:
            if self.runs.get(trial.trial_id) in self.pending:
                self.finish(trial, status or outcome_of(trial.last_result), **reason)

    def on_trial_complete(self, iteration, trials, trial, **info):
        outcome = outcome_of(trial.last_result)
        self.finish(trial, outcome, error=trial.last_result.get("diverged"),
                    stop_reason="scheduler" if outcome == "early_stopped" else None)

    def on_trial_error(self, iteration, trials, trial, **info):
        self.finish(trial, "failed", error_summary(trial))

    def on_experiment_end(self, trials, **info):
        # Trials the sweep itself ended get no completion event from Tune: by Ctrl-C (they go on
        # with `hpo resume`) or by the time budget (they are over).
        if interrupts.guard.pressed():
            self.close_open(trials, "interrupted")
        else:
            self.close_open(trials, stop_reason="sweep_ended")
        self.flush()


def error_summary(trial) -> str:
    """The last line of a failed trial's error (the exception and its message)."""
    from pipelines.sweep import last_line

    # Tune writes the error next to the driver first and copies it to storage later: read it there.
    path = trial.error_file
    text = Path(path).read_text() if path and Path(path).is_file() else trial.get_error()
    return last_line(str(text or "unknown error"))
