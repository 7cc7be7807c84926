"""The grid of `--search grid`: every combination of the params a --space file gives as choices (or as
int ranges with a step); the task's other params keep their default values (Space(grid=True))."""
from __future__ import annotations

import math

from pipelines.errors import SpaceError
from search_spaces.space import ParamSpec, apply_cap


def grid_values(overrides: dict[str, ParamSpec], caps: dict[str, float] | None = None) -> dict[str, list]:
    """Each grid param's values, capped like the space (--max-epochs); SpaceError for a continuous one."""
    if not overrides:
        raise SpaceError("A --search grid searches the params a --space file gives as choices (or int ranges "
                         "with a step); give --space FILE.yaml.")
    grid, continuous = {}, []
    for name, spec in overrides.items():
        if caps and name in caps:
            spec = apply_cap(spec, caps[name])
        if spec.kind == "categorical":
            grid[name] = list(dict.fromkeys(spec.choices))
        elif spec.kind == "int" and spec.step:
            grid[name] = list(range(int(spec.low), int(spec.high) + 1, int(spec.step)))
        else:
            continuous.append(f"'{name}' ({spec.describe()})")
    if continuous:
        raise SpaceError(f"A --search grid takes params with choices or int ranges with a step; "
                         f"{', '.join(continuous)} {'is' if len(continuous) == 1 else 'are'} continuous: "
                         "give choices instead.")
    return grid


def grid_size(grid: dict[str, list]) -> int:
    return math.prod(len(values) for values in grid.values())
