"""`hpo run --address` on a real two-node Ray cluster: trials run on both nodes, a user's task file that only
the driver has travels to both, and a sweep whose worker node is killed mid-sweep retries that node's trial
on the head and completes with every trial."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

from tests.cluster.conftest import ROOT
from tests.cluster.gates import markers

DRIVER = str(ROOT / "tests" / "cluster" / "driver.py")
SWEEP_SECONDS = 400
HPO = str(Path(sys.executable).parent / "hpo")


def sweep_command(cluster, folder: Path, gate: Path, together: int, name: str, *flags: str) -> list[str]:
    return [sys.executable, DRIVER, str(gate), str(together), "--", "run", "binary", "--address", cluster.address,
            "--trials", "4", "--max-epochs", "2", "--scheduler", "fifo", "--concurrency", "2", "--name", name,
            "--tracking-uri", f"sqlite:///{folder / 'mlflow.db'}", "--storage", str(folder / "ray_results"), *flags]


def trial_runs(folder: Path, name: str, experiment: str = "binary"):
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(experiment)
    return client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.`hpo.sweep` = '{name}' AND tags.`hpo.role` = 'trial'")


def test_trials_run_on_both_nodes(two_nodes, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "go").touch()
    # The first two trials wait for each other: with one CPU per node they can only meet on both nodes.
    done = subprocess.run(sweep_command(two_nodes, tmp_path, gate, 2, "spread"), cwd=tmp_path, env=two_nodes.env,
                          capture_output=True, text=True, timeout=SWEEP_SECONDS)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trials 4/4 done" in done.stderr
    runs = trial_runs(tmp_path, "spread")
    assert len(runs) == 4 and {r.data.tags["hpo.status"] for r in runs} == {"completed"}
    assert {r.data.tags["hpo.device"] for r in runs} == {"cpu"}
    assert len({r.data.tags["ray.node_id"] for r in runs}) == 2
    assert {r.data.tags["ray.node_id"] for r in runs} == {node for node, _ in markers(gate)}


def test_a_task_file_outside_the_checkout_runs_on_both_nodes(two_nodes, tmp_path):
    """The file is on no node's import path: its trials run on the worker node because the task travels with
    them, by value."""
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(ROOT / "examples" / "signal_shapes.py", mine / "signal_shapes.py")
    done = subprocess.run([HPO, "run", "signal_shapes.py", "--address", two_nodes.address, "--trials", "4",
                           "--max-epochs", "3", "--cv", "0", "--scheduler", "fifo", "--concurrency", "2",
                           "--name", "own", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"],
                          cwd=mine, env=two_nodes.env, capture_output=True, text=True, timeout=SWEEP_SECONDS)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trials 4/4 done (4 completed" in done.stderr, done.stderr[-3000:]
    runs = trial_runs(tmp_path, "own", "signal_shapes")
    assert len(runs) == 4 and {r.data.tags["hpo.status"] for r in runs} == {"completed"}
    assert len({r.data.tags["ray.node_id"] for r in runs}) == 2  # two at a time, one CPU a node: both nodes


def test_a_sweep_survives_its_worker_node_dying(two_nodes, tmp_path):
    assert two_nodes.worker.process.poll() is None, "the worker node should still be up"
    gate = tmp_path / "gate"
    gate.mkdir()
    driver = subprocess.Popen(sweep_command(two_nodes, tmp_path, gate, 1, "survivor", "--max-failures", "2"),
                              cwd=tmp_path, env=two_nodes.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        # Trials hold at the gate; once one of them is on the worker node, that node dies.
        deadline = time.monotonic() + SWEEP_SECONDS / 2
        worker_pids = two_nodes.worker.pids()
        while not any(raylet in worker_pids for _, raylet in markers(gate)):
            assert driver.poll() is None and time.monotonic() < deadline, "no trial started on the worker node"
            time.sleep(0.2)
        doomed = [node for node, raylet in markers(gate) if raylet in worker_pids]
        two_nodes.worker.kill()
        assert not any(psutil_alive(pid) for pid in worker_pids)
        (gate / "go").touch()
        out, err = driver.communicate(timeout=SWEEP_SECONDS)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, err[-3000:]
    assert "trials 4/4 done" in err
    runs = trial_runs(tmp_path, "survivor")
    assert len(runs) == 4 and {r.data.tags["hpo.status"] for r in runs} == {"completed"}
    # Every trial finished on the head, the one that had started on the dead worker included.
    head_nodes = {node for node, raylet in markers(gate) if raylet not in worker_pids}
    assert {r.data.tags["ray.node_id"] for r in runs} == head_nodes and not head_nodes & set(doomed)
    assert len(markers(gate)) == 5  # four trials, one of them started twice


def psutil_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
