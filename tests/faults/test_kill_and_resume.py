"""A sweep killed with kill -9 at any moment, or stopped with Ctrl-C once or twice, is continued by
`hpo resume`: every trial done exactly once in MLflow and in the Optuna study, nothing left RUNNING."""
import json
import os
import signal
import time

import pytest
from mlflow.tracking import MlflowClient

from pipelines.engine import study_file
from pipelines.engine.internals import EXPERIMENT_STATE_PATTERN, SEARCH_STATE_PATTERN, SEARCHER_STATE_PATTERN
from tests.faults.sweeps import (
    QUICK,
    check_every_trial_once,
    hpo,
    kill_group,
    runs,
    start,
    study_states,
    wait_until,
)

TRIALS = 6    # of the Ctrl-C sweeps
BUDGET = 4    # of the kill-at-a-moment sweeps


def tracking(folder):
    return f"sqlite:///{folder / 'mlflow.db'}"


def log_of(folder, name="run.log"):
    return (folder / name).read_text()


MOMENTS = {
    # Ray is starting: the folder and its settings are on disk, nothing else.
    "ray_start": lambda folder, name: (folder / "ray_results" / name / "sweep_config.yaml").is_file(),
    # The header is out: study and parent run made, Tune has saved nothing yet.
    "before_tune_saved": lambda folder, name: "  mlflow " in log_of(folder),
    "mid_sweep": lambda folder, name: study_states(folder / "ray_results" / name, name).count("COMPLETE") >= 2,
    # Every trial done and saved by Tune (its save at the end of the trials): the final model is being chosen
    # and logged. (The study alone says a trial is done up to 10 s before Tune saves it.)
    "final_model": lambda folder, name: tune_saved_done(folder / "ray_results" / name) >= BUDGET,
}


def tune_saved_done(sweep_dir) -> int:
    """How many trials Tune's latest saved experiment state holds as terminated."""
    saved = sorted(sweep_dir.glob(EXPERIMENT_STATE_PATTERN))
    try:
        trials = json.loads(saved[-1].read_text())["trial_data"] if saved else []
        return sum(json.loads(trial)["status"] == "TERMINATED" for trial, _ in trials)
    except (OSError, ValueError, KeyError):  # mid-write
        return 0


@pytest.mark.parametrize("moment", [*MOMENTS, "during_resume"])
def test_kill_9_at_any_moment_then_resume_runs_exactly_the_budget(tmp_path, moment):
    name = moment.replace("_", "-")
    sweep_dir = tmp_path / "ray_results" / name
    # Mid-sweep with two trials running at once, as on a 2-core machine by default.
    concurrency = ["--concurrency", "2"] if moment == "mid_sweep" else []
    process = start(tmp_path, "run", *QUICK, *concurrency, "--trials", str(BUDGET), "--name", name)
    wait_until(lambda: MOMENTS.get(moment, MOMENTS["mid_sweep"])(tmp_path, name), process, moment)
    kill_group(process)
    if moment == "during_resume":  # a resume killed as it runs its first trial again
        done = len(study_states(sweep_dir, name))
        process = start(tmp_path, "resume", name, log="resume.log")
        wait_until(lambda: len(study_states(sweep_dir, name)) > done, process, "a trial of the resume")
        kill_group(process)
    done = hpo(tmp_path, "resume", name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    check_every_trial_once(tracking(tmp_path), sweep_dir, name, BUDGET)


TUNE_STATE = (EXPERIMENT_STATE_PATTERN, SEARCH_STATE_PATTERN, SEARCHER_STATE_PATTERN)


def snapshot_of_tune_state(sweep_dir, process, snapshot: dict) -> bool:
    """Tune's saved files, read with the sweep paused, where they are one save that holds one trial."""
    os.kill(process.pid, signal.SIGSTOP)
    try:
        files = {path: path.read_bytes() for pattern in TUNE_STATE for path in sweep_dir.glob(pattern)}
        experiment = next(json.loads(v) for k, v in files.items() if k.match(EXPERIMENT_STATE_PATTERN))
        numbers = next(json.loads(v)["numbers"] for k, v in files.items() if k.match(SEARCHER_STATE_PATTERN))
    except (StopIteration, ValueError, KeyError):  # not saved yet, or mid-write
        return False
    finally:
        os.kill(process.pid, signal.SIGCONT)
    trial_ids = {json.loads(trial)["trial_id"] for trial, _ in experiment["trial_data"]}
    if len(files) != len(TUNE_STATE) or len(numbers) != 1 or trial_ids != set(numbers):
        return False
    snapshot.update(files)
    return True


def test_kill_9_after_trials_ended_that_tune_had_not_saved_then_resume_keeps_them(tmp_path):
    """Tune saves a sweep at trial checkpoints and at most every 10 s: trials that end between two saves are
    known to the study and MLflow only when a crash comes. Here the kill comes three trials on from Tune's save
    of the first, and Tune's files are put back as that save left them (what a crash leaves where Tune saved
    nothing since): the resume keeps the later trials, runs only what is left of the budget, and each trial is
    once in MLflow and in the study."""
    name = "unsaved"
    sweep_dir = tmp_path / "ray_results" / name
    process = start(tmp_path, "run", *QUICK, "--trials", str(BUDGET), "--name", name)
    snapshot: dict = {}
    wait_until(lambda: snapshot_of_tune_state(sweep_dir, process, snapshot), process, "Tune's save of one trial")
    wait_until(lambda: study_states(sweep_dir, name).count("COMPLETE") >= 3, process, "three trials ended")
    kill_group(process)
    for path in (p for pattern in TUNE_STATE for p in sweep_dir.glob(pattern)):
        path.unlink()
    for path, content in snapshot.items():
        path.write_bytes(content)
    # The crash may come between the study's tell and MLflow's end of the run: open, it is closed as it ended.
    _, children = runs(tracking(tmp_path), name)
    MlflowClient(tracking(tmp_path)).update_run(
        next(r for r in children if r.data.tags.get("hpo.optuna_trial") == "2").info.run_id, status="RUNNING")
    done = hpo(tmp_path, "resume", name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kept from the study and not run again" in done.stdout and \
        "final model): trial-001, trial-002" in done.stdout, done.stdout
    assert f"trials {BUDGET}/{BUDGET} done" in done.stderr, done.stderr
    assert f"{BUDGET} trials in" in done.stdout, done.stdout
    check_every_trial_once(tracking(tmp_path), sweep_dir, name, BUDGET)


def test_kill_9_of_a_grid_sweep_as_it_hands_out_a_trial_then_resume_runs_each_point_once(tmp_path):
    """A grid counts a failed point as visited: the point of a trial the kill lost runs after the resume."""
    (tmp_path / "grid.yaml").write_text("lr: {type: categorical, choices: [0.1, 0.01, 0.001]}\n"
                                        "n_layers: {type: categorical, choices: [0, 1]}\n")
    sweep_dir = tmp_path / "ray_results" / "grid"
    quick = [a for a in QUICK if a not in ("--concurrency", "1")]
    process = start(tmp_path, "run", *quick, "--concurrency", "2", "--search", "grid", "--space", "grid.yaml",
                    "--name", "grid")
    wait_until(lambda: len(study_states(sweep_dir, "grid")) >= 3, process, "a third trial handed out")
    kill_group(process)  # mostly before Tune saved the third trial: resume closes it as lost
    done = hpo(tmp_path, "resume", "grid")
    assert done.returncode == 0, done.stdout + done.stderr
    check_every_trial_once(tracking(tmp_path), sweep_dir, "grid", 6)
    study = study_file.load("grid", sweep_dir / study_file.STUDY_FILE)
    points = [(t.params["lr"], t.params["n_layers"]) for t in study.trials if t.state.name == "COMPLETE"]
    assert sorted(points) == sorted((lr, n) for lr in (0.1, 0.01, 0.001) for n in (0, 1))


def start_long(tmp_path, name):
    return start(tmp_path, "run", "binary", "--trials", str(TRIALS), "--max-epochs", "20", "--scheduler", "fifo",
                 "--name", name, log=f"{name}.log")


def wait_for_finished_trials(tmp_path, name, count, process, timeout=240):
    def finished():
        try:
            return sum(r.info.status == "FINISHED" for r in runs(tracking(tmp_path), name)[1]) >= count
        except Exception:  # the store may be mid-creation
            return False
    wait_until(finished, process, f"{count} finished trials", timeout)


def resume_and_check(tmp_path, name):
    done = hpo(tmp_path, "resume", name)
    assert done.returncode == 0, done.stdout + done.stderr
    check_every_trial_once(tracking(tmp_path), tmp_path / "ray_results" / name, name, TRIALS)
    return done


@pytest.mark.parametrize("stop, presses", [(signal.SIGINT, 1), (signal.SIGINT, 2), (signal.SIGTERM, 1)])
def test_ctrl_c_or_sigterm_then_resume(tmp_path, stop, presses):
    """SIGTERM to the sweep's process (`kill PID`, a scheduler's preemption) ends it as one Ctrl-C does."""
    name = f"{stop.name.lower()}-{presses}"
    process = start_long(tmp_path, name)
    wait_for_finished_trials(tmp_path, name, 2, process)
    for _ in range(presses):
        os.kill(process.pid, stop)
        time.sleep(0.05)
    try:
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            kill_group(process)
    log = (tmp_path / f"{name}.log").read_text()
    assert "hpo resume" in log and "Traceback" not in log
    parents, children = runs(tracking(tmp_path), name)
    if presses == 1:
        assert parents[0].info.status == "KILLED" and parents[0].data.tags["hpo.status"] == "interrupted"
    if presses == 1:  # a graceful stop closes every run it had open; an abort tries, resume finishes it
        assert not [r for r in children if r.info.status == "RUNNING"]
    resume_and_check(tmp_path, name)


def test_resume_raises_the_budget_of_a_finished_sweep(tmp_path):
    first = hpo(tmp_path, "run", "multiclass", "--trials", "3", "--max-epochs", "4", "--name", "grow")
    assert first.returncode == 0, first.stderr
    lower = hpo(tmp_path, "resume", "grow", "--trials", "2")
    assert lower.returncode == 2 and "at least its budget of 3" in lower.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    before = [(r.info.run_id, r.info.status, r.info.end_time, sorted(r.data.metrics.items()))
              for r in client.search_runs([client.get_experiment_by_name("multiclass").experiment_id])]
    same = hpo(tmp_path, "resume", "grow")  # no new budget: complete, nothing touched (no second model or counts)
    assert same.returncode == 0 and "sweep grow is complete: its 3 trials ran, nothing was changed" in same.stdout
    assert [(r.info.run_id, r.info.status, r.info.end_time, sorted(r.data.metrics.items()))
            for r in client.search_runs([client.get_experiment_by_name("multiclass").experiment_id])] == before
    folder = tmp_path / "ray_results" / "grow"
    folder.chmod(0o777)   # anyone may write the pickles a resume loads: refused, nothing touched
    open_to_all = hpo(tmp_path, "resume", "grow", "--trials", "5")
    assert open_to_all.returncode == 2 and "can be written by anyone" in open_to_all.stderr
    folder.chmod(0o755)
    more = hpo(tmp_path, "resume", "grow", "--trials", "5")
    assert more.returncode == 0, more.stdout + more.stderr
    # the live line counts the 3 trials of the first run, as the summary does
    assert "trials 3/5 done" in more.stderr and "trials 5/5 done" in more.stderr, more.stderr
    assert "5 trials in" in more.stdout

    runs = client.search_runs([client.get_experiment_by_name("multiclass").experiment_id])
    parent = [r for r in runs if r.data.tags.get("hpo.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("hpo.role") == "trial"]
    assert len(parent) == 1 and parent[0].info.status == "FINISHED" and parent[0].data.tags["hpo.trials"] == "5"
    assert len(children) == 5 and len({r.data.tags["hpo.trial_id"] for r in children}) == 5
    study = study_file.load("grow", tmp_path / "ray_results" / "grow" / study_file.STUDY_FILE)
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3, 4]
    assert "RUNNING" not in {t.state.name for t in study.trials}


def test_resume_of_an_unknown_sweep_is_refused(tmp_path):
    done = hpo(tmp_path, "resume", "nosuch")
    assert done.returncode == 2 and done.stderr.startswith("error: No sweep named 'nosuch' to resume")
