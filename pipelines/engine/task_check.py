"""A task of the user's, tried before it is trusted with a sweep.

`first_look` runs before every sweep of such a task: its data loads and a model of the default config
builds and evaluates, so a mistake is one `error:` before anything starts. `check_task` (`hpo check-task`)
is the whole contract, in-process and without Ray: a tiny trial, its reports, a checkpoint and the restore
from it, evaluate on the test split, and the predictor with its pickled copy. Each step prints `ok` or
what is missing.
"""
from __future__ import annotations

import math

from pipelines.errors import InputError
from pipelines.task_sources import guarded, where_in_user_code
from search_spaces.fixed import fixed_config
from trainables.folds import whole
from trainables.metrics import Objective
from trainables.task import DataRequest


def first_look(registered, data, config: dict | None = None) -> None:
    """A model of `config` (by default the space's defaults) built and evaluated on validation, for a task
    of the user's."""
    task = registered.task
    if not task.source:
        return
    config = fixed_config(registered.define_space, {}) if config is None else config
    model = guarded(task, "build_model", task.build_model, config, whole(data))
    guarded(task, "evaluate", task.evaluate, model, whole(data), "val")


class _Ended(Exception):
    """A trial ended after its first report, as one that a scheduler pauses or a crash ends."""


def _step(echo, problems: list, label: str, run):
    """Run one step of the contract; print ok, or the problem (and remember it)."""
    try:
        detail = run()
    except Exception as exc:  # the user's code: any error is a finding, reported in one line
        message = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
        problems.append(label)
        echo(f"  PROBLEM  {label}{where_in_user_code(exc)}: {' '.join(message.split())}")
        return None
    echo(f"  ok       {label}{f': {detail}' if detail else ''}")
    return True


def check_task(reference: str, data: str | None = None, target: str | None = None, echo=print) -> int:
    """`hpo check-task`: 0 when the task meets the contract, 1 with each problem named."""
    import cloudpickle

    from pipelines import registry
    from trainables.reporting import MemoryIO  # torch: not for the quick look every sweep takes

    class EndsAfterOneReport(MemoryIO):
        def report(self, metrics: dict, state: dict) -> None:
            super().report(metrics, state)
            raise _Ended

    registered = registry.get(reference)  # a file that cannot load is an error: line (exit 2)
    task, found, problems = registered.task, {}, []
    echo(f"checking task {task.name!r} from {task.source or reference}")

    def space():
        found["config"] = {**fixed_config(registered.define_space, {}), "epochs": 2, "patience": 10}
        return ", ".join(f"{k}={v!r}" for k, v in found["config"].items())

    def load():
        found["data"] = task.load_data(DataRequest(data=data, target=target))
        return getattr(found["data"], "source", "")

    def build():
        found["model"] = task.build_model(found["config"], found["data"])
        return f"{sum(p.numel() for p in found['model'].parameters()):,} parameters"

    def trial():
        io = EndsAfterOneReport(objective=Objective(task.metric))
        try:
            task.train(found["config"], found["data"], io)
        except _Ended:
            pass  # as a trial that a scheduler pauses or a crash ends: its checkpoint is what goes on
        if not io.results:
            raise RuntimeError("train() made no report (call io.report(metrics, state) each epoch)")
        missing = [m for m in ("epoch", "val_loss", *task.metrics) if m not in io.results[-1]]
        if missing:
            raise RuntimeError(f"its report lacks {', '.join(missing)}")
        if not math.isfinite(io.results[-1]["val_loss"]):
            raise RuntimeError(f"val_loss is {io.results[-1]['val_loss']}")
        found["state"] = io.state
        return ", ".join(f"{k} {io.results[-1][k]:.4g}" for k in ("val_loss", *task.metrics[:2]))

    def restore():
        io = MemoryIO(state=found["state"], objective=Objective(task.metric))
        task.train(found["config"], found["data"], io)
        epochs = [r.get("epoch") for r in io.results]
        if epochs != [2]:
            raise RuntimeError(f"from the epoch-1 checkpoint it reported epochs {epochs}, not [2] "
                               "(train() must continue from io.restore())")
        found["state"] = io.state
        return "continued at epoch 2"

    def evaluate():
        found["model"].load_state_dict(found["state"]["best_models"][0])
        scores = task.evaluate(found["model"], found["data"], "test")
        if not any(k.startswith("test_") for k in scores):
            raise RuntimeError(f"evaluate(model, data, 'test') gave no test_* metric: {sorted(scores)}")
        return ", ".join(f"{k} {v:.4g}" for k, v in scores.items())

    def predictor():
        if task.make_predictor is None:
            return "none (the model is logged as a plain pytorch model; hpo predict is not available)"
        made = task.make_predictor(found["model"], found["data"], found["config"])
        for each in (made, cloudpickle.loads(cloudpickle.dumps(made))):
            predictions = each.predict(each.example())
            if "prediction" not in getattr(predictions, "columns", ()):
                raise RuntimeError("predict(example()) must return a DataFrame with a 'prediction' column")
        return f"{len(predictions)} predictions of its example, the same after pickling"

    steps = [("the search space and its default config", space), ("load_data (--data)" if data else "load_data (the default data)", load),
             ("build_model of the default config", build), ("a one-epoch trial and its report", trial),
             ("the restore from its checkpoint", restore), ("evaluate on the test split", evaluate),
             ("the predictor (serving)", predictor)]
    for label, run in steps:
        if _step(echo, problems, label, run) is None:
            break  # the later steps need what this one makes
    if problems:
        echo(f"the task does not meet the contract yet: {problems[0]}")
        return 1
    echo("the task meets the contract: run it with hpo run " + (task.source or reference))
    return 0
