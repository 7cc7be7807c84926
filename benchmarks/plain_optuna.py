"""The baseline: the same task, space and train function in plain in-process Optuna (no Ray, no MLflow).

    python -m benchmarks.plain_optuna --task binary --trials 20 --seed 0
"""
import argparse
import math
import time

import optuna
import torch

from pipelines.registry import TASKS
from pipelines.searcher import make_sampler
from search_spaces.space import Space
from trainables.reporting import MemoryIO
from trainables.task import DataRequest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="binary")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.monotonic()
    torch.set_num_threads(1)  # as each trial of a sweep gets one thread per CPU it holds
    registered = TASKS[args.task]
    data = registered.task.load_data(DataRequest(seed=args.seed))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=make_sampler("tpe", args.seed, args.trials))
    best_acc = {}

    def objective(trial):
        config = registered.define_space(Space(trial))
        config["seed"] = args.seed + trial.number
        io = MemoryIO()
        registered.task.train(config, data, io)
        best = min(io.results, key=lambda r: r["val_loss"])
        best_acc[trial.number] = best.get("val_acc", math.nan)
        return best["val_loss"]

    study.optimize(objective, n_trials=args.trials)
    print(f"plain optuna: {args.trials} trials in {time.monotonic() - started:.1f}s, best val_loss "
          f"{study.best_value:.4f}, its val_acc {best_acc[study.best_trial.number]:.4f}")


if __name__ == "__main__":
    main()
