"""The default search space of the binary task."""
from search_spaces.mlp import LINEAR, classifier_params
from search_spaces.space import Space

FIRST_TRIAL = {**LINEAR, "class_weight": "none"}


def define(space: Space) -> dict:
    return classifier_params(space)
