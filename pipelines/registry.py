"""The one place that maps task names to their trainable and default search space.

Adding a task: write trainables/NAME.py (with a TASK), search_spaces/NAME.py (with define), add one
line below, and list the task in the README. The task modules (torch and all) are imported the first
time TASKS is read, so that help and usage errors answer at once.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from pipelines.errors import UsageError

# trainables/NAME.py has its TASK, search_spaces/NAME.py its define (and FIRST_TRIAL where it has one)
TASK_NAMES = ("binary", "multiclass", "regression", "rnn", "cnn", "bigram", "transformer")


@dataclass(frozen=True)
class Registered:
    task: object                     # trainables.task.Task
    define_space: Callable           # (search_spaces.space.Space) -> config dict
    first_trial: dict | None = None  # params of a sweep's first trial when it searches the default space


def registered(name: str) -> Registered:
    trainable, space = (importlib.import_module(f"{package}.{name}") for package in ("trainables", "search_spaces"))
    return Registered(trainable.TASK, space.define, getattr(space, "FIRST_TRIAL", None))


def tasks() -> dict[str, Registered]:
    """Every task, imported the first time; then an ordinary module global (tests replace entries in it)."""
    if "TASKS" not in globals():
        globals()["TASKS"] = {name: registered(name) for name in TASK_NAMES}
    return globals()["TASKS"]


def __getattr__(attribute: str):
    if attribute == "TASKS":
        return tasks()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def get(name: str) -> Registered:
    if name not in TASK_NAMES:
        raise UsageError(f"Unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}.")
    return tasks()[name]
