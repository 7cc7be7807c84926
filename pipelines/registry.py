"""The one place that maps task names to their trainable and default search space.

Adding a task: write trainables/NAME.py (with a TASK built from its card), search_spaces/NAME.py (with
define), add its card (one line) to trainables/catalog.py, and list the task in the README. A task's
modules (torch and all) are imported when it is first asked for, so that help and usage errors answer
at once.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

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


def check(name: str) -> None:
    if name not in TASK_NAMES:
        raise UsageError(f"Unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}.")


def get(name: str) -> Registered:
    check(name)
    if name not in _loaded:
        _loaded[name] = registered(name)
    return _loaded[name]
