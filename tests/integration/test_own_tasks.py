"""Tasks of a user's own, from copies of examples/ outside the checkout: `hpo run FILE`, `hpo predict` with
the model it logs, `hpo resume`, and a sweep from Python (hpo.run)."""
import shutil
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

from tests.integration.test_cli import HPO, hpo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def copied(tmp_path, *names):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in names:
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


def parent_run(folder, name, experiment):
    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    [parent] = client.search_runs(client.get_experiment_by_name(experiment).experiment_id,
                                  f"tags.`hpo.role` = 'sweep' and attributes.run_name = '{name}'")
    return client, parent


def test_a_short_form_task_file_sweeps_records_its_baselines_and_resumes(tmp_path):
    folder = copied(tmp_path, "signal_shapes.py")
    done = hpo("run", "signal_shapes.py", "--trials", "3", "--max-epochs", "4", "--cv", "0", "--name", "waves",
               cwd=folder)
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("trial "))
    assert "channels" in header and "kernel_size" in header  # the task's own params in the summary's table
    client, parent = parent_run(folder, "waves", "signal_shapes")
    assert parent.info.status == "FINISHED" and parent.data.tags["hpo.task"] == "signal_shapes"
    assert "test_acc" in parent.data.metrics and "baseline_test_acc" in parent.data.metrics
    assert parent.data.params["task"] == str(folder / "signal_shapes.py")
    children = client.search_runs(parent.info.experiment_id, f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 3 and all("val_f1" in c.data.metrics for c in children)
    more = hpo("resume", "waves", "--trials", "4", cwd=folder)  # the file is found again from sweep_config.yaml
    assert more.returncode == 0, more.stderr
    children = client.search_runs(parent.info.experiment_id, f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 4


def test_a_full_form_task_file_serves_its_model_with_hpo_predict(tmp_path):
    folder = copied(tmp_path, "count_symbols.py")
    done = hpo("run", "count_symbols.py", "--trials", "2", "--max-epochs", "3", "--name", "counts", cwd=folder)
    assert done.returncode == 0, done.stderr
    _, parent = parent_run(folder, "counts", "count_symbols")
    (folder / "strings.csv").write_text("text\naaaaaaaaaaaa\nbcdbcdbcd\n")
    predicted = hpo("predict", f"runs:/{parent.info.run_id}/model", "--data", "strings.csv", cwd=folder)
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == "prediction" and len(lines) == 3 and float(lines[1]) > float(lines[2])


def test_a_sweep_from_python_hands_back_its_result(tmp_path):
    folder = copied(tmp_path, "signal_shapes.py", "run_from_python.py")
    script = (folder / "run_from_python.py").read_text().replace("trials=6, max_epochs=15",
                                                                 "trials=2, max_epochs=3, cv=0")
    (folder / "run_from_python.py").write_text(script)
    done = subprocess.run([sys.executable, "run_from_python.py"], cwd=folder, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "final model: " in done.stdout and "runs:/" in done.stdout and "trial-000, trial-001" in done.stdout
    assert "test_acc" in done.stdout and "'channels'" in done.stdout
    assert Path(HPO).exists()
