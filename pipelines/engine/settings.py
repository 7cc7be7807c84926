"""A sweep's settings: every default in one place, and the checks of the flags made before anything starts."""
from __future__ import annotations

import re
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pipelines.errors import DataError, UsageError
from pipelines.task_sources import short_name

SEARCHES = ("tpe", "random", "grid", "gp", "cmaes", "qmc")
SCHEDULERS = ("asha", "hyperband", "median", "fifo")
DEFAULT_TRIALS = 20
MAX_SEED = 2**31 - 1   # the seed plus a trial's number must stay a valid NumPy and scikit-learn seed (< 2**32)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class SweepSettings:
    task: str
    trials: int | None = None           # how many trials the searcher proposes; None: DEFAULT_TRIALS, or a
                                        # grid's every combination (pipelines.engine.prepare)
    max_epochs: int | None = None       # caps the space's epochs and is ASHA's max_t; None: the space's top
    concurrency: int | None = None      # trials at once; None: as many as the cluster's CPUs hold
    cpus_per_trial: float = 1.0         # CPUs Ray reserves per trial; also the trial's torch threads
    gpus_per_trial: float | str = 0.0   # fractional GPUs pack several trials on one GPU; "auto": measured
    space: str | None = None            # a YAML file overriding params of the task's default space
    data: str | None = None             # a user's data file (or folder)
    target: str | None = None           # the column to predict in --data
    drop: str | None = None             # columns of --data to leave out, comma-separated
    dataset: str | None = None          # a named data set besides the task's default
    data_dir: str | None = None         # where a downloadable data set is cached
    name: str | None = None             # the sweep's name; None: TASK-<timestamp>
    seed: int = 0                       # seeds the sampler, the data splits and each trial
    time_budget: float | None = None    # seconds after which no trial starts and running ones stop
    max_failures: int = 1               # retries of a trial that raised (a diverged trial is not retried)
    search: str = "tpe"                 # one of SEARCHES: Optuna's samplers (pipelines.engine.searcher)
    scheduler: str = "asha"             # one of SCHEDULERS: Ray's (pipelines.engine.schedulers); fifo: none
    grace_period: int | None = None     # epochs before the scheduler may stop a trial; None: its default
    reduction_factor: int | None = None  # asha, hyperband: 1/this of the trials go on at each rung
    patience: int | None = None         # epochs without improvement before a trial ends itself; None: the loop's
    warm_start: str | None = None       # earlier sweeps (NAME[,NAME]) whose finished trials seed the study
    enqueue: str | None = None          # a YAML file of configs the sweep runs first
    cv: int | None = None               # K-fold cross-validation on train+val; 0: the single split; None: the
                                        # task's default_folds where train+val is small (pipelines.engine.prepare)
    metric: str | None = None           # the objective: a validation metric the task reports; None: val_loss
    ensemble: int | None = None         # the K best trials averaged as a final-model candidate; None: 3 where
                                        # the task can average models (pipelines.engine.prepare), 0 or 1: none
    address: str | None = None          # an existing Ray cluster ("auto", HOST:PORT); None: a local Ray
    tracking_uri: str | None = None     # MLflow store; None: MLFLOW_TRACKING_URI or ./mlflow.db
    storage: str | None = None          # Ray Tune storage; None: ./ray_results

    def as_dict(self) -> dict:
        return asdict(self)


def check_settings(s: SweepSettings, new_sweep: bool = True) -> SweepSettings:
    """Raise UsageError for a value no sweep can use (DataError for a --data that is not there); return the
    settings with the sweep's name and storage folder filled in. A new sweep must not take the name of one
    in the storage folder; a resumed one is that one."""
    def positive(flag: str, value, integer: bool = True, allow_zero: bool = False):
        if value is None:
            return
        bad = (value < 0) if allow_zero else (value <= 0)
        if bad or (integer and int(value) != value):
            kind = "an integer" if integer else "a number"
            raise UsageError(f"The {flag} must be {kind} {'>= 0' if allow_zero else '> 0'}, got {value}.")

    positive("--trials", s.trials)
    positive("--max-epochs", s.max_epochs)
    positive("--concurrency", s.concurrency)
    positive("--cpus-per-trial", s.cpus_per_trial, integer=False)
    positive("--time-budget", s.time_budget, integer=False)
    positive("--max-failures", s.max_failures, allow_zero=True)
    positive("--ensemble", s.ensemble, allow_zero=True)
    positive("--cv", s.cv, allow_zero=True)
    check_seed(s.seed)
    positive("--grace-period", s.grace_period)
    positive("--patience", s.patience)
    if s.reduction_factor is not None and (s.reduction_factor < 2 or int(s.reduction_factor) != s.reduction_factor):
        raise UsageError(f"The --reduction-factor must be an integer >= 2, got {s.reduction_factor}.")
    if s.scheduler in ("median", "fifo") and s.reduction_factor is not None:
        raise UsageError(f"The --reduction-factor is for the asha and hyperband schedulers, not {s.scheduler}.")
    if s.search == "grid" and (s.enqueue or s.warm_start):
        raise UsageError("A --search grid runs its own combinations: it takes no --enqueue or --warm-start.")
    if s.scheduler == "fifo" and s.grace_period is not None:
        raise UsageError("The --grace-period is for a scheduler that stops trials early; fifo stops none.")
    if s.cv == 1:
        raise UsageError("The --cv must be 0 (the single validation split) or a number of folds >= 2, got 1.")
    if s.gpus_per_trial != "auto":  # auto is resolved once Ray runs (pipelines.engine.gpu_packing)
        positive("--gpus-per-trial", s.gpus_per_trial, integer=False, allow_zero=True)
        if s.gpus_per_trial > 1 and s.gpus_per_trial != int(s.gpus_per_trial):
            raise UsageError(f"The --gpus-per-trial above 1 must be a whole number, got {s.gpus_per_trial}.")
    if s.search not in SEARCHES:
        raise UsageError(f"The --search must be one of {', '.join(SEARCHES)}, got {s.search!r}.")
    if s.scheduler not in SCHEDULERS:
        raise UsageError(f"The --scheduler must be one of {', '.join(SCHEDULERS)}, got {s.scheduler!r}.")
    if s.target is not None and s.data is None:
        raise UsageError("--target names a column of --data; give --data FILE too.")
    if s.drop is not None and s.data is None:
        raise UsageError("--drop names columns of --data; give --data FILE too.")
    drop_columns(s.drop)
    if s.data is not None and not Path(s.data).exists():  # before the task's modules load (torch)
        raise DataError(f"The --data '{s.data}' does not exist." if new_sweep else
                        f"The data the sweep ran on, '{s.data}', does not exist any more; put it back to resume.")
    name = s.name or f"{short_name(s.task)}-{time.strftime('%Y%m%d-%H%M%S')}"
    check_name(name)
    if s.storage and "://" in s.storage:
        # The sweep's folder holds its Optuna study (SQLite) and what `hpo resume` reads: it needs a file system.
        raise UsageError(f"The --storage must be a folder, got the URI {s.storage!r}; on a cluster use a folder "
                         "every node mounts at the same path (NFS, EFS).")
    storage = Path(s.storage or "ray_results").expanduser().resolve()
    if new_sweep:
        check_storage(storage, name)
    return replace(s, name=name, storage=str(storage))


def check_seed(seed) -> None:
    if not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UsageError(f"The --seed must be an integer from 0 to {MAX_SEED}, got {seed}.")


def drop_columns(drop: str | None) -> tuple[str, ...]:
    """The columns of --drop COL[,COL]."""
    if drop is None:
        return ()
    columns = tuple(c.strip() for c in drop.split(","))
    if not all(columns):
        raise UsageError(f"The --drop must be column names separated by commas, got {drop!r}.")
    return columns


def check_name(name: str) -> None:
    """A sweep's or a run's name: it becomes a folder and an MLflow run name."""
    if not NAME_PATTERN.match(name):
        raise UsageError(f"The --name must be letters, digits, '.', '_' or '-' (at most 128), got {name!r}.")


def _can_write_in(folder: Path) -> bool:
    """Try it: permission bits say little to root or on network file systems. Leaves nothing behind."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def check_storage(storage: Path, name: str) -> None:
    """The storage folder must be writable and must not already hold a sweep of this name."""
    existing = storage
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not _can_write_in(existing):
        raise UsageError(f"The --storage '{storage}' cannot be written (its nearest existing folder is "
                         f"'{existing}'); choose a writable folder.")
    if (storage / name).exists():
        raise UsageError(f"A sweep named {name!r} already exists in '{storage}'; continue it with "
                         f"'hpo resume {name}' or choose another --name.")
