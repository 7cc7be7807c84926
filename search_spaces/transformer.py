"""The default search space of the transformer task, sized for a sweep of minutes on a laptop's CPU
(trials of up to about seven minutes on one core); `search_spaces/transformer_gpu.yaml` widens it for GPUs.

The model width is searched per head: d_model = n_heads * head_width, so the heads always divide it
(d_model is in every trial's config and params, but a --space file sets n_heads and head_width).
FIRST_TRIAL, the sweep's first config, is a 4-layer, 128-wide model that reaches about 1.7 nats per
character on Tiny Shakespeare's validation text in 14 epochs (docs/benchmarks.md, "Language models").
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
        "batch_size": space.categorical("batch_size", [16, 32], default=16, minimum=1),  # windows per step
        "epochs": space.int("epochs", 6, 20, default=14, minimum=1),  # of language.CHARS_PER_EPOCH characters each
        "context_length": space.categorical("context_length", [32, 64, 128], default=64, minimum=1),  # chars
        "n_layers": space.int("n_layers", 2, 4, default=4, minimum=1, maximum=MAX_LAYERS),  # decoder blocks
        "n_heads": space.categorical("n_heads", [2, 4], default=4, minimum=1),
        "head_width": space.categorical("head_width", [16, 32], default=32, minimum=1),
    }
    config["d_model"] = config["n_heads"] * config["head_width"]                         # model width
    config["ff_width"] = space.int("ff_width", 128, 768, default=512, log=True, minimum=1, maximum=MAX_WIDTH)
    config["dropout"] = space.float("dropout", 0.0, 0.1, default=0.0, minimum=0.0, maximum=0.95)
    config["lr"] = space.float("lr", 5e-4, 5e-3, default=2e-3, log=True, above=0)
    config["optimizer"] = space.categorical("optimizer", ["AdamW", "Adam"], default="AdamW",
                                            allowed=DENSE_OPTIMIZERS)
    # A warm-up and clipped gradients keep a high lr's first steps from diverging; the cosine decay over
    # the trial's epochs lowers the loss it ends at.
    config.update(lr_schedule_params(space, ("cosine", "constant"), warmup=(0, 2), default_warmup=1))
    config.update(grad_clip_param(space, (1.0, 0.0)))
    if config["context_length"] > MAX_CONTEXT:  # a categorical has no maximum of its own
        raise SpaceError(f"The 'context_length' of the space must be <= {MAX_CONTEXT}, got {config['context_length']}.")
    return config


FIRST_TRIAL = {"batch_size": 16, "epochs": 14, "context_length": 64, "n_layers": 4, "n_heads": 4, "head_width": 32,
               "ff_width": 512, "dropout": 0.0, "lr": 2e-3, "optimizer": "AdamW", "lr_schedule": "cosine",
               "warmup_epochs": 1, "grad_clip": 1.0}
