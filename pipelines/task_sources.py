"""Tasks from outside the package: a Python file of the user's, an importable `module:NAME`, or an installed
package's entry point in the `hpo.tasks` group.

A reference is what `hpo run` takes: `path/to/my_task.py` (its `TASK`), `path/to/file.py:NAME`,
`package.module:NAME`, or an entry point's name. Each gives a trainables.task.Task with its `space`. A task's
module is pickled by value, so its code travels to Ray's workers (and into a logged model) with the trial:
the file on the driver is enough. A mistake in the user's code is a UsageError naming the file and line.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path

from pipelines.errors import InputError, UsageError

ENTRY_POINT_GROUP = "hpo.tasks"
DEFAULT_ATTRIBUTE = "TASK"   # what a task file names its Task
SHIPPED_MODULES: list = []   # the user's task modules, pickled by value wherever a trial or model goes


def _file_and_attribute(reference: str) -> tuple[str, str] | None:
    """(path, attribute) for a file reference (`x.py` or `x.py:NAME`), else None."""
    path, _, attribute = reference.partition(".py:")
    if attribute:
        return path + ".py", attribute
    return (reference, DEFAULT_ATTRIBUTE) if reference.endswith(".py") else None


def canonical(reference: str) -> str:
    """The reference as a sweep keeps it: a file's absolute path, since `hpo resume` may run elsewhere."""
    found = _file_and_attribute(reference)
    if found is None:
        return reference
    absolute = str(Path(found[0]).expanduser().resolve())
    return absolute if found[1] == DEFAULT_ATTRIBUTE else f"{absolute}:{found[1]}"  # x.py is x.py:TASK


def short_name(reference: str) -> str:
    """A name for what the reference finds, fit for a sweep's default name: the file's stem, NAME of
    module:NAME, or the reference itself."""
    found = _file_and_attribute(reference)
    name = Path(found[0]).stem if found is not None else reference.rpartition(":")[2] or reference
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "task"  # 'my task.py' -> my-task


def installed() -> dict:
    """The entry points of the `hpo.tasks` group, by name."""
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


def check(reference: str, built_in: tuple[str, ...]) -> None:
    """Refuse a reference that cannot name a task, before anything heavy is imported."""
    found = _file_and_attribute(reference)
    if found is not None:
        if not Path(found[0]).expanduser().is_file():
            raise UsageError(f"The task file '{found[0]}' does not exist.")
        return
    if ":" in reference or reference in installed():
        return
    raise UsageError(f"Unknown task {reference!r}; choose one of {', '.join(built_in)}, a task file "
                     "(path/to/my_task.py), an importable module:NAME, or an installed package's task "
                     f"(entry point group {ENTRY_POINT_GROUP!r}).")


def where_in_user_code(exc: BaseException, files: set | None = None) -> str:
    """' (file.py, line N)' of the deepest frame of `exc` in the user's task files (by default every one
    loaded), or ''."""
    files = files if files is not None else {getattr(m, "__file__", None) for m in SHIPPED_MODULES}
    if isinstance(exc, SyntaxError) and exc.lineno and exc.filename in files:
        return f" ({Path(exc.filename).name}, line {exc.lineno})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in files]
    return f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""


def guarded(task, what: str, function, *args):
    """function(*args); for a task of the user's, an exception from its code is a UsageError that names the
    task's part (a built-in task's is a bug of this project, and keeps its traceback)."""
    if not task.source:
        return function(*args)
    try:
        return function(*args)
    except InputError:
        raise
    except Exception as exc:
        raise UsageError(f"The {task.name} task's {what} raised{where_in_user_code(exc)}: "
                         f"{type(exc).__name__}: {exc}") from None


def _load_file(path: str):
    absolute = str(Path(path).expanduser().resolve())
    # A name of its own per file, so that two task files called my_task.py do not meet in sys.modules.
    name = f"hpo_task_{Path(absolute).stem}_{hashlib.sha1(absolute.encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, absolute)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise UsageError(f"The task file '{path}' cannot be loaded{where_in_user_code(exc, {absolute})}: "
                         f"{type(exc).__name__}: {exc.msg if isinstance(exc, SyntaxError) else exc}") from None
    return module


def _load_module(module_name: str, reference: str):
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        raise UsageError(f"The task {reference!r} cannot be imported: {type(exc).__name__}: {exc}") from None


def load(reference: str):
    """The Task a reference names, with its `source` set to the canonical reference."""
    from trainables.task import Task

    found = _file_and_attribute(reference)
    if found is not None:
        module, attribute, where = _load_file(found[0]), found[1], f"The task file '{found[0]}'"
    elif ":" in reference:
        module_name, _, attribute = reference.partition(":")
        module, where = _load_module(module_name, reference), f"The module {module_name!r}"
    else:
        point = installed()[reference]
        attribute = point.attr or DEFAULT_ATTRIBUTE
        module, where = _load_module(point.module, reference), f"The entry point {reference!r} ({point.value})"
    task = getattr(module, attribute or DEFAULT_ATTRIBUTE, None)
    if not isinstance(task, Task):
        given = "defines no" if task is None else f"has a {type(task).__name__} as its"
        raise UsageError(f"{where} {given} {attribute!r}: make it a task, e.g. "
                         f"{attribute} = hpo.table_task(...) or hpo.Task(...).")
    if not callable(task.space):
        raise UsageError(f"{where}: its task {task.name!r} has no search space: give Task(..., space=define), "
                         "a function of an hpo.Space returning the config.")
    ship_by_value(module)
    return replace(task, source=canonical(reference))


def ship_by_value(module) -> None:
    """Pickle the module's functions and classes by value: Ray's workers and a logged model's loader need
    not import the user's file."""
    import cloudpickle

    if module not in SHIPPED_MODULES and module.__name__.split(".")[0] not in ("pipelines", "trainables"):
        cloudpickle.register_pickle_by_value(module)
        SHIPPED_MODULES.append(module)


def ship_to_ray() -> None:
    """The same for Ray's own copy of cloudpickle (what sends a trial's function to its worker)."""
    from ray import cloudpickle as ray_cloudpickle

    for module in SHIPPED_MODULES:
        ray_cloudpickle.register_pickle_by_value(module)
