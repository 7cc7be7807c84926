"""A sweep's folder on disk: claimed by one process at a time, and its saved files checked before a resume.

The folder is made, and `sweep_config.yaml` written, before Ray starts: from then on `hpo resume` can
carry the sweep on, whatever moment a crash came at. The lock (an flock on `sweep.lock`, held while the
process lives, released by the kernel even on kill -9) keeps a second process off a sweep that runs.
"""
from __future__ import annotations

import fcntl
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.engine import study_file
from pipelines.engine.internals import (
    EXPERIMENT_STATE_PATTERN,
    SEARCH_STATE_PATTERN,
    SEARCHER_STATE_PATTERN,
    read_search_state,
    read_searcher_state,
)
from pipelines.errors import UsageError

CONFIG_FILE = "sweep_config.yaml"
LOCK_FILE = "sweep.lock"
REQUIRED_SETTINGS = {"task": str, "name": str, "trials": int, "seed": int}

_held: list = []   # the open lock files of this process: closing one would release its lock


def claim(sweep_dir: Path) -> None:
    """Make the new sweep's folder and hold its lock; UsageError when another sweep took the name first."""
    try:
        sweep_dir.mkdir(parents=True)
    except FileExistsError:
        raise UsageError(f"A sweep named {sweep_dir.name!r} already exists in '{sweep_dir.parent}'; continue it "
                         f"with 'hpo resume {sweep_dir.name}' or choose another --name.") from None
    hold(sweep_dir)
    name_holder(sweep_dir)


def hold(sweep_dir: Path) -> None:
    """Take the sweep's lock for the life of this process; UsageError while another process holds it.
    The file still names its last holder (name_holder): a resume that refuses leaves it as it was."""
    handle = open(sweep_dir / LOCK_FILE, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise UsageError(f"The sweep {sweep_dir.name!r} is running in {holder} (it holds '{sweep_dir / LOCK_FILE}'); "
                         "wait for it to end, or stop it, before resuming it.") from None
    _held.append(handle)


def name_holder(sweep_dir: Path) -> None:
    """Write this process into the lock it holds, for a second process's refusal to name."""
    for handle in (h for h in _held if Path(h.name).parent == sweep_dir):
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()


def release(sweep_dir: Path) -> None:
    """Let go of the sweep's lock (a folder about to be removed)."""
    for handle in [h for h in _held if Path(h.name).parent == sweep_dir]:
        handle.close()
        _held.remove(handle)


def write_config(sweep_dir: Path, params: dict) -> None:
    """sweep_config.yaml, replaced whole: a crash mid-write leaves the old file or the new one."""
    partial = sweep_dir / (CONFIG_FILE + ".partial")
    partial.write_text(yaml.safe_dump(params, sort_keys=False))
    os.replace(partial, sweep_dir / CONFIG_FILE)


def check_trusted(sweep_dir: Path) -> None:
    """A resume unpickles Tune's state, which runs code: refuse a sweep folder (or its state) anyone may write."""
    for path in (sweep_dir, sweep_dir / "tuner.pkl"):
        if not path.exists():
            continue
        mode = path.stat().st_mode
        if mode & stat.S_IWOTH:
            raise UsageError(f"'{path}' can be written by anyone (mode {stat.filemode(mode)}): a resume loads "
                             "pickles from it, which run code. Run `chmod o-w` on it if you trust its content.")


@dataclass(frozen=True)
class SavedSweep:
    """What a sweep's folder holds, each file read and found usable."""
    folder: Path
    config: dict          # sweep_config.yaml
    started: bool         # Tune saved its trials at least once: the Tuner is restored, not built anew
    has_study: bool       # optuna.journal holds the sweep's study
    known_numbers: frozenset = frozenset()  # the Optuna number of each trial Tune's saved state gave out


def damaged(path: Path, why: str, what_to_do: str) -> UsageError:
    return UsageError(f"The sweep's file '{path}' cannot be used ({why}); {what_to_do} Nothing was changed.")


def read_saved(sweep_dir: Path) -> SavedSweep:
    """Read and check each file `hpo resume` needs, before anything is touched; UsageError naming the
    first that cannot be used and what to do about it."""
    config_file = sweep_dir / CONFIG_FILE  # the folder exists: resume_sweep holds its lock
    check_trusted(sweep_dir)
    if not config_file.is_file():
        raise UsageError(f"The folder '{sweep_dir}' has no {CONFIG_FILE}: the sweep was stopped before it wrote "
                         "its settings, so none of it ran. Delete the folder and start the sweep again.")
    config = read_config(config_file, sweep_dir.name)
    # Tune's first save writes its trials, then the search state: a kill between the two saved nothing usable.
    started = any(sweep_dir.glob(EXPERIMENT_STATE_PATTERN)) and any(sweep_dir.glob(SEARCH_STATE_PATTERN))
    for state in sorted(sweep_dir.glob(EXPERIMENT_STATE_PATTERN))[-1:] if started else ():
        try:
            json.loads(state.read_text())
        except (OSError, ValueError) as exc:
            raise damaged(state, f"not Tune's saved trials: {type(exc).__name__}",
                          "put back a copy of it.") from None
    searcher_state = None   # the Optuna number of each trial Tune knows
    if started:
        for pattern, read in ((SEARCH_STATE_PATTERN, read_search_state), (SEARCHER_STATE_PATTERN, read_searcher_state)):
            found = sorted(sweep_dir.glob(pattern))
            if not found:
                raise damaged(sweep_dir / pattern, "Tune saved its trials but this file is missing",
                              "put back a copy of it.")
            try:
                searcher_state = read(found[-1])
            except Exception as exc:  # cloudpickle raises whatever the damaged bytes lead it to
                raise damaged(found[-1], f"not Tune's saved search state: {type(exc).__name__}",
                              "put back a copy of it.") from None
    journal = sweep_dir / study_file.STUDY_FILE
    has_study = study_is_usable(journal, config["name"], searcher_state)
    if started and not has_study and config.get("search") == "grid":
        raise damaged(journal, "missing, and a grid sweep's study alone records which grid points ran",
                      "put back a copy of it, or start the grid again under a new --name.")
    numbers = frozenset(searcher_state["numbers"].values()) if searcher_state else frozenset()
    return SavedSweep(sweep_dir, config, started, has_study, numbers)



def read_config(path: Path, name: str) -> dict:
    what_to_do = ("the parent run of the sweep in MLflow keeps a copy of it (artifact sweep_config.yaml): "
                  "put that back, with the trials line raised if the sweep was resumed with more trials.")
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise damaged(path, f"not readable YAML: {type(exc).__name__}", what_to_do) from None
    if not isinstance(config, dict):
        raise damaged(path, "empty, or not a mapping of settings", what_to_do)
    for key, kind in REQUIRED_SETTINGS.items():
        if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool):
            raise damaged(path, f"its {key!r} is missing or not {'a number' if kind is int else 'text'}", what_to_do)
    if config["name"] != name:
        raise damaged(path, f"it is the settings of the sweep {config['name']!r}, not {name!r}", what_to_do)
    return config


def study_is_usable(path: Path, name: str, searcher_state: dict | None = None) -> bool:
    """True where the journal holds the study `name`, with every trial the searcher's saved state knows;
    False where there is no file or no such study; UsageError for a file that is damaged."""
    try:
        return study_file.holds_study(path, name, searcher_state)
    except (OSError, study_file.DamagedStudy) as exc:
        raise damaged(path, f"not a sound Optuna study: {exc}",
                      "put back a copy of it, or delete it: the study is then rebuilt from the sweep's "
                      "MLflow runs.") from None
