"""Loading a `--space FILE.yaml`: param names mapped to Optuna distributions.

    lr:        {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
    epochs:    {type: int, low: 5, high: 50}
    optimizer: {type: categorical, choices: [SGD, Adam]}

Anything wrong raises SpaceError, and only SpaceError, naming the param and what is allowed.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import SpaceError
from search_spaces.space import KINDS, ParamSpec, _is_number

KEYS = {"int": {"type", "low", "high", "log", "step"},
        "float": {"type", "low", "high", "log", "step"},
        "categorical": {"type", "choices"}}
EXAMPLE = "{type: float, low: 1.0e-4, high: 1.0e-1, log: true}"


def _number(name: str, key: str, value: Any, kind: str):
    # PyYAML reads `1e-4` (no dot) as a string; accept what float() accepts for float bounds.
    if kind == "float" and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if not _is_number(value) or not math.isfinite(value):
        raise SpaceError(f"The '{key}' of param '{name}' must be a finite number, got {value!r}.")
    if kind == "int" and not float(value).is_integer():
        raise SpaceError(f"The '{key}' of int param '{name}' must be a whole number, got {value!r}.")
    return int(value) if kind == "int" else float(value)


def parse_param(name: Any, raw: Any) -> ParamSpec:
    if not isinstance(name, str) or not name:
        raise SpaceError(f"Param names of the space must be non-empty strings, got {name!r}.")
    if not isinstance(raw, dict):
        raise SpaceError(f"The param '{name}' of the space must be a mapping like {EXAMPLE}, got {raw!r}.")
    kind = raw.get("type")
    if kind not in KINDS:
        raise SpaceError(f"The 'type' of param '{name}' must be one of {', '.join(KINDS)}, got {kind!r}.")
    extra = sorted(map(str, set(raw) - KEYS[kind]))
    if extra:
        raise SpaceError(f"The param '{name}' ({kind}) has unknown key(s) {', '.join(extra)}; "
                         f"allowed: {', '.join(sorted(KEYS[kind]))}.")
    if kind == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, list) or not choices:
            raise SpaceError(f"The 'choices' of param '{name}' must be a non-empty list, got {choices!r}.")
        for choice in choices:
            if not (choice is None or isinstance(choice, (str, bool)) or
                    (_is_number(choice) and math.isfinite(choice))):
                raise SpaceError(f"The choices of param '{name}' must be strings, numbers, booleans or null, "
                                 f"got {choice!r}.")
        if len({repr(c) for c in choices}) != len(choices):
            raise SpaceError(f"The choices of param '{name}' must not repeat, got {choices!r}.")
        return ParamSpec("categorical", choices=tuple(choices))
    for key in ("low", "high"):
        if key not in raw:
            raise SpaceError(f"The param '{name}' ({kind}) needs '{key}', like {EXAMPLE}.")
    low, high = (_number(name, key, raw[key], kind) for key in ("low", "high"))
    if low > high:
        raise SpaceError(f"The 'low' of param '{name}' must be <= its 'high', got {low} > {high}.")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"The 'log' of param '{name}' must be true or false, got {log!r}.")
    if log and low <= 0:
        raise SpaceError(f"The 'low' of log-scaled param '{name}' must be > 0, got {low}.")
    step = raw.get("step")
    if step is not None:
        step = _number(name, "step", step, kind)
        if step <= 0:
            raise SpaceError(f"The 'step' of param '{name}' must be > 0, got {step}.")
        if log:
            raise SpaceError(f"The param '{name}' cannot have both 'step' and 'log: true' (Optuna forbids it).")
    return ParamSpec(kind, low, high, log, step)


def parse_space(document: Any) -> dict[str, ParamSpec]:
    if not isinstance(document, dict) or not document:
        raise SpaceError(f"A space file must be a non-empty mapping of param names, like 'lr: {EXAMPLE}'; "
                         f"got {type(document).__name__}.")
    return {name: parse_param(name, raw) for name, raw in document.items()}


def read_yaml_file(path: str | Path, option: str) -> Any:
    """The YAML document of the file an option (--space, --config) names; SpaceError says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise SpaceError(f"The {option} file '{path}' does not exist or is not a file.")
    try:
        return yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpaceError(f"The {option} file '{path}' is not valid YAML: {' '.join(str(exc).split())}") from None


def load_space_file(path: str | Path) -> dict[str, ParamSpec]:
    document = read_yaml_file(path, "--space")
    try:
        return parse_space(document)
    except SpaceError as exc:
        raise SpaceError(f"In --space '{path}': {exc}") from None
