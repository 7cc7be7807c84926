"""The params every MLP task searches: the default ranges, in one place."""
from search_spaces.space import Space
from trainables.mlp import ACTIVATIONS
from trainables.optimizers import DENSE_OPTIMIZERS

MAX_LAYERS = 8      # a sanity limit on a user's n_layers range
MAX_WIDTH = 4096
# The first trial of a sweep with the default space: a linear model, the untuned baseline's shape, so that
# the search starts from it and the ensemble can draw on it.
LINEAR = {"batch_size": 32, "epochs": 50, "lr": 1e-2, "optimizer": "Adam", "n_layers": 0, "activation": "ReLU",
          "dropout": 0.0, "weight_decay": 1e-4}


def training_params(space: Space, batch_sizes=(16, 32, 64, 128), epochs=(5, 50)) -> dict:
    """What every task searches, whatever its model: batch size, epochs, learning rate, optimizer."""
    return {
        "batch_size": space.categorical("batch_size", list(batch_sizes), minimum=1),  # rows per step
        "epochs": space.int("epochs", *epochs, minimum=1),                            # passes over train
        "lr": space.float("lr", 1e-4, 1e-1, log=True, above=0),
        "optimizer": space.categorical("optimizer", list(DENSE_OPTIMIZERS), allowed=DENSE_OPTIMIZERS),
    }


def mlp_params(space: Space) -> dict:
    config = training_params(space)
    # Hidden layers; 0 is a linear model on the features, the untuned baseline's shape.
    config["n_layers"] = space.int("n_layers", 0, 3, minimum=0, maximum=MAX_LAYERS)
    for i in range(config["n_layers"]):  # one width per hidden layer, conditional on n_layers
        config[f"n_units_l{i}"] = space.int(f"n_units_l{i}", 8, 256, log=True, minimum=1, maximum=MAX_WIDTH)
    config["activation"] = space.categorical("activation", list(ACTIVATIONS), allowed=ACTIVATIONS)
    config["dropout"] = space.float("dropout", 0.0, 0.5, minimum=0.0, maximum=0.95)
    config["weight_decay"] = space.float("weight_decay", 1e-6, 1e-2, log=True, minimum=0.0)
    return config


CLASS_WEIGHTS = ("none", "balanced")


def classifier_params(space: Space) -> dict:
    """The MLP's params, and how the loss weighs the classes: every row the same, or unequal classes
    balanced (trainables.tabular.class_weights)."""
    config = mlp_params(space)
    config["class_weight"] = space.categorical("class_weight", list(CLASS_WEIGHTS), allowed=CLASS_WEIGHTS)
    return config
