"""The default search space of the rnn task: the recurrent cell, its depth and width, the window."""
from search_spaces.mlp import grad_clip_param, training_params
from search_spaces.space import Space
from trainables.rnn import CELLS

MAX_LAYERS = 8
MAX_HIDDEN = 1024


def define(space: Space) -> dict:
    # Recurrent steps are sequential: a step costs window x n_layers cell updates, so the default ranges
    # stay small enough for a CPU (a period of the default sine is ~63 values: 64 sees one).
    config = training_params(space, batch_sizes=(32, 64, 128, 256), epochs=(5, 40), default_epochs=20)
    config["window"] = space.int("window", 8, 64, default=32, log=True, minimum=1)  # past values a prediction reads
    config["cell"] = space.categorical("cell", list(CELLS), default="LSTM", allowed=CELLS)
    config["n_layers"] = space.int("n_layers", 1, 2, default=1, minimum=1, maximum=MAX_LAYERS)  # stacked layers
    config["hidden_size"] = space.int("hidden_size", 8, 96, default=32, log=True, minimum=1, maximum=MAX_HIDDEN)
    config["dropout"] = space.float("dropout", 0.0, 0.5, default=0.0, minimum=0.0, maximum=0.95)
    config.update(grad_clip_param(space))
    return config
