"""A fixed config (best_config.yaml, or one written by hand) checked against a task's space.

Every value goes through the same checks as a one-value override of its param in a `--space` file, so
a config is refused for the same reasons a space would be: an unknown param, a value of the wrong kind
or outside what the task accepts; and a param the task needs that the config lacks is refused too.
"""
from __future__ import annotations

from typing import Callable

from pipelines.errors import SpaceError
from search_spaces.space import ParamSpec, Space

NOT_SEARCHED = ("seed", "patience")   # keys a trial's config has besides the space's params (--patience)


class _FixedTrial:
    """Answers every suggestion with the config's value (Space passes it as the only choice)."""

    def __init__(self, config: dict):
        self.config = config

    def suggest_categorical(self, name, choices):
        if name not in self.config:
            raise SpaceError(f"The config lacks '{name}', which this task needs (e.g. one of {list(choices)}).")
        return choices[0]

    def suggest_int(self, name, low, high, step=1, log=False):
        raise SpaceError(f"The config lacks '{name}', which this task needs (an int in [{low}, {high}]).")

    def suggest_float(self, name, low, high, step=None, log=False):
        raise SpaceError(f"The config lacks '{name}', which this task needs (a float in [{low}, {high}]).")


def fixed_config(define: Callable[[Space], dict], config: dict) -> dict:
    """The config as the task's define function returns it for these values; SpaceError if it can't be."""
    values = {k: v for k, v in config.items() if k not in NOT_SEARCHED}
    space = Space(_FixedTrial(values), {k: ParamSpec("categorical", choices=(v,)) for k, v in values.items()})
    resolved = define(space)
    unknown = sorted(set(values) - set(space.defaults))
    if unknown:
        raise SpaceError(f"The config names param(s) {', '.join(map(repr, unknown))} that this task does not "
                         f"know; known params: {', '.join(space.defaults)}.")
    return {**resolved, **{k: config[k] for k in NOT_SEARCHED if k in config}}
