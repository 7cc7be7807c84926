"""Another process holds the MLflow SQLite store locked: the sweep waits it out and completes; locked longer
than the sweep's patience (HPO_STORE_PATIENCE), it stops with one `error:` and its state saved, and
`hpo resume` completes it once the store answers."""
import sqlite3
import time

from tests.faults.sweeps import QUICK, check_every_trial_once, hpo, start, wait_until

BUDGET = 4


def hold_lock(database, seconds):
    """An exclusive lock on the whole SQLite file (readers wait too), as a backup or a long write holds it."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    time.sleep(seconds)
    connection.execute("COMMIT")
    connection.close()


def sweep_locked_for(folder, seconds, patience=None):
    extra = {"HPO_STORE_PATIENCE": str(patience)} if patience is not None else {}
    process = start(folder, "run", *QUICK, "--trials", str(BUDGET), "--name", "busy", env=extra)
    wait_until(lambda: "  mlflow " in (folder / "run.log").read_text(), process, "the sweep's header")
    hold_lock(folder / "mlflow.db", seconds)
    return process.wait(timeout=400), (folder / "run.log").read_text()


def test_a_store_locked_for_a_minute_is_waited_out(tmp_path):
    status, log = sweep_locked_for(tmp_path, 60)
    assert status == 0, log
    assert "note: the MLflow store is busy or out of reach" in log and "Traceback" not in log
    check_every_trial_once(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "ray_results" / "busy", "busy", BUDGET)


def test_a_store_locked_past_the_patience_stops_the_sweep_for_a_resume(tmp_path):
    status, log = sweep_locked_for(tmp_path, 30, patience=5)  # MLflow itself waits 20 s before it fails
    assert status == 1, log
    errors = [line for line in log.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "stayed busy or out of reach" in errors[0] and "hpo resume busy" in errors[0]
    assert "Traceback" not in log
    done = hpo(tmp_path, "resume", "busy")
    assert done.returncode == 0, done.stdout + done.stderr
    check_every_trial_once(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "ray_results" / "busy", "busy", BUDGET)
