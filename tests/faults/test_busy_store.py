"""Another process holds the MLflow SQLite store locked, or the tracking server restarts: the sweep waits it
out and completes; locked longer than the sweep's patience (HPO_STORE_PATIENCE), it stops with one `error:`
and its state saved, and `hpo resume` completes it once the store answers."""
import sqlite3
import time

from tests.faults.sweeps import QUICK, check_every_trial_once, hpo, kill_group, start, study_states, wait_until
from tests.integration.test_serving import free_port, start_ui, stop_ui

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


def test_a_tracking_server_that_restarts_mid_sweep_is_waited_out(tmp_path):
    store, port, trials = f"sqlite:///{tmp_path / 'mlflow.db'}", free_port(), 10
    server = start_ui(store, port)  # the sweep's tracking server: `hpo ui` over the SQLite store
    process = None
    try:
        process = start(tmp_path, "run", *QUICK, "--trials", str(trials), "--name", "restart",
                        "--tracking-uri", f"http://127.0.0.1:{port}")
        wait_until(lambda: study_states(tmp_path / "ray_results" / "restart", "restart").count("COMPLETE") >= 2,
                   process, "two trials ended")
        stop_ui(server)
        ended = study_states(tmp_path / "ray_results" / "restart", "restart").count("COMPLETE")
        time.sleep(10)  # refused connections: the sweep's MLflow calls wait
        server = start_ui(store, port)
        status, log = process.wait(timeout=400), (tmp_path / "run.log").read_text()
    finally:
        if process is not None and process.poll() is None:  # the test failed mid-sweep
            kill_group(process)
        stop_ui(server)
    assert status == 0 and "Traceback" not in log, log
    assert ended < trials, "the server went down after the trials: not mid-sweep"
    assert "View run" not in log  # MLflow's two links per run ended on a server: the summary has the sweep's
    check_every_trial_once(store, tmp_path / "ray_results" / "restart", "restart", trials)
