"""A fixed config (best_config.yaml, or one written by hand) checked against a task's space.

Every value goes through the same checks as a one-value override of its param in a `--space` file, so
a config is refused for the same reasons a space would be: an unknown param, a value of the wrong kind
or outside what the task accepts. A param the config lacks (one added to the task after the config was
written, say) takes the task's default value, as in a grid search (Space(grid=True)).
"""
from __future__ import annotations

from typing import Callable

from pipelines.errors import SpaceError
from search_spaces.space import ParamSpec, Space

NOT_SEARCHED = ("seed", "patience")   # keys a trial's config has besides the space's params (--patience)


class _FixedTrial:
    """Answers every suggestion with the config's value (Space passes it as the only choice)."""

    def suggest_categorical(self, name, choices):
        return choices[0]


def fixed_config(define: Callable[[Space], dict], config: dict) -> dict:
    """The config as the task's define function returns it for these values (defaults for the params it
    lacks); SpaceError if it can't be."""
    values = {k: v for k, v in config.items() if k not in NOT_SEARCHED}
    space = Space(_FixedTrial(), {k: ParamSpec("categorical", choices=(v,)) for k, v in values.items()}, grid=True)
    resolved = define(space)
    unknown = sorted(set(values) - set(space.defaults))
    if unknown:
        raise SpaceError(f"The config names param(s) {', '.join(map(repr, unknown))} that this task does not "
                         f"know; known params: {', '.join(space.defaults)}.")
    return {**resolved, **{k: config[k] for k in NOT_SEARCHED if k in config}}
