"""After a sweep: its report, promote -> load by alias -> predict, `hpo predict`, `hpo ui`, `hpo train`.

One small sweep of the binary task on a table as users bring it (text labels and columns, empty cells, a
date, identifiers, free text: tests/messy_table.py) serves every test of this module.
"""
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from pipelines.engine.settings import SweepSettings
from pipelines.engine.sweep import run_sweep
from pipelines.engine.train_once import train_once
from pipelines.errors import UsageError
from pipelines.reporting.summary import print_leaderboard
from pipelines.serving.promote import promote
from pipelines.tracking.runs import find_sweep
from tests.messy_table import messy_table
from trainables.tabular_data import encode_labels, read_features, split_rows

HPO = os.path.join(os.path.dirname(sys.executable), "hpo")
SWEEP = "served"
SEED = 2


@pytest.fixture(scope="module")
def sweep(local_ray, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serving")
    messy_table().to_csv(folder / "people.csv", index=False)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    # fifo: all three trials complete whatever the timing, so the report has every plot (importances need two)
    outcome = run_sweep(SweepSettings(task="binary", trials=3, max_epochs=4, name=SWEEP, seed=SEED, scheduler="fifo",
                                      data=str(folder / "people.csv"), target="label", tracking_uri=uri,
                                      storage=str(folder / "ray_results")), echo=lambda *a: None)
    assert outcome.best is not None
    return folder, uri, MlflowClient(uri), find_sweep(MlflowClient(uri), SWEEP)


def held_out(folder):
    """The sweep's test split as raw rows, and their labels: what the trial's test_acc was measured on."""
    x, y_raw, _ = read_features(folder / "people.csv", "label")
    y, classes = encode_labels(y_raw, "label", 2, 2)
    *_, x_test, y_test = split_rows(x, y, seed=SEED, stratified=True)
    return x_test, np.asarray(classes)[y_test]


def with_surprises(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows as a user may send them later: an empty cell in every column a model uses, a city never seen."""
    extra = rows.head(2).astype(object)
    extra.loc[extra.index[0], ["age", "income", "city", "member", "joined"]] = [np.nan, None, None, None, None]
    extra.loc[extra.index[1], "city"] = "atlantis"
    return pd.concat([rows, extra], ignore_index=True)


def test_the_report_is_on_the_parent_run(sweep, capsys):
    folder, uri, client, parent = sweep
    files = {a.path: a.file_size for a in client.list_artifacts(parent.info.run_id)}
    files.update({a.path: a.file_size for a in client.list_artifacts(parent.info.run_id, "plots")})
    for name in ("preprocessing.json", "leaderboard.csv", "sweep_report.html", "plots/optimization_history.png",
                 "plots/param_importances.png", "plots/parallel_coordinates.png", "plots/learning_curves.png"):
        assert files.get(name, 0) > 0, (name, files)
    local = client.download_artifacts(parent.info.run_id, "", str(folder / "report"))
    page = open(os.path.join(local, "sweep_report.html")).read()
    assert page.count("<img") == 4 and "data:image/png;base64," in page and SWEEP in page
    assert f"best trial-{int(parent.data.tags['hpo.best_trial']):03d}:" in page  # named as everywhere else
    # what became of each column: in the report and as preprocessing.json
    assert "<h2>Columns (target label," in page and "free text: 8 words a cell, 100% distinct" in page
    columns = json.load(open(os.path.join(local, "preprocessing.json")))
    assert {c["column"]: c["kind"] for c in columns["columns"]}["joined"] == "date"
    assert columns["notes"][0] == "3 row(s) with an empty 'label' left out"
    table = list(csv.reader(open(os.path.join(local, "leaderboard.csv"))))
    assert table[0][:3] == ["trial", "status", "best val loss".replace(" loss", "_loss")] and len(table) == 1 + 3
    # `hpo best` prints the same leaderboard: the same trials in the same order
    print_leaderboard(SWEEP, 3, uri)
    printed = capsys.readouterr().out.strip().split("\n\n")[0].splitlines()[2:]
    assert [line.split()[0] for line in printed] == [row[0] for row in table[1:]]


def test_promote_load_by_alias_predicts_what_the_trial_measured(sweep):
    folder, uri, client, parent = sweep
    promoted = promote(SWEEP, None, "champion", uri)
    assert promoted.uri == "models:/hpo-binary@champion" and promoted.version == "1"
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model("models:/hpo-binary@champion")
    rows, labels = held_out(folder)
    predicted = model.predict(rows)["prediction"].to_numpy()
    assert set(predicted) <= {"yes", "no"}
    assert np.mean(predicted == labels) == pytest.approx(parent.data.metrics["test_acc"])

    version = client.get_model_version_by_alias("hpo-binary", "champion")
    tags = version.tags
    config = yaml.safe_load(open(os.path.join(folder, "ray_results", SWEEP, "best_config.yaml")))
    assert tags["hpo.sweep"] == SWEEP and tags["hpo.trial_id"] == parent.data.tags["hpo.best_trial_id"]
    assert tags["hpo.trial"] == f"trial-{int(parent.data.tags['hpo.best_trial']):03d}"
    assert json.loads(tags["hpo.config"]) == config and tags["hpo.seed"] == str(config["seed"])
    assert tags["hpo.data_fingerprint"] == parent.data.params["data_fingerprint"] != ""
    assert tags.get("hpo.git_commit") or tags.get("hpo.package_version")

    # promoting again moves the alias; the first version stays
    promote(SWEEP, None, "champion", uri)
    assert int(client.get_model_version_by_alias("hpo-binary", "champion").version) == int(version.version) + 1
    assert client.get_model_version("hpo-binary", version.version).tags["hpo.sweep"] == SWEEP
    # refusals register nothing
    with pytest.raises(UsageError, match="No sweep named 'nosuch'"):
        promote("nosuch", None, "champion", uri)
    with pytest.raises(UsageError, match="--alias"):
        promote(SWEEP, None, "v1", uri)
    assert len(client.search_model_versions("name = 'hpo-binary'")) == 2

    # `hpo predict` on raw rows (the table's left-out columns too), with empty cells and an unseen category
    with_surprises(rows).to_csv(folder / "raw.csv", index=False)
    done = subprocess.run([HPO, "predict", "models:/hpo-binary@champion", "--data", str(folder / "raw.csv"),
                           "--tracking-uri", uri], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(io.StringIO(done.stdout))
    assert list(out.columns) == ["prediction"] and list(out["prediction"])[:len(rows)] == list(predicted)
    assert len(out) == len(rows) + 2 and set(out["prediction"]) <= {"yes", "no"}
    rows.assign(label="yes").to_csv(folder / "with_target.csv", index=False)
    bad = subprocess.run([HPO, "predict", "models:/hpo-binary@champion", "--data", str(folder / "with_target.csv"),
                          "--tracking-uri", uri], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "'label'" in bad.stderr
    assert "Traceback" not in bad.stderr and bad.stdout == ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_ui(uri: str, port: int) -> subprocess.Popen:
    """`hpo ui` as a child process, once it says where it is (its answer to /health alone comes before that
    line); the caller ends it by its pid. The lines it printed are kept on the process as `said`."""
    process = subprocess.Popen([HPO, "ui", "--port", str(port), "--tracking-uri", uri],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.said = []
    for line in process.stdout:  # ends when the process does: its error is then in stderr
        process.said.append(line)
        if line.startswith("Ctrl-C ends it"):
            break
    assert process.poll() is None, process.stderr.read()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30):
        pass
    return process


def stop_ui(process: subprocess.Popen) -> str:
    """End `hpo ui` as Ctrl-C would (SIGTERM); everything it printed."""
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return "".join(process.said) + out


def test_hpo_ui_serves_the_store_and_links_to_the_sweep(sweep):
    folder, uri, client, parent = sweep
    port = free_port()
    process = start_ui(uri, port)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search", method="POST",
            data=json.dumps({"experiment_ids": [parent.info.experiment_id]}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            names = {r["info"]["run_name"] for r in json.load(answer)["runs"]}
        assert SWEEP in names and {"trial-000", "trial-001", "trial-002"} <= names
        # artifacts beside the SQLite store are served
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/get-artifact?path=leaderboard.csv"
                                    f"&run_uuid={parent.info.run_id}", timeout=30) as answer:
            assert answer.read().decode().startswith("trial,status")
        busy = subprocess.run([HPO, "ui", "--port", str(port), "--tracking-uri", uri],
                              capture_output=True, text=True, timeout=120)
        assert busy.returncode == 2 and f"--port {port}" in busy.stderr and "in use" in busy.stderr
    finally:
        out = stop_ui(process)
    assert f"http://127.0.0.1:{port}/#/experiments/{parent.info.experiment_id}/runs" in out
    with pytest.raises(OSError):  # the server went with it
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)


def test_mlflow_models_serve_answers_with_the_labels(sweep):
    """The README's third command: MLflow's own server over the logged model, queried over HTTP."""
    folder, uri, client, parent = sweep
    rows, labels = held_out(folder)
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri,
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    # Its own process group (the server starts uvicorn under it), ended by that group's id.
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "mlflow"), "models", "serve",
                               "-m", f"runs:/{parent.info.run_id}/model", "--env-manager", "local",
                               "-h", "127.0.0.1", "-p", str(port)], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()[-3000:]
                time.sleep(1)
        sent = with_surprises(rows)  # JSON null for an empty cell; numbers as JSON numbers
        sent["income"] = pd.to_numeric(sent["income"], errors="coerce")
        body = {"dataframe_split": {"columns": list(sent.columns),
                                    "data": sent.astype(object).where(sent.notna(), None).values.tolist()}}
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as answer:
            served = [row["prediction"] for row in json.load(answer)["predictions"]]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=60)
    assert len(served) == len(rows) + 2 and np.mean(np.array(served[:len(rows)]) == labels) == pytest.approx(
        parent.data.metrics["test_acc"])


def test_hpo_train_logs_a_run_with_a_model(sweep):
    folder, uri, client, parent = sweep
    config = folder / "ray_results" / SWEEP / "best_config.yaml"
    assert train_once("binary", str(config), data=str(folder / "people.csv"), target="label", seed=SEED,
                      tracking_uri=uri, name="retrained", echo=lambda *a: None) == 0
    [run] = client.search_runs([parent.info.experiment_id], filter_string="tags.`hpo.role` = 'train'")
    assert run.info.run_name == "retrained" and run.info.status == "FINISHED"
    assert "mlflow.parentRunId" not in run.data.tags
    expected = yaml.safe_load(config.read_text())
    assert {k: run.data.params[k] for k in expected} == {k: str(v) for k, v in expected.items()}
    epochs = client.get_metric_history(run.info.run_id, "val_loss")
    assert 1 <= len(epochs) <= expected["epochs"] and "test_acc" in run.data.metrics
    mlflow.set_tracking_uri(uri)
    rows, labels = held_out(folder)
    predicted = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(rows)["prediction"]
    assert np.mean(predicted.to_numpy() == labels) == pytest.approx(run.data.metrics["test_acc"])
    assert run.data.params["metric"] == "val_loss"

    # by another objective: its best epoch is the one of the highest F1
    assert train_once("binary", str(config), data=str(folder / "people.csv"), target="label", seed=SEED,
                      tracking_uri=uri, name="by-f1", metric="val_f1", echo=lambda *a: None) == 0
    [run] = client.search_runs([parent.info.experiment_id], filter_string="attributes.run_name = 'by-f1'")
    f1 = [m.value for m in client.get_metric_history(run.info.run_id, "val_f1")]
    assert run.data.params["metric"] == "val_f1" and run.data.metrics["best_val_f1"] == pytest.approx(max(f1))
