"""The one place that maps task names to their trainable and default search space.

A task of the user's (a file, module:NAME, an installed package's entry point) is found through
pipelines.task_sources and carries its own space. Adding a built-in task: write trainables/NAME.py (with a
TASK built from its card), search_spaces/NAME.py (with define), add its card (one line) to
trainables/catalog.py, and list the task in the README. A task's modules (torch and all) are imported when
it is first asked for, so that help and usage errors answer at once.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from pipelines import task_sources
from pipelines.errors import UsageError
from trainables.catalog import CARDS
from trainables.task import Task

# trainables/NAME.py has its TASK, search_spaces/NAME.py its define (and FIRST_TRIAL where it has one)
TASK_NAMES = tuple(CARDS)


@dataclass(frozen=True)
class Registered:
    task: Task
    define_space: Callable           # (search_spaces.space.Space) -> config dict
    first_trial: dict | None = None  # params of a sweep's first trial when it searches the default space


def registered(name: str) -> Registered:
    trainable, space = (importlib.import_module(f"{package}.{name}") for package in ("trainables", "search_spaces"))
    return Registered(trainable.TASK, space.define, getattr(space, "FIRST_TRIAL", None))


_loaded: dict[str, Registered] = {}   # by name, imported on first use


def __getattr__(attribute: str):
    if attribute == "TASKS":  # every task; then an ordinary module global (tests replace entries in it)
        for name in TASK_NAMES:
            get(name)
        globals()["TASKS"] = _loaded
        return _loaded
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def own(reference: str) -> Registered:
    task = task_sources.load(reference)
    if task.name in TASK_NAMES:  # its runs and models would be taken for the built-in's
        raise UsageError(f"The task {reference!r} is named {task.name!r}, as a built-in task is; "
                         "give it a name of its own (hpo.table_task(NAME, ...) or hpo.Task(name=NAME, ...)).")
    return Registered(task, task.space, task.first_trial)


def check(reference: str) -> None:
    """Refuse a reference that names no task, without importing any task's modules."""
    if reference not in TASK_NAMES:
        task_sources.check(reference, TASK_NAMES)


def canonical(reference: str) -> str:
    """How a sweep keeps the task: a built-in's name, or where a task of the user's is found."""
    return reference if reference in TASK_NAMES else task_sources.canonical(reference)


def get(reference: str) -> Registered:
    check(reference)
    if reference not in _loaded:
        _loaded[reference] = registered(reference) if reference in TASK_NAMES else own(reference)
    return _loaded[reference]


def loaded(name: str) -> Registered | None:
    """The task of this name (or reference) if it has been loaded in this process (the reporting rooms ask
    without loading)."""
    return _loaded.get(name) or next((r for r in _loaded.values() if r.task.name == name), None)
