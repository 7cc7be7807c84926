"""The commands a user is told to run next, written so that they run when pasted where the user stands:
the `hpo` (and `mlflow`) that is running, by its full path when PATH would not find that one."""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def script(name: str) -> str | None:
    """The full path of the running installation's console script `name` (hpo, mlflow); None when PATH
    finds that same one, or when there is none."""
    running = os.path.abspath(sys.argv[0]) if sys.argv and os.path.basename(sys.argv[0]) == name else None
    running = running if running and os.path.isfile(running) else None
    beside = os.path.join(os.path.dirname(sys.executable), name)  # the venv's bin folder
    found = running or (beside if os.path.exists(beside) else None)
    on_path = shutil.which(name)
    if found is None or (on_path and os.path.realpath(on_path) == os.path.realpath(found)):
        return None
    return found


def command(name: str) -> str:
    """How to call the console script `name` from a new shell."""
    path = script(name)
    return shlex.quote(path) if path else name


def uri_flag(tracking_uri: str) -> str:
    """` --tracking-uri URI`, unless a command run from here in a new shell (no MLFLOW_TRACKING_URI) finds
    that store by itself: ./mlflow.db."""
    default = f"sqlite:///{Path.cwd() / 'mlflow.db'}"
    return "" if tracking_uri == default else f" --tracking-uri {shlex.quote(tracking_uri)}"


def after_sweep(name: str, tracking_uri: str, experiment_id: str, task: str) -> list[str]:
    hpo, store = command("hpo"), uri_flag(tracking_uri)
    remote = tracking_uri.startswith(("http://", "https://"))  # a tracking server is its own UI
    link = (f"{tracking_uri.rstrip('/') if remote else 'http://127.0.0.1:5000'}/#/experiments/{experiment_id}/runs "
            f"(experiment {task!r}, parent run {name!r})")
    ui = [f"MLflow:      {link}"] if remote else [f"MLflow:      {hpo} ui{store}", f"             then {link}"]
    return [*ui,
            f"leaderboard: {hpo} best {shlex.quote(name)}{store}",
            f"ship it:     {hpo} promote {shlex.quote(name)}{store}"]


def after_promote(uri: str, tracking_uri: str) -> list[str]:
    hpo, store, mlflow = command("hpo"), uri_flag(tracking_uri), script("mlflow")
    # MLflow's server starts uvicorn from PATH, and finds the store only in MLFLOW_TRACKING_URI.
    path = f"PATH={shlex.quote(os.path.dirname(mlflow))}:$PATH " if mlflow else ""
    uri = shlex.quote(uri)  # a registered model's name may hold spaces
    return [f"predict:     {hpo} predict {uri} --data ROWS{store}",
            f"serve:       {path}MLFLOW_TRACKING_URI={shlex.quote(tracking_uri)} mlflow models serve -m {uri} "
            "--env-manager local -p 5001"]


def resume_command(name: str, sweep_dir) -> str:
    """`hpo resume NAME`, with --storage when the sweep is not in ./ray_results."""
    storage = Path(sweep_dir).parent
    flag = "" if storage == Path.cwd() / "ray_results" else f" --storage {shlex.quote(str(storage))}"
    return f"{command('hpo')} resume {shlex.quote(name)}{flag}"
