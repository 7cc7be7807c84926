"""hpo from Python: what a task of your own is made of, and sweeps run from code.

    import hpo
    TASK = hpo.table_task("signals", load=load, build_model=build_model, kind="classification", space=space)
    result = hpo.run("path/to/my_task.py", trials=20)   # or from the shell: hpo run path/to/my_task.py

The short form (table_task) brings splits, cross-validation, preprocessing, the loop, metrics, checkpoints
and serving; the full form (Task) is the contract the built-in tasks meet, with the loop's parts to build it.
"""
from pipelines.api import SweepResult, run
from pipelines.errors import DataError, InputError, UsageError
from search_spaces.mlp import training_params
from search_spaces.space import Space
from trainables.loop import Member, evaluate_with, fit, in_memory, make_train, prepare_trial
from trainables.metrics import classification_scores, regression_scores
from trainables.table_task import table_task
from trainables.task import DataRequest, Task

__all__ = ["DataError", "DataRequest", "InputError", "Member", "Space", "SweepResult", "Task", "UsageError",
           "classification_scores", "evaluate_with", "fit", "in_memory", "make_train", "prepare_trial",
           "regression_scores", "run", "table_task", "training_params"]
