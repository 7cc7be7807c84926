"""The child run of each trial under the sweep's parent run, written from Ray Tune's callback events.

Per-epoch metrics and the node tags are buffered and sent with log_batch every few seconds and when a
trial ends: each MLflow call is a store transaction. MLflow's names are imported inside the methods, as in
pipelines.tracking.store.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from ray.tune import Callback

from pipelines.engine import interrupts
from pipelines.engine.outcomes import epochs_of, last_line, outcome_of, trial_label
from pipelines.tracking.runs import child_runs
from pipelines.tracking.store import MAX_BATCH, RUN_STATUS, params_of
from trainables.metrics import epoch_metrics

FLUSH_SECONDS = 2.0          # how stale the UI's per-epoch metrics may get while a sweep runs


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
        self.metric_names = epoch_metrics(tuple(metric_names))
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
        for run in child_runs(self.client, self.experiment, self.parent_run_id):
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
        if result.get("checkpoint_lost"):
            self.pending_tags.setdefault(run_id, []).append(
                RunTag("hpo.restarted", "its checkpoint was missing from the sweep's folder: trained from the start"))
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
    # Tune writes the error next to the driver first and copies it to storage later: read it there.
    path = trial.error_file
    text = Path(path).read_text() if path and Path(path).is_file() else trial.get_error()
    return last_line(str(text or "unknown error"))
