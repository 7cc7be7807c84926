"""The default search space of the regression task: the MLP params plus the training loss."""
from search_spaces.mlp import LINEAR, mlp_params
from search_spaces.space import Space
from trainables.regression import LOSSES

FIRST_TRIAL = {**LINEAR, "loss": "MSE"}


def define(space: Space) -> dict:
    config = mlp_params(space)
    config["loss"] = space.categorical("loss", list(LOSSES), allowed=LOSSES)
    return config
