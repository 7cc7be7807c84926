"""Where the fixed costs of one sweep go: `hpo run` in this process with a timestamp at each phase.

    python -m benchmarks.phases [--task binary] [--trials 20] [--scheduler fifo]

Seconds since the interpreter started (psutil's process create time): imports, input checks and
data, Ray's start, MLflow and Optuna set-up, Tune's start to the first trial running, the trials,
and the result on the parent run. The phases are timed by wrapping the engine's own functions;
nothing in the engine changes.
"""
from __future__ import annotations

import functools
import os
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.common import SINGLE_MODEL, fixed_space, machine, parser, table

STARTED = psutil.Process().create_time()
marks: list[tuple[str, float]] = []


def mark(label: str) -> None:
    marks.append((label, time.time() - STARTED))


def timed_call(module, name: str, before: str, after: str | None = None) -> None:
    """Wrap module.name so that a mark is set when it is called and (optionally) when it returns."""
    original = getattr(module, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        mark(before)
        try:
            return original(*args, **kwargs)
        finally:
            if after:
                mark(after)
    setattr(module, name, wrapper)


def main() -> None:
    p = parser(__doc__, task="binary", trials=20)
    p.add_argument("--scheduler", default="fifo")
    args = p.parse_args()
    mark("python started, benchmark imports done")
    from pipelines.cli import commands as cli
    from pipelines.engine import ray_session, sweep
    from pipelines.tracking import store
    from pipelines.tracking import trial_logger as tracking
    mark("pipelines.cli, sweep, tracking imported (torch, Ray Tune)")

    timed_call(sweep, "prepare", "checking the input, loading the data", "input checked, data loaded")
    timed_call(ray_session.session, "start", "ray.init (and the MLflow imports beside it)", "Ray started")
    timed_call(store, "client_for", "MLflow store and client")
    timed_call(sweep, "open_study", "Optuna study")
    timed_call(sweep, "drive", "Tune's fit starts")
    timed_call(sweep, "finish_parent", "trials done; best model on the test split, model logged", "parent run done")
    first_start = tracking.TrialLogger.on_trial_start
    last_complete = tracking.TrialLogger.on_trial_complete

    def on_trial_start(self, *a, **k):
        if not any(label == "first trial running" for label, _ in marks):
            mark("first trial running")
        return first_start(self, *a, **k)

    def on_trial_complete(self, *a, **k):
        mark("trial completed")
        return last_complete(self, *a, **k)
    tracking.TrialLogger.on_trial_start, tracking.TrialLogger.on_trial_complete = on_trial_start, on_trial_complete

    with tempfile.TemporaryDirectory() as folder:
        space = fixed_space(Path(folder) / "space.yaml")
        os.chdir(folder)
        status = cli.main(["run", args.task, "--trials", str(args.trials), "--scheduler", args.scheduler,
                           "--space", str(space), *SINGLE_MODEL])
    mark("exit (Ray shut down)")
    completed = [t for label, t in marks if label == "trial completed"]
    rows, previous = [], 0.0
    for label, at in marks:
        if label == "trial completed" and at != completed[-1]:
            continue
        rows.append([label if label != "trial completed" else "last trial completed", f"{at:.1f}",
                     f"{at - previous:.1f}"])
        previous = at
    print(f"phases of `hpo run {args.task} --trials {args.trials} --scheduler {args.scheduler}` "
          f"(fixed config), exit status {status}; {machine()}\n")
    print(table(["phase starts", "at (s)", "since the previous mark (s)"], rows))


if __name__ == "__main__":
    main()
