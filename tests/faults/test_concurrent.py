"""Two sweeps at once on one SQLite tracking store and one storage folder: no lock errors, no mixed-up runs;
the same name twice at once: the second is refused, the first unharmed."""
import os
import subprocess

from mlflow.tracking import MlflowClient

from tests.faults.sweeps import HPO, QUICK, check_every_trial_once, hpo, start, wait_until


def test_two_sweeps_share_a_store_and_a_storage_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    sweeps = {name: subprocess.Popen([HPO, "run", "binary", "--trials", "6", "--max-epochs", "6", "--name", name,
                                      "--concurrency", "1"], cwd=tmp_path, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
              for name in ("left", "right")}
    outputs = {name: process.communicate(timeout=400)[0] for name, process in sweeps.items()}
    for name, process in sweeps.items():
        assert process.returncode == 0, outputs[name]
        assert "locked" not in outputs[name].lower() and "Traceback" not in outputs[name]

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiments = [e for e in client.search_experiments() if e.name == "binary"]
    assert len(experiments) == 1
    runs = client.search_runs([experiments[0].experiment_id], max_results=1000)
    parents = {r.data.tags["hpo.sweep"]: r for r in runs if r.data.tags.get("hpo.role") == "sweep"}
    assert set(parents) == {"left", "right"}
    for name, parent in parents.items():
        assert parent.info.status == "FINISHED"
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert len(children) == 6 and all(r.data.tags["hpo.sweep"] == name for r in children)
        assert all(r.info.status == "FINISHED" for r in children)
        assert (tmp_path / "ray_results" / name / "best_config.yaml").is_file()


def test_the_same_name_started_twice_at_once_the_second_is_refused(tmp_path):
    first = start(tmp_path, "run", *QUICK, "--trials", "3", "--name", "twice")
    folder = tmp_path / "ray_results" / "twice"
    wait_until(lambda: (folder / "sweep_config.yaml").is_file(), first, "the first's folder")
    second = hpo(tmp_path, "run", *QUICK, "--trials", "3", "--name", "twice")
    assert second.returncode == 2 and second.stderr.startswith("error: A sweep named 'twice' already exists")
    resumed = hpo(tmp_path, "resume", "twice")  # nor may a resume take a sweep that runs
    assert resumed.returncode == 2 and "is running in process" in resumed.stderr, resumed.stderr
    assert first.wait(timeout=400) == 0, (tmp_path / "run.log").read_text()
    check_every_trial_once(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "ray_results" / "twice", "twice", 3)
