"""Configs given from outside the search: `--enqueue` files and the finished trials of earlier sweeps
(`--warm-start`). Each is walked through the task's space (with the sweep's --space file and caps), so a
config is taken only where every value fits what this sweep's trials would be offered; the Optuna
distributions it records are the ones this sweep's own trials use."""
from __future__ import annotations

from typing import Callable

from pipelines.errors import SpaceError
from search_spaces.space import ParamSpec, Space


class _GivenTrial:
    """Answers each suggestion with the given value, checked against what the space offers; a param the
    values lack takes the space's first choice or lowest value when `partial` (Optuna samples it later)."""

    def __init__(self, values: dict, partial: bool):
        self.values, self.partial = values, partial
        self.distributions: dict = {}

    def _given(self, name, fits, describe, fallback):
        if name not in self.values:
            if not self.partial:
                raise SpaceError(f"'{name}' is missing")
            return fallback
        value = self.values[name]
        if not fits(value):
            raise SpaceError(f"'{name}' is {value!r}, outside {describe}")
        return value

    def suggest_categorical(self, name, choices):
        from optuna.distributions import CategoricalDistribution

        value = self._given(name, lambda v: v in choices, f"the choices {list(choices)}", choices[0])
        if name in self.values:
            self.distributions[name] = CategoricalDistribution(choices)
        return value

    def suggest_int(self, name, low, high, step=1, log=False):
        from optuna.distributions import IntDistribution

        value = self._given(name, lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
                            and (v - low) % step == 0, f"the ints [{low}, {high}]", low)
        if name in self.values:
            self.distributions[name] = IntDistribution(low, high, log=log, step=step)
        return value

    def suggest_float(self, name, low, high, step=None, log=False):
        from optuna.distributions import FloatDistribution

        value = self._given(name, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                            and low <= v <= high, f"[{low}, {high}]", low)
        if name in self.values:
            self.distributions[name] = FloatDistribution(low, high, log=log, step=step)
        return float(value)


def distributions_of(define: Callable[[Space], dict], values: dict, *, overrides: dict[str, ParamSpec] | None = None,
                     caps: dict | None = None, partial: bool = False) -> dict:
    """The Optuna distribution of each given param, as this sweep's space offers it; SpaceError naming the
    first value that does not fit (or, unless `partial`, a param it lacks), or a name the task lacks."""
    trial = _GivenTrial(values, partial)
    space = Space(trial, overrides, caps)
    define(space)
    unknown = sorted(set(values) - set(space.defaults))
    if unknown:
        raise SpaceError(f"the task has no param(s) {', '.join(map(repr, unknown))}")
    return trial.distributions
