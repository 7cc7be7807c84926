"""Real sweeps in child processes, as a user starts them from a terminal, and the checks every fault test
ends with: each trial exactly once in MLflow and in the Optuna study, or nothing changed at all."""
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from mlflow.tracking import MlflowClient

from pipelines.engine import study_file

HPO = os.path.join(os.path.dirname(sys.executable), "hpo")
# Small, quick trials: binary on the single split, every trial to its last epoch.
QUICK = ("binary", "--max-epochs", "6", "--scheduler", "fifo", "--cv", "0", "--concurrency", "1")


def environment() -> dict:
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def hpo(folder: Path, *args, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run([HPO, *args], cwd=folder, env=environment(), capture_output=True, text=True,
                          timeout=timeout)


def start(folder: Path, *args, log: str = "run.log", env: dict | None = None) -> subprocess.Popen:
    """`hpo ARGS` in a session of its own, like a sweep started from a terminal: its group can be killed whole."""
    return subprocess.Popen([HPO, *args], cwd=folder, env={**environment(), **(env or {})},
                            stdout=open(folder / log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(process: subprocess.Popen) -> None:
    """kill -9 of the process group, then of any process it started elsewhere, by process id."""
    descendants = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for child in descendants:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, f"the process ended before {what}"
        time.sleep(0.02)
    pytest.fail(f"no {what} within {timeout}s")


def study_states(sweep_dir: Path, name: str) -> list[str]:
    if not (sweep_dir / study_file.STUDY_FILE).is_file():
        return []  # not made yet (looked at, never made: a reader's open would make it)
    try:
        return [t.state.name for t in study_file.load(name, sweep_dir / study_file.STUDY_FILE).trials]
    except Exception:  # the study not in it yet
        return []


def runs(tracking_uri: str, name: str):
    """The sweep's parent runs and child runs."""
    client = MlflowClient(tracking_uri)
    found = client.search_runs([e.experiment_id for e in client.search_experiments()],
                               filter_string=f"tags.`hpo.sweep` = '{name}'", max_results=5000)
    return ([r for r in found if r.data.tags.get("hpo.role") == "sweep"],
            [r for r in found if r.data.tags.get("hpo.role") == "trial"])


def check_every_trial_once(tracking_uri: str, sweep_dir: Path, name: str, budget: int) -> None:
    """The sweep completed its budget: one parent, each trial's run once, the study without RUNNING trials,
    and the MLflow runs and the study's completed trials the same trials."""
    parents, children = runs(tracking_uri, name)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED", [p.info.status for p in parents]
    assert parents[0].data.tags["hpo.status"] == "completed" and "test_acc" in parents[0].data.metrics
    trial_ids = [r.data.tags["hpo.trial_id"] for r in children]
    assert len(trial_ids) == len(set(trial_ids)), "a trial got two runs"
    assert not [r for r in children if r.info.status in ("RUNNING", "KILLED")]
    kept = [r for r in children if not r.data.tags.get("hpo.error", "").startswith("lost")]
    assert len(kept) == budget and all(r.data.tags["hpo.status"] == "completed" for r in kept), \
        sorted((r.data.tags.get("hpo.optuna_trial"), r.data.tags["hpo.status"]) for r in children)
    study = study_file.load(name, sweep_dir / study_file.STUDY_FILE)
    states = [t.state.name for t in study.trials]
    assert "RUNNING" not in states and states.count("COMPLETE") == budget, states
    numbers = [int(r.data.tags["hpo.optuna_trial"]) for r in kept]
    assert len(numbers) == len(set(numbers))
    assert {t.number for t in study.trials if t.state.name == "COMPLETE"} == set(numbers)


def fingerprint(*paths: Path) -> dict:
    """Every file under the paths with a hash of its content: what 'nothing changed' compares."""
    found = {}
    for root in paths:
        for path in sorted(Path(root).rglob("*")) if Path(root).is_dir() else [Path(root)]:
            if path.is_file() and path.suffix != ".lock" and not path.name.endswith("-journal"):
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def store_rows(tracking_uri: str) -> list:
    """Every run of the store with its status, end time, tags and metrics: what 'nothing changed' compares
    for MLflow (its SQLite file's bytes may change on a read)."""
    client = MlflowClient(tracking_uri)
    return sorted((r.info.run_id, r.info.status, r.info.end_time, sorted(r.data.tags.items()),
                   sorted(r.data.metrics.items()))
                  for r in client.search_runs([e.experiment_id for e in client.search_experiments()],
                                              max_results=5000))
