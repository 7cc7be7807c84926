"""The baseline: the same task, space and train function in plain in-process Optuna (no Ray, no MLflow).

    python -m benchmarks.plain_optuna --task binary --trials 20 --seed 0 [--space FILE] \
        [--pruner hyperband] [--time-budget SECONDS] [--data CSV --target COLUMN] [--trace FILE.json]

--trace writes every reported epoch as [seconds since the study started, val_loss], for the search
efficiency benchmark's anytime curves.
"""
import json
import math
import time

import optuna
import torch

from benchmarks.common import load_space, parser
from pipelines.engine.searcher import make_sampler
from pipelines.registry import TASKS
from search_spaces.space import Space
from trainables.reporting import MemoryIO
from trainables.task import DataRequest


class TracingIO(MemoryIO):
    """Keeps every epoch's val_loss with its time; with a pruner, reports to the Optuna trial."""

    def __init__(self, trial, started: float, trace: list, prune: bool):
        super().__init__()
        self.trial, self.started, self.trace, self.prune = trial, started, trace, prune

    def report(self, metrics: dict, state: dict) -> None:
        self.results.append(dict(metrics))  # no state snapshot: nothing here resumes a trial
        self.trace.append([time.monotonic() - self.started, metrics["val_loss"]])
        if self.prune and not metrics.get("final"):
            self.trial.report(metrics["val_loss"], metrics["epoch"])
            if self.trial.should_prune():
                raise optuna.TrialPruned


def main() -> None:
    p = parser(__doc__, task="binary", trials=20, seed=0)
    p.add_argument("--space", help="YAML file overriding params of the task's space, as `hpo run --space`")
    p.add_argument("--search", default="tpe", help="tpe or random")
    p.add_argument("--pruner", default="none", choices=("none", "hyperband"))
    p.add_argument("--max-epochs", type=int, help="the pruner's max_resource (default: the space's largest)")
    p.add_argument("--time-budget", type=float, help="seconds: Optuna's timeout")
    p.add_argument("--data")
    p.add_argument("--target")
    p.add_argument("--trace", help="JSON file for [seconds, val_loss] of every epoch")
    args = p.parse_args()

    started = time.monotonic()
    torch.set_num_threads(1)  # as each trial of a sweep gets one thread per CPU it holds
    registered = TASKS[args.task]
    overrides = load_space(args.space)
    data = registered.task.load_data(DataRequest(data=args.data, target=args.target, seed=args.seed))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = (optuna.pruners.HyperbandPruner(min_resource=1, max_resource=args.max_epochs or "auto")
              if args.pruner == "hyperband" else optuna.pruners.NopPruner())
    study = optuna.create_study(sampler=make_sampler(args.search, args.seed, args.trials), pruner=pruner)
    best_acc, trace = {}, []
    study_started = time.monotonic()

    def objective(trial):
        config = registered.define_space(Space(trial, overrides))
        config["seed"] = args.seed + trial.number
        io = TracingIO(trial, study_started, trace, prune=args.pruner != "none")
        registered.task.train(config, data, io)
        best = min(io.results, key=lambda r: r["val_loss"])
        best_acc[trial.number] = best.get("val_acc", math.nan)
        return best["val_loss"]

    study.optimize(objective, n_trials=args.trials, timeout=args.time_budget)
    if args.trace:
        with open(args.trace, "w") as f:
            json.dump(trace, f)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    print(f"plain optuna: {len(study.trials)} trials ({len(done)} complete) in {time.monotonic() - started:.1f}s, "
          f"best val_loss {study.best_value:.4f}, its val_acc {best_acc.get(study.best_trial.number, math.nan):.4f}")


if __name__ == "__main__":
    main()
