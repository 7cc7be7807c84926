"""Fractional GPUs on a machine without one: a local Ray that declares one logical GPU packs four trials at
0.25 onto it (and 0.5 CPU each on two cores), all four at once; each is given the GPU through
CUDA_VISIBLE_DEVICES, finds no CUDA device behind it, and trains on the CPU, saying so."""
from __future__ import annotations

import secrets
import subprocess
import sys

from mlflow.tracking import MlflowClient

from tests.cluster.conftest import cluster_env
from tests.cluster.test_two_nodes import DRIVER, SWEEP_SECONDS, trial_runs


def sweep(tmp_path, gate, together: int, name: str, *flags: str):
    command = [sys.executable, DRIVER, str(gate), str(together), "--logical-gpus", "1", "--", "run", "binary",
               "--max-epochs", "2", "--scheduler", "fifo", "--cpus-per-trial", "0.5", "--name", name,
               "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--storage", str(tmp_path / "ray_results"),
               *flags]
    return subprocess.run(command, cwd=tmp_path, env=cluster_env(secrets.token_hex(32)), capture_output=True,
                          text=True, timeout=SWEEP_SECONDS)


def test_four_trials_share_one_logical_gpu_and_fall_back_to_the_cpu(tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "go").touch()
    # The gate holds every trial until all four have started: they fail unless they ran at once.
    done = sweep(tmp_path, gate, 4, "packed", "--trials", "4", "--gpus-per-trial", "0.25")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "4 at a time" in done.stdout and "trials 4/4 done" in done.stderr
    runs = trial_runs(tmp_path, "packed")
    assert len(runs) == 4 and {r.data.tags["hpo.status"] for r in runs} == {"completed"}
    assert max(r.info.start_time for r in runs) < min(r.info.end_time for r in runs)  # they overlapped
    for run in runs:
        assert run.data.tags["hpo.device"] == "cpu"
        fallback = run.data.tags["hpo.device_fallback"]
        assert "Ray gave this trial GPU 0" in fallback and "CUDA_VISIBLE_DEVICES='0'" in fallback
        assert "sees no CUDA device" in fallback


def test_auto_packing_measures_on_the_gpu_and_finds_no_cuda(tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "go").touch()
    done = sweep(tmp_path, gate, 1, "auto", "--trials", "1", "--gpus-per-trial", "auto")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "--gpus-per-trial auto: Ray gave this trial GPU 0" in done.stdout
    assert "so trials run on the CPU" in done.stdout
    [run] = trial_runs(tmp_path, "auto")
    assert run.data.tags["hpo.device"] == "cpu" and "hpo.device_fallback" not in run.data.tags
    parent = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").get_run(run.data.tags["mlflow.parentRunId"])
    assert parent.data.params["gpus_per_trial"] == "0.0"  # what auto resolved to, kept for `hpo resume`
