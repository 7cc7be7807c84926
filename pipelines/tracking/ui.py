"""`hpo ui`: the MLflow UI over a sweep's tracking store, and the direct link to the latest sweep's runs.

A local store (SQLite, a database) gets an `mlflow server` child process bound to 127.0.0.1 unless
another host is asked for. Artifacts of a SQLite store sit beside the database (pipelines.tracking.store),
so the server serves new artifacts from there too. A remote http(s) store already has its UI: the
link to it is printed and nothing is started.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines.errors import UsageError
from pipelines.tracking.store import client_for, resolve_tracking_uri

LOCAL_HOST = "127.0.0.1"
START_SECONDS = 120        # how long the server may take to answer /health (a first start migrates the DB)
STOP_SECONDS = 10          # how long it may take to end after SIGTERM, before SIGKILL


def latest_sweep_link(client, base_url: str) -> str:
    """The runs table of the experiment of the newest sweep (MLflow 3 opens experiments elsewhere)."""
    sweeps = client.search_runs([e.experiment_id for e in client.search_experiments()],
                                filter_string="tags.`hpo.role` = 'sweep'", order_by=["attributes.start_time DESC"],
                                max_results=1)
    if not sweeps:
        return f"{base_url}/#/experiments"
    return f"{base_url}/#/experiments/{sweeps[0].info.experiment_id}/runs"


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"The --port {port} on {host} is in use; choose another --port.") from None
            raise UsageError(f"Cannot listen on --host {host} --port {port}: {exc.strerror}.") from None


def server_command(tracking_uri: str, host: str, port: int) -> list[str]:
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri,
               "--host", host, "--port", str(port), "--workers", "1"]
    if tracking_uri.startswith("sqlite:///"):
        artifacts = Path(tracking_uri[len("sqlite:///"):]).parent / "mlartifacts"
        command += ["--artifacts-destination", artifacts.as_uri()]
    return command


def wait_until_up(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the MLflow server ended at start with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the MLflow server did not answer at {url} within {START_SECONDS}s")


def stop(process: subprocess.Popen) -> None:
    """End the server and its workers: the process group it leads (it was started in its own session)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_ui(host: str, port: int, tracking_uri: str | None, echo=print) -> int:
    if not 0 < port < 65536:
        raise UsageError(f"The --port must be between 1 and 65535, got {port}.")
    uri = resolve_tracking_uri(tracking_uri)
    if uri.startswith(("http://", "https://")):
        client = client_for(uri)
        echo(f"MLflow UI of the tracking server: {uri.rstrip('/')}")
        echo(f"latest sweep's runs:              {latest_sweep_link(client, uri.rstrip('/'))}")
        return 0
    check_port_free(host, port)
    if host not in (LOCAL_HOST, "localhost", "::1"):
        print(f"warning: --host {host} makes the MLflow UI (and its API, which can change and delete runs) "
              "reachable from other machines; it has no authentication.", file=sys.stderr)
    client = client_for(uri)
    url = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}"
    link = latest_sweep_link(client, url)  # before the server is up: once it answers, the link is printed at once
    # No job runner: its two dozen processes serve MLflow's GenAI jobs, not a sweep's runs (2 s more to start).
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    process = subprocess.Popen(server_command(uri, host, port), start_new_session=True, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def end(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, end)
    try:
        try:
            wait_until_up(process, url)
        except RuntimeError as exc:
            stop(process)
            errors = (process.stderr.read() or "").strip().splitlines()
            print(f"error: {exc}{': ' + errors[-1] if errors else ''}", file=sys.stderr)
            return 1
        echo(f"MLflow UI:           {url}  (store {uri})")
        echo(f"latest sweep's runs: {link}")
        echo("Ctrl-C ends it.")
        sys.stdout.flush()
        process.stderr.close()  # from here the server's log is not read; closing lets it never block
        process.wait()
        return 0 if process.returncode == 0 else 1
    except KeyboardInterrupt:
        stop(process)
        return 0
