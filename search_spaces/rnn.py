"""The default search space of the rnn task: the recurrent cell, its depth and width, the window."""
from search_spaces.mlp import training_params
from search_spaces.space import Space
from trainables.rnn import CELLS

MAX_LAYERS = 8
MAX_HIDDEN = 1024


def define(space: Space) -> dict:
    # Recurrent steps are sequential: a step costs window x n_layers cell updates, so the default ranges
    # stay small enough for a CPU (a period of the default sine is ~63 values: 64 sees one).
    config = training_params(space, batch_sizes=(32, 64, 128, 256), epochs=(5, 40))
    config["window"] = space.int("window", 8, 64, log=True, minimum=1)   # past values a prediction reads
    config["cell"] = space.categorical("cell", list(CELLS), allowed=CELLS)
    config["n_layers"] = space.int("n_layers", 1, 2, minimum=1, maximum=MAX_LAYERS)       # stacked layers
    config["hidden_size"] = space.int("hidden_size", 8, 96, log=True, minimum=1, maximum=MAX_HIDDEN)
    config["dropout"] = space.float("dropout", 0.0, 0.5, minimum=0.0, maximum=0.95)
    return config
