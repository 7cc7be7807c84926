"""The `hpo` command end to end: a CSV sweep, the leaderboard, refusals, failing trials."""
import json
import os
import subprocess
import sys

import numpy as np
from mlflow.tracking import MlflowClient

HPO = os.path.join(os.path.dirname(sys.executable), "hpo")


def hpo(*args, cwd, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run([HPO, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_csv_sweep_then_best_then_refusal(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    label = np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "spam", "ham")
    rows = ["f1,f2,f3,kind"] + [f"{a:.3f},{b:.3f},{c:.3f},{k}" for (a, b, c), k in zip(x, label)]
    (tmp_path / "mail.csv").write_text("\n".join(rows) + "\n")

    done = hpo("run", "binary", "--data", "mail.csv", "--target", "kind", "--trials", "4", "--max-epochs", "4",
               "--name", "mail", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "best config:" in done.stdout and "trials 4/4 done" in done.stderr
    assert (tmp_path / "mlflow.db").is_file() and (tmp_path / "ray_results" / "mail" / "best_config.yaml").is_file()

    best = hpo("best", "mail", "--top", "3", cwd=tmp_path)
    assert best.returncode == 0, best.stderr
    table, comparison = best.stdout.strip().split("\n\n", 1)  # the leaderboard, then tuned against baselines
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["trial", "status", "best"] and len(lines) == 2 + 3
    assert "against untuned baselines" in comparison and "test_acc: tuned" in comparison

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    before = [(r.info.run_id, r.info.status, r.info.end_time) for r in client.search_runs(["1"])]
    again = hpo("run", "binary", "--name", "mail", cwd=tmp_path)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "hpo resume mail" in again.stderr
    assert [(r.info.run_id, r.info.status, r.info.end_time) for r in client.search_runs(["1"])] == before

    missing = hpo("best", "nosuch", cwd=tmp_path)
    assert missing.returncode == 2 and "No sweep named 'nosuch'" in missing.stderr


def test_a_users_parquet_table_runs_as_it_is_and_resumes_with_its_drop(tmp_path):
    from tests.messy_table import messy_table

    messy_table().to_parquet(tmp_path / "people.parquet")
    done = hpo("run", "multiclass", "--data", "people.parquet", "--target", "label", "--drop", "member",
               "--trials", "2", "--max-epochs", "2", "--name", "people", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    notes = [line.strip() for line in done.stdout.splitlines() if line.startswith("  data ")]
    assert notes == ["data     --drop: left out member", "data     3 row(s) with an empty 'label' left out",
                     "data     column 'customer' left out: an identifier: a distinct value on 100% of rows",
                     "data     column 'row' left out: an identifier: the row numbers 1 to 240",
                     "data     column 'comment' left out: free text: 8 words a cell, 100% distinct",
                     "data     column 'source' left out: the same value ('web') on every row"]
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    [parent] = client.search_runs(["1"], filter_string="tags.`hpo.role` = 'sweep'")
    assert parent.data.params["drop"] == "member"
    columns = json.load(open(client.download_artifacts(parent.info.run_id, "preprocessing.json", str(tmp_path))))
    assert "member" not in [c["column"] for c in columns["columns"]] and len(columns["columns"]) == 8
    resumed = hpo("resume", "people", "--trials", "3", cwd=tmp_path)  # the saved settings keep --drop
    assert resumed.returncode == 0, resumed.stderr


def pasted(line: str, cwd):
    """A printed next step run as a user pastes it into a new shell, whose PATH lacks this venv."""
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if os.path.realpath(p) != os.path.realpath(os.path.dirname(HPO)))
    env = {**{k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}, "PATH": path}
    command = line.split(":", 1)[1].strip()
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_the_next_steps_a_sweep_and_a_promotion_print_run_when_pasted(tmp_path):
    done = hpo("run", "multiclass", "--trials", "2", "--max-epochs", "2", "--name", "steps", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    steps = {line.split(":")[0]: line for line in done.stdout.splitlines()
             if line.startswith(("leaderboard:", "ship it:"))}
    best = pasted(steps["leaderboard"], tmp_path)
    assert best.returncode == 0 and best.stdout.startswith("trial"), best.stderr
    promoted = pasted(steps["ship it"], tmp_path)
    assert promoted.returncode == 0, promoted.stderr
    assert "models:/hpo-multiclass@champion" in promoted.stdout and "version 1" in promoted.stdout
    (tmp_path / "rows.csv").write_text("sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n"
                                       "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    predict = next(line for line in promoted.stdout.splitlines() if line.startswith("predict:"))
    predicted = pasted(predict.replace("ROWS", "rows.csv"), tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.splitlines()[0].endswith("prediction") and len(predicted.stdout.splitlines()) == 3


def test_a_sweep_whose_trials_all_diverge_fails_clearly(tmp_path):
    (tmp_path / "space.yaml").write_text("optimizer: {type: categorical, choices: [SGD]}\n"
                                         "lr: {type: float, low: 1.0e+6, high: 1.0e+7, log: true}\n")
    done = hpo("run", "regression", "--space", "space.yaml", "--trials", "2", "--max-epochs", "5",
               "--name", "boom", cwd=tmp_path)
    assert done.returncode == 1
    assert "every trial of sweep 'boom' failed" in done.stderr and "Traceback" not in done.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    children = client.search_runs(["1"], filter_string="tags.`hpo.role` = 'trial'")
    assert len(children) == 2
    for run in children:
        assert run.data.tags["hpo.status"] == "failed" and run.info.status == "FAILED"
        assert "became" in run.data.tags["hpo.error"]
