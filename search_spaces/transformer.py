"""The default search space of the transformer task, sized for a few minutes per trial on a CPU.

The model width is searched per head: d_model = n_heads * head_width, so the heads always divide it
(d_model is in every trial's config and params, but a --space file sets n_heads and head_width).
"""
from pipelines.errors import SpaceError
from search_spaces.mlp import grad_clip_param, lr_schedule_params
from search_spaces.space import Space
from trainables.optimizers import DENSE_OPTIMIZERS
from trainables.transformer import MAX_CONTEXT

MAX_LAYERS = 24
MAX_WIDTH = 4096


def define(space: Space) -> dict:
    config = {
        "batch_size": space.categorical("batch_size", [16, 32, 64], default=32, minimum=1),  # windows per step
        "epochs": space.int("epochs", 4, 30, default=10, minimum=1),  # of language.STEPS_PER_EPOCH steps each
        "context_length": space.categorical("context_length", [32, 64, 128, 256], default=64, minimum=1),  # chars
        "n_layers": space.int("n_layers", 1, 4, default=2, minimum=1, maximum=MAX_LAYERS),  # decoder blocks
        "n_heads": space.categorical("n_heads", [1, 2, 4, 8], default=4, minimum=1),
        "head_width": space.categorical("head_width", [8, 16, 32], default=16, minimum=1),
    }
    config["d_model"] = config["n_heads"] * config["head_width"]                         # model width
    config["ff_width"] = space.int("ff_width", 32, 1024, default=256, log=True, minimum=1, maximum=MAX_WIDTH)
    config["dropout"] = space.float("dropout", 0.0, 0.3, default=0.0, minimum=0.0, maximum=0.95)
    config["lr"] = space.float("lr", 1e-4, 1e-2, default=1e-3, log=True, above=0)
    config["optimizer"] = space.categorical("optimizer", list(DENSE_OPTIMIZERS), default="Adam",
                                            allowed=DENSE_OPTIMIZERS)
    config.update(lr_schedule_params(space))
    config.update(grad_clip_param(space))
    if config["context_length"] > MAX_CONTEXT:  # a categorical has no maximum of its own
        raise SpaceError(f"The 'context_length' of the space must be <= {MAX_CONTEXT}, got {config['context_length']}.")
    return config
