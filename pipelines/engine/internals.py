"""Every use of a private attribute or internal file format of Ray Tune or Optuna, in one place.

Each is needed by `hpo resume` where the libraries have no public way; each has a test in
tests/unit/test_internals.py that fails loudly when an installed version changes it.
"""
from __future__ import annotations

import json
from pathlib import Path

import optuna
import ray.cloudpickle as cloudpickle

# Tune's SearchGenerator saves its state as search_gen_state-<session>.json (SearchGenerator.CKPT_FILE_TMPL).
SEARCH_STATE_PATTERN = "search_gen_state-*.json"
# Beside it, the searcher's own state (Searcher.CKPT_FILE_TMPL), and the trials (TuneController's checkpoint).
SEARCHER_STATE_PATTERN = "searcher-state-*.pkl"
EXPERIMENT_STATE_PATTERN = "experiment_state-*.json"


def restored_searcher(tuner):
    """The search algorithm a Tuner.restore brought back (Tune has no public access to it)."""
    return tuner._local_tuner._tune_config.search_alg


def restored_callbacks(tuner) -> list:
    """The callbacks a Tuner.restore brought back, the same objects Tune will call."""
    return tuner._local_tuner._run_config.callbacks


def optuna_trial_of(study, frozen):
    """A live `optuna.Trial` for a RUNNING trial of the study, to report to and tell after a restart.
    Optuna hands out live trials only from ask(); its constructor wants the storage's trial id, which
    a FrozenTrial keeps privately."""
    return optuna.Trial(study, frozen._trial_id)


def grid_point_of(sampler, frozen) -> dict | None:
    """The params of the grid point Optuna's GridSampler gave a trial: the system attr `grid_id` it
    records on the trial indexes its grid's points, which it shuffled by its seed. None for a trial
    it gave none (an enqueued one), or for another sampler."""
    grid_id = frozen.system_attrs.get("grid_id")
    if grid_id is None or not isinstance(sampler, optuna.samplers.GridSampler):
        return None
    return dict(zip(sampler._param_names, sampler._all_grids[grid_id]))


def saved_search_state(sweep_dir: Path) -> Path | None:
    """The search state file that Tuner.restore reads: the greatest name, as Tune writes them in order."""
    saved = sorted(sweep_dir.glob(SEARCH_STATE_PATTERN))
    return saved[-1] if saved else None


def read_search_state(path: Path) -> dict:
    """A saved search state: Tune's cloudpickled dict, with the trial budget as `total_samples`."""
    state = cloudpickle.loads(path.read_bytes())
    if not isinstance(state, dict) or not isinstance(state.get("total_samples"), int):
        raise ValueError(f"{path.name} holds no trial budget")
    return state


def saved_trial_count(path: Path) -> int:
    """How many trials Tune's saved search state had made (SearchGenerator's `counter`)."""
    counter = read_search_state(path).get("counter")
    if not isinstance(counter, int):
        raise ValueError(f"{path.name} holds no count of the trials made")
    return counter


def read_searcher_state(path: Path) -> dict:
    """The searcher's saved state: Tune names the file, OptunaStudySearcher.save writes it (JSON: the Optuna
    number of every trial Tune knows, and of those running)."""
    state = json.loads(path.read_text())
    if not isinstance(state, dict) or not isinstance(state.get("numbers"), dict) or "live" not in state:
        raise ValueError(f"{path.name} holds no trial numbers")
    return state


def set_saved_trial_budget(path: Path, trials: int) -> None:
    """Set the trial budget (num_samples) in a saved search state, and its experiment's storage folder to
    the one the state is in now. Tuner.restore changes neither: Tune keeps the budget in this cloudpickled
    dict, as `total_samples` beside `finished`, and the Experiment its new trials are made from, with the
    storage folder it began in (a moved sweep's new trials would write there)."""
    state = read_search_state(path)
    state["total_samples"], state["finished"] = trials, False
    storage = getattr(state.get("experiment"), "storage", None)
    if storage is not None:
        storage.storage_fs_path = path.parent.parent.as_posix()
        storage.experiment_dir_name = path.parent.name
    partial = path.with_name(path.name + ".partial")  # replaced whole: a crash leaves the old one or the new
    partial.write_bytes(cloudpickle.dumps(state))
    partial.replace(path)
