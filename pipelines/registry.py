"""The one place that maps task names to their trainable and default search space.

Adding a task: write trainables/NAME.py (with a TASK), search_spaces/NAME.py (with define), add one
line below, and list the task in the README.
"""
from dataclasses import dataclass
from typing import Callable

from pipelines.errors import UsageError
from search_spaces import bigram as bigram_space
from search_spaces import binary as binary_space
from search_spaces import cnn as cnn_space
from search_spaces import multiclass as multiclass_space
from search_spaces import regression as regression_space
from search_spaces import rnn as rnn_space
from search_spaces import transformer as transformer_space
from trainables import bigram, binary, cnn, multiclass, regression, rnn, transformer
from trainables.task import Task


@dataclass(frozen=True)
class Registered:
    task: Task
    define_space: Callable          # (search_spaces.space.Space) -> config dict
    first_trial: dict | None = None  # params of a sweep's first trial when it searches the default space


TASKS: dict[str, Registered] = {
    "binary": Registered(binary.TASK, binary_space.define, binary_space.FIRST_TRIAL),
    "multiclass": Registered(multiclass.TASK, multiclass_space.define, multiclass_space.FIRST_TRIAL),
    "regression": Registered(regression.TASK, regression_space.define, regression_space.FIRST_TRIAL),
    "rnn": Registered(rnn.TASK, rnn_space.define),
    "cnn": Registered(cnn.TASK, cnn_space.define),
    "bigram": Registered(bigram.TASK, bigram_space.define),
    "transformer": Registered(transformer.TASK, transformer_space.define),
}


def get(name: str) -> Registered:
    if name not in TASKS:
        raise UsageError(f"Unknown task {name!r}; choose one of {', '.join(TASKS)}.")
    return TASKS[name]
