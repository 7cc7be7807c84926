"""A real Ray cluster of two nodes on this machine: a head and a worker, each `ray start --block` as a child
process of the test in its own process group, ended by its process id (never `ray stop`, which would end
every Ray on the machine). The cluster has a private temp dir, so a plain `ray.init()` elsewhere on
this machine does not find and join it, and token auth with a token of its own (RAY_AUTH_MODE=token on
the head, the worker and the driver alike, as Ray 2.59+ requires)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

RAY = str(Path(sys.executable).parent / "ray")
ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120           # a node that is not up by then fails the test
# Find a dead node in ~3 s instead of Ray's default ~30 s.
HEALTH_CHECKS = json.dumps({"health_check_period_ms": 1000, "health_check_failure_threshold": 3})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env(token: str) -> dict:
    """The environment of the nodes and the driver: the same auth mode and token, this checkout first on
    the path (workers import pipelines/ and trainables/), nothing pointing at another Ray or store."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return env


class RayNode:
    """One `ray start --block` in its own process group; its log in `log`."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen([RAY, "start", "--block", *args], env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_started(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while "Ray runtime started" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"ray start did not come up:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)

    def pids(self) -> set[int]:
        """The `ray start` process and everything it started (raylet, GCS, workers...)."""
        try:
            return {self.process.pid} | {p.pid for p in psutil.Process(self.process.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()

    def kill(self) -> None:
        """SIGKILL the node's process group, then any descendant that left it, by pid."""
        descendants = []
        try:
            descendants = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # start_new_session: its pgid is its pid
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        for child in descendants:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(descendants, timeout=30)


class TwoNodes:
    def __init__(self):
        self.temp_dir = Path(tempfile.mkdtemp(prefix="hpo-ray-"))  # short: Ray's socket paths must stay < 108
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = cluster_env(secrets.token_hex(32))
        common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--num-gpus=0", f"--temp-dir={self.temp_dir}",
                  "--disable-usage-stats", "--object-store-memory=100000000"]
        ports = lambda: [f"--dashboard-agent-listen-port={free_port()}",  # noqa: E731 (fixed defaults collide)
                         f"--dashboard-agent-grpc-port={free_port()}", f"--metrics-export-port={free_port()}",
                         f"--runtime-env-agent-port={free_port()}"]
        self.nodes: list[RayNode] = []
        try:
            self.head = self.start(["--head", f"--port={self.port}", f"--system-config={HEALTH_CHECKS}",
                                    "--include-dashboard=false", *common, *ports()], "head.log")
            self.worker = self.start([f"--address={self.address}", *common, *ports()], "worker.log")
        except BaseException:
            self.stop()
            raise

    def start(self, args: list[str], log: str) -> RayNode:
        node = RayNode(args, self.env, self.temp_dir / log)
        self.nodes.append(node)
        node.wait_started()
        return node

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.kill()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def two_nodes():
    cluster = TwoNodes()
    try:
        yield cluster
    finally:
        cluster.stop()
