"""The default search space of the bigram task.

No hidden layers: a bigram model's prediction depends on the previous character only, and its table
of logits (one row per character) is already the most general function of that character, so a
hidden layer could not lower the loss it can reach; only the optimisation is searched.
"""
from search_spaces.mlp import lr_schedule_params
from search_spaces.space import Space
from trainables.optimizers import OPTIMIZERS


def define(space: Space) -> dict:
    return {
        "batch_size": space.categorical("batch_size", [256, 1024, 4096], default=1024, minimum=1),  # pairs per step
        "epochs": space.int("epochs", 5, 40, default=20, minimum=1),  # of language.CHARS_PER_EPOCH characters each
        "lr": space.float("lr", 1e-3, 1.0, default=0.1, log=True, above=0),
        # SparseAdam makes the table a sparse embedding: a step updates only the rows in its batch.
        "optimizer": space.categorical("optimizer", list(OPTIMIZERS), default="Adam", allowed=OPTIMIZERS),
        **lr_schedule_params(space),
    }
