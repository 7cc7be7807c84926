"""The object a task's `define(space)` function draws its params from.

A define function reads like an Optuna objective (`space.int("epochs", 5, 50, default=30)`), but each param can be
replaced by a user's YAML distribution and capped by a sweep flag (`--max-epochs`). Every override is
checked against the param it replaces, so a bad space fails before a sweep starts.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from numbers import Real
from typing import Any, Callable

from pipelines.errors import SpaceError

KINDS = ("int", "float", "categorical")


@dataclass(frozen=True)
class ParamSpec:
    kind: str                        # int, float or categorical
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple | None = None

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"categorical {list(self.choices)}"
        return f"{self.kind} [{self.low}, {self.high}]" + (" log" if self.log else "")


def _kind_of(value: Any) -> str:
    """bool, int, float, str or NoneType: the kind of a categorical choice (bool is not an int here)."""
    return type(value).__name__ if isinstance(value, (bool, str)) or value is None else (
        "int" if isinstance(value, int) else "float")


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Limits:
    """What values a param can take at all, whatever the space says."""
    minimum: float | None = None     # inclusive
    above: float | None = None       # exclusive lower bound
    maximum: float | None = None     # inclusive
    allowed: tuple | None = None     # for categoricals: every value the task understands

    def check(self, name: str, value: Any) -> None:
        if self.allowed is not None:
            if value not in self.allowed:
                raise SpaceError(f"The '{name}' of the space must be one of "
                                 f"{', '.join(map(str, self.allowed))}, got {value!r}.")
            return
        if self.minimum is not None and value < self.minimum:
            raise SpaceError(f"The '{name}' of the space must be >= {self.minimum}, got {value!r}.")
        if self.above is not None and value <= self.above:
            raise SpaceError(f"The '{name}' of the space must be > {self.above}, got {value!r}.")
        if self.maximum is not None and value > self.maximum:
            raise SpaceError(f"The '{name}' of the space must be <= {self.maximum}, got {value!r}.")


def check_override(name: str, default: ParamSpec, override: ParamSpec, limits: Limits) -> None:
    """An override must give values of the kind the task expects, within the param's limits."""
    if default.kind == "categorical":
        if override.kind != "categorical":
            raise SpaceError(f"The '{name}' of the space must be of type categorical, got {override.kind}.")
        expected = {_kind_of(c) for c in default.choices}
        for choice in override.choices:
            kind = _kind_of(choice)
            if limits.allowed is None and not (kind in expected or (kind == "int" and "float" in expected)):
                raise SpaceError(f"The '{name}' of the space must have choices like "
                                 f"{list(default.choices)}, got {choice!r}.")
            limits.check(name, choice)
        return
    if override.kind == "categorical":
        values = override.choices
        for choice in values:
            if not _is_number(choice) or (default.kind == "int" and not float(choice).is_integer()):
                raise SpaceError(f"The '{name}' of the space must have {default.kind} choices, got {choice!r}.")
    elif override.kind != default.kind:
        raise SpaceError(f"The '{name}' of the space must be of type {default.kind} or categorical, "
                         f"got {override.kind}.")
    else:
        values = (override.low, override.high)
    for value in values:
        limits.check(name, value)


def apply_cap(spec: ParamSpec, cap: float) -> ParamSpec:
    """Limit a numeric param to at most `cap` (e.g. epochs to --max-epochs)."""
    if spec.kind == "categorical":
        kept = tuple(c for c in spec.choices if c <= cap)
        return replace(spec, choices=kept or (type(spec.choices[0])(cap),))
    high = min(spec.high, cap)
    return replace(spec, low=min(spec.low, high), high=high)


class Space:
    """Suggests each param through an Optuna trial, using the user's override where one is given."""

    def __init__(self, trial, overrides: dict[str, ParamSpec] | None = None, caps: dict[str, float] | None = None,
                 grid: bool = False):
        self.trial = trial
        self.overrides = overrides or {}
        self.caps = caps or {}
        self.grid = grid                            # a grid search: params not overridden take their default
        self.defaults: dict[str, ParamSpec] = {}   # every param the define function asked for

    def _suggest(self, name: str, default: ParamSpec, limits: Limits, value=None):
        """`value`: the task's default value of the param (a grid search's value where it is not searched)."""
        self.defaults[name] = default
        spec = default
        if name in self.overrides:
            spec = self.overrides[name]
            check_override(name, default, spec, limits)
        elif self.grid:
            return min(value, self.caps[name]) if name in self.caps else value
        if name in self.caps:
            spec = apply_cap(spec, self.caps[name])
        if spec.kind == "categorical":
            value = self.trial.suggest_categorical(name, list(spec.choices))
            return int(value) if default.kind == "int" else value
        if spec.kind == "int":
            return self.trial.suggest_int(name, int(spec.low), int(spec.high), step=int(spec.step or 1), log=spec.log)
        return self.trial.suggest_float(name, float(spec.low), float(spec.high), step=spec.step, log=spec.log)

    # `default`: the task's default value of the param, what a grid search uses where it does not search it.
    def int(self, name: str, low: int, high: int, *, default: int, log: bool = False, minimum: int | None = None,
            maximum: int | None = None) -> int:
        return self._suggest(name, ParamSpec("int", low, high, log), Limits(minimum=minimum, maximum=maximum), default)

    def float(self, name: str, low: float, high: float, *, default: float, log: bool = False,
              minimum: float | None = None, above: float | None = None, maximum: float | None = None) -> float:
        return self._suggest(name, ParamSpec("float", low, high, log),
                             Limits(minimum=minimum, above=above, maximum=maximum), default)

    def categorical(self, name: str, choices: list, *, default=None, allowed=None, minimum=None):
        """`default` None: the first choice."""
        return self._suggest(name, ParamSpec("categorical", choices=tuple(choices)),
                             Limits(allowed=tuple(allowed) if allowed is not None else None, minimum=minimum),
                             choices[0] if default is None else default)


class _TracingTrial:
    """Stands in for an Optuna trial to walk a define function once: numbers at their highest (so a
    loop over `n_layers` visits every layer and `epochs` is the most any trial runs), other
    categoricals at their first choice."""

    def suggest_int(self, name, low, high, step=1, log=False):
        return high

    def suggest_float(self, name, low, high, step=None, log=False):
        return high

    def suggest_categorical(self, name, choices):
        numeric = all(_is_number(c) for c in choices)
        return max(choices) if numeric else choices[0]


@dataclass(frozen=True)
class SpaceSummary:
    params: dict[str, ParamSpec]     # every param name the task knows, with its default
    largest: dict[str, Any]          # the config at the top of every range (epochs there is ASHA's max_t)


def check_space(define: Callable[[Space], dict], overrides: dict[str, ParamSpec] | None = None,
                caps: dict[str, float] | None = None) -> SpaceSummary:
    """Walk the space once with the overrides applied; raise SpaceError for any bad or unknown param."""
    space = Space(_TracingTrial(), overrides, caps)
    largest = define(space)
    unknown = sorted(set(space.overrides) - set(space.defaults))
    if unknown:
        raise SpaceError(f"The space names param(s) {', '.join(map(repr, unknown))} that this task does not "
                         f"know; known params: {', '.join(space.defaults)}.")
    return SpaceSummary(params=space.defaults, largest=largest)
