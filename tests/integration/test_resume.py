"""A sweep killed with kill -9, or stopped with Ctrl-C once or twice, is continued by `hpo resume`:
every trial done exactly once in MLflow and in the Optuna study, nothing left RUNNING."""
import os
import signal
import subprocess
import sys
import time

import optuna
import psutil
import pytest
from mlflow.tracking import MlflowClient

HPO = os.path.join(os.path.dirname(sys.executable), "hpo")
TRIALS = 10


def start(tmp_path, name):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    log = open(tmp_path / f"{name}.log", "w")
    # A session of its own, like a sweep started from a terminal: its process group can be killed whole.
    return subprocess.Popen([HPO, "run", "binary", "--trials", str(TRIALS), "--max-epochs", "30", "--scheduler",
                             "fifo", "--name", name], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def runs(tmp_path, name):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("binary")
    if experiment is None:
        return [], []
    found = client.search_runs([experiment.experiment_id], filter_string=f"tags.`hpo.sweep` = '{name}'")
    return ([r for r in found if r.data.tags.get("hpo.role") == "sweep"],
            [r for r in found if r.data.tags.get("hpo.role") == "trial"])


def wait_for_finished_trials(tmp_path, name, count, process, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / f"{name}.log").read_text()
        try:
            _, children = runs(tmp_path, name)
        except Exception:  # the store may be mid-creation
            children = []
        if sum(r.info.status == "FINISHED" for r in children) >= count:
            return
        time.sleep(0.5)
    pytest.fail(f"fewer than {count} trials finished in {timeout}s")


def kill_group(process):
    """kill -9 of the sweep's process group, then of any process it started elsewhere, by process id."""
    descendants = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for child in descendants:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def resume_and_check(tmp_path, name):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    done = subprocess.run([HPO, "resume", name], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr
    parents, children = runs(tmp_path, name)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert parents[0].data.tags["hpo.status"] == "completed" and "test_acc" in parents[0].data.metrics
    trial_ids = [r.data.tags["hpo.trial_id"] for r in children]
    assert len(trial_ids) == len(set(trial_ids)), "a trial got two runs"
    assert not [r for r in children if r.info.status in ("RUNNING", "KILLED")]
    kept = [r for r in children if not r.data.tags.get("hpo.error", "").startswith("lost")]
    assert len(kept) == TRIALS and all(r.data.tags["hpo.status"] == "completed" for r in kept)

    study = optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path}/ray_results/{name}/optuna.db")
    states = [t.state.name for t in study.trials]
    assert "RUNNING" not in states and states.count("COMPLETE") == TRIALS
    numbers = [int(r.data.tags["hpo.optuna_trial"]) for r in kept]
    assert len(numbers) == len(set(numbers))
    assert {t.number for t in study.trials if t.state.name == "COMPLETE"} == set(numbers)
    return done


def test_kill_9_of_the_process_group_then_resume(tmp_path):
    process = start(tmp_path, "killed")
    wait_for_finished_trials(tmp_path, "killed", 3, process)
    kill_group(process)
    _, children = runs(tmp_path, "killed")
    assert any(r.info.status == "RUNNING" for r in children) or len(children) < TRIALS
    resume_and_check(tmp_path, "killed")


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_then_resume(tmp_path, presses):
    name = f"ctrl-c-{presses}"
    process = start(tmp_path, name)
    wait_for_finished_trials(tmp_path, name, 2, process)
    for _ in range(presses):
        os.kill(process.pid, signal.SIGINT)
        time.sleep(0.05)
    try:
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            kill_group(process)
    log = (tmp_path / f"{name}.log").read_text()
    assert "hpo resume" in log and "Traceback" not in log
    parents, children = runs(tmp_path, name)
    if presses == 1:
        assert parents[0].info.status == "KILLED" and parents[0].data.tags["hpo.status"] == "interrupted"
    if presses == 1:  # a graceful stop closes every run it had open; an abort tries, resume finishes it
        assert not [r for r in children if r.info.status == "RUNNING"]
    resume_and_check(tmp_path, name)


def test_resume_raises_the_budget_of_a_finished_sweep(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}

    def hpo(*args):
        return subprocess.run([HPO, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)

    first = hpo("run", "multiclass", "--trials", "3", "--max-epochs", "4", "--name", "grow")
    assert first.returncode == 0, first.stderr
    lower = hpo("resume", "grow", "--trials", "2")
    assert lower.returncode == 2 and "at least its budget of 3" in lower.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    before = [(r.info.run_id, r.info.status, r.info.end_time, sorted(r.data.metrics.items()))
              for r in client.search_runs([client.get_experiment_by_name("multiclass").experiment_id])]
    same = hpo("resume", "grow")  # no new budget: complete, nothing touched (no second model or counts)
    assert same.returncode == 0 and "sweep grow is complete: its 3 trials ran, nothing was changed" in same.stdout
    assert [(r.info.run_id, r.info.status, r.info.end_time, sorted(r.data.metrics.items()))
            for r in client.search_runs([client.get_experiment_by_name("multiclass").experiment_id])] == before
    folder = tmp_path / "ray_results" / "grow"
    folder.chmod(0o777)   # anyone may write the pickles a resume loads: refused, nothing touched
    open_to_all = hpo("resume", "grow", "--trials", "5")
    assert open_to_all.returncode == 2 and "can be written by anyone" in open_to_all.stderr
    folder.chmod(0o755)
    more = hpo("resume", "grow", "--trials", "5")
    assert more.returncode == 0, more.stdout + more.stderr

    runs = client.search_runs([client.get_experiment_by_name("multiclass").experiment_id])
    parent = [r for r in runs if r.data.tags.get("hpo.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("hpo.role") == "trial"]
    assert len(parent) == 1 and parent[0].info.status == "FINISHED" and parent[0].data.tags["hpo.trials"] == "5"
    assert len(children) == 5 and len({r.data.tags["hpo.trial_id"] for r in children}) == 5
    study = optuna.load_study(study_name="grow", storage=f"sqlite:///{tmp_path}/ray_results/grow/optuna.db")
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3, 4]
    assert "RUNNING" not in {t.state.name for t in study.trials}


def test_resume_of_an_unknown_sweep_is_refused(tmp_path):
    done = subprocess.run([HPO, "resume", "nosuch"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("error: No sweep named 'nosuch' to resume")
