"""The params every MLP task searches, and the training params every task shares: the default ranges, in
one place."""
from search_spaces.space import Space
from trainables.lr_schedules import SCHEDULES
from trainables.mlp import ACTIVATIONS, NORMS
from trainables.optimizers import DENSE_OPTIMIZERS

MAX_LAYERS = 8      # a sanity limit on a user's n_layers range
MAX_WIDTH = 4096
# The first trial of a sweep with the default space: a linear model, the untuned baseline's shape, so that
# the search starts from it and the ensemble can draw on it.
LINEAR = {"batch_size": 32, "epochs": 50, "lr": 1e-2, "optimizer": "Adam", "lr_schedule": "constant",
          "n_layers": 0, "activation": "ReLU", "norm": "none", "dropout": 0.0, "weight_decay": 1e-4, "l1": 0.0}
MAX_WARMUP = 10     # warm-up epochs of the cosine schedule at most
# The default space offers only today's behaviour for lr_schedule, norm, l1 and grad_clip: searched too, they
# lost to it at 20 trials on iris and diabetes (docs/benchmarks.md, "Search methods and schedulers"). A
# --space file with choices (or a range for l1) searches them.


def lr_schedule_params(space: Space, schedules=("constant",), warmup=(0, 5), default_warmup=0) -> dict:
    """How the lr moves over a trial's epochs (trainables.lr_schedules), with the cosine's warm-up; the
    first of `schedules` is the default."""
    config = {"lr_schedule": space.categorical("lr_schedule", list(schedules), default=schedules[0],
                                               allowed=SCHEDULES)}
    if config["lr_schedule"] == "cosine":
        config["warmup_epochs"] = space.int("warmup_epochs", *warmup, default=default_warmup, minimum=0,
                                            maximum=MAX_WARMUP)
    return config


def grad_clip_param(space: Space, choices=(0.0,)) -> dict:
    """The gradient norm's clip (0: none); the first of `choices` is the default."""
    return {"grad_clip": space.categorical("grad_clip", list(choices), default=choices[0], minimum=0.0)}


def training_params(space: Space, batch_sizes=(16, 32, 64, 128), epochs=(5, 50), default_epochs=30) -> dict:
    """What every task searches, whatever its model: batch size, epochs, learning rate, optimizer (their
    defaults: batch 32, Adam at lr 1e-3)."""
    return {
        "batch_size": space.categorical("batch_size", list(batch_sizes), default=32, minimum=1),  # rows per step
        "epochs": space.int("epochs", *epochs, default=default_epochs, minimum=1),            # passes over train
        "lr": space.float("lr", 1e-4, 1e-1, default=1e-3, log=True, above=0),
        "optimizer": space.categorical("optimizer", list(DENSE_OPTIMIZERS), default="Adam",
                                       allowed=DENSE_OPTIMIZERS),
        **lr_schedule_params(space),
    }


def mlp_params(space: Space) -> dict:
    config = training_params(space)
    # Hidden layers; 0 is a linear model on the features, the untuned baseline's shape.
    config["n_layers"] = space.int("n_layers", 0, 3, default=2, minimum=0, maximum=MAX_LAYERS)
    for i in range(config["n_layers"]):  # one width per hidden layer, conditional on n_layers
        config[f"n_units_l{i}"] = space.int(f"n_units_l{i}", 8, 256, default=64, log=True, minimum=1,
                                            maximum=MAX_WIDTH)
    config["activation"] = space.categorical("activation", list(ACTIVATIONS), default="ReLU", allowed=ACTIVATIONS)
    config["norm"] = space.categorical("norm", ["none"], default="none", allowed=NORMS)  # of each hidden layer
    config["dropout"] = space.float("dropout", 0.0, 0.5, default=0.0, minimum=0.0, maximum=0.95)
    config["weight_decay"] = space.float("weight_decay", 1e-6, 1e-2, default=1e-4, log=True, minimum=0.0)  # L2
    config["l1"] = space.float("l1", 0.0, 0.0, default=0.0, minimum=0.0)  # the L1 penalty's weight
    return config


CLASS_WEIGHTS = ("none", "balanced")


def classifier_params(space: Space) -> dict:
    """The MLP's params, and how the loss weighs the classes: every row the same, or unequal classes
    balanced (trainables.tabular.class_weights)."""
    config = mlp_params(space)
    config["class_weight"] = space.categorical("class_weight", list(CLASS_WEIGHTS), default="none",
                                               allowed=CLASS_WEIGHTS)
    return config
