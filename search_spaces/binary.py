"""The default search space of the binary task."""
from search_spaces.mlp import LINEAR, mlp_params
from search_spaces.space import Space

FIRST_TRIAL = LINEAR


def define(space: Space) -> dict:
    return mlp_params(space)
