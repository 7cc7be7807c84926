"""A sweep's input, checked before the first byte is written to storage or MLflow.

Order matters for the bad-input contract: flags, space, store and data are all checked first, so that a
bad value leaves nothing behind; errors name the values as the user typed them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines import registry
from pipelines.engine.given_trials import enqueued_configs, warm_start_trials
from pipelines.engine.settings import DEFAULT_TRIALS, SweepSettings, check_settings, drop_columns
from pipelines.engine.task_check import first_look
from pipelines.errors import UsageError
from pipelines.task_sources import guarded
from pipelines.tracking.store import resolve_tracking_uri
from search_spaces.grid import grid_size, grid_values
from search_spaces.space import check_space
from search_spaces.yaml_space import load_space_file
from trainables.folds import Folds, whole
from trainables.metrics import Objective
from trainables.task import DataRequest

DEFAULT_ENSEMBLE = 3         # trials averaged into the ensemble candidate of the final model
CV_DEFAULT_MAX_ROWS = 5000   # above this many train+val rows the single split is the default


@dataclass(frozen=True)
class PreparedSweep:
    """A sweep whose inputs have all been checked; nothing is written yet."""
    settings: SweepSettings       # resolved: name, storage, tracking URI and data paths absolute
    registered: registry.Registered
    overrides: dict               # the --space file's distributions, by param name
    caps: dict                    # flags that cap params of the space (--max-epochs)
    max_epochs: int               # the most epochs a trial may run: ASHA's max_t
    data: object                  # what the task's loader returned, cut into Folds under --cv
    objective: Objective          # what trials are ranked by (--metric)
    grid: dict | None = None      # --search grid: each grid param's values (search_spaces.grid)
    enqueued: tuple = ()          # --enqueue: configs run first
    warm_trials: tuple = ()       # --warm-start: earlier sweeps' finished trials, told to the study

    @property
    def sweep_dir(self) -> Path:
        return Path(self.settings.storage) / self.settings.name


def prepare(settings: SweepSettings, new_sweep: bool = True, given_trials: bool | None = None) -> PreparedSweep:
    """`given_trials`: read the --enqueue file and the --warm-start sweeps (by default for a new sweep only;
    a resumed sweep that never began makes its study then)."""
    given_trials = new_sweep if given_trials is None else given_trials
    registry.check(settings.task)
    settings = check_settings(replace(settings, task=registry.canonical(settings.task)), new_sweep)
    registered = registry.get(settings.task)  # after the cheap checks: a task's modules load torch (seconds)
    objective = objective_of(settings.metric, registered.task)
    overrides = load_space_file(settings.space) if settings.space else {}
    caps = {"epochs": settings.max_epochs} if settings.max_epochs else {}
    summary = guarded(registered.task, "space", check_space, registered.define_space, overrides, caps)
    grid = grid_values(overrides, caps) if settings.search == "grid" else None
    trials = settings.trials or DEFAULT_TRIALS
    if grid is not None:  # every combination once, unless --trials asks for fewer
        trials = min(settings.trials or grid_size(grid), grid_size(grid))
    enqueued = (enqueued_configs(settings.enqueue, registered.define_space, overrides, caps)
                if settings.enqueue and given_trials else ())
    warm = (warm_start_trials(settings.warm_start, settings.storage, settings.task, objective.metric,
                              registered.define_space, overrides, caps) if settings.warm_start and given_trials else ())
    tracking_uri = resolve_tracking_uri(settings.tracking_uri)
    request = DataRequest(data=settings.data, target=settings.target, dataset=settings.dataset,
                          data_dir=settings.data_dir, seed=settings.seed, drop=drop_columns(settings.drop))
    data = guarded(registered.task, "load_data", registered.task.load_data, request)
    first_look(registered, data)  # a task of the user's: a model that raises is an error before anything starts
    # Absolute from here on: `hpo resume` may run from another folder.
    data_path, data_dir = (str(Path(p).expanduser().resolve()) if p else p for p in (settings.data, settings.data_dir))
    cv = folds_count(settings.cv, registered.task, data)
    settings = replace(settings, tracking_uri=tracking_uri, data=data_path, data_dir=data_dir, trials=trials,
                       ensemble=ensemble_size(settings.ensemble, registered.task), cv=cv, metric=objective.metric)
    if cv:
        data = Folds(data, tuple(registered.task.cross_validate(data, cv, settings.seed)))
    return PreparedSweep(settings, registered, overrides, caps, int(summary.largest["epochs"]), data, objective,
                         grid, enqueued, warm)


def model_params(registered) -> tuple[str, ...]:
    """A task of the user's: the params its space draws besides the training params every task has, for the
    summary's table (a built-in task's table shows the MLP's own)."""
    from search_spaces.mlp import training_params  # imports torch: not on the path of a bad flag's error

    if not registered.task.source:
        return ()
    training = set(check_space(training_params).params) | {"weight_decay", "warmup_epochs"}
    return tuple(p for p in check_space(registered.define_space).params if p not in training)


def objective_of(asked: str | None, task) -> Objective:
    """The objective --metric names (the task's own, val_loss, by default): one of the task's val_ metrics."""
    allowed = ("val_loss", *task.metrics)
    if asked is not None and asked not in allowed:
        raise UsageError(f"The --metric must be a metric the {task.name} task reports: {', '.join(allowed)}; "
                         f"got {asked!r}.")
    return Objective(asked or task.metric)


def folds_count(asked: int | None, task, data) -> int:
    """How many folds trials cross-validate on: --cv, else the task's default folds where train+val is
    small enough for K trainings per trial; 0 is the single validation split."""
    if asked is None:
        rows = len(data.x_train) + len(data.x_val) if task.default_folds else math.inf
        return task.default_folds if rows <= CV_DEFAULT_MAX_ROWS else 0
    if asked and task.cross_validate is None:
        raise UsageError(f"The {task.name} task has no cross-validation: --cv must be 0 for it, got {asked}.")
    return asked


def ensemble_size(asked: int | None, task) -> int:
    """How many trials the final ensemble averages: --ensemble, else DEFAULT_ENSEMBLE where the task can."""
    if asked is None:
        return DEFAULT_ENSEMBLE if task.outputs is not None else 0
    if asked > 1 and task.outputs is None:
        raise UsageError(f"The {task.name} task cannot average models: --ensemble must be 0 or 1 for it, got {asked}.")
    return asked


def sweep_params(prepared: PreparedSweep, concurrency: int) -> dict:
    """The resolved settings as they go on the parent run and into sweep_config.yaml (what `hpo resume`
    reads). A --space file is read from the sweep's own copy, so a resume does not need the original."""
    settings, data = prepared.settings, whole(prepared.data)
    params = {k: v for k, v in settings.as_dict().items() if v is not None}
    if settings.space:
        params["space"] = str(prepared.sweep_dir / "space.yaml")
    params.update(max_epochs=prepared.max_epochs, concurrency=concurrency, data_source=getattr(data, "source", ""),
                  data_fingerprint=getattr(data, "fingerprint", ""))
    return params
