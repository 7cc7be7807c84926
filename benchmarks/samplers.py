"""Search methods and schedulers side by side at equal trial budgets: best test metric and time to a target.

    python -m benchmarks.samplers [--trials 12] [--seeds 0 1 2] [--tasks binary digits]

Each row is `hpo run TASK --trials N --seed S` with one --search or --scheduler changed from the default
(TPE + ASHA): the searches tpe, random, gp, cmaes and qmc under ASHA, and the schedulers hyperband, median
and fifo under TPE. The single split and no ensemble (--cv 0 --ensemble 0): the final model is the best
trial's, so its test metric is the search's. Runs go one after another. The target of a task is the
median over seeds of random + ASHA's final best val_loss; the time to it is the first time a sweep's best
reported val_loss is at or below it (seconds since the parent run started, from the trials' MLflow metric
histories, as benchmarks/search.py).
"""
from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

from benchmarks.common import HPO, SINGLE_MODEL, machine, median, parser, table, timed
from benchmarks.quality import parent_metrics
from benchmarks.search import anytime_best, digits_csv, final, hpo_curve, time_to

# label: the flags that differ from the default TPE + ASHA
VARIANTS = {"tpe + asha": [], "random + asha": ["--search", "random"], "gp + asha": ["--search", "gp"],
            "cmaes + asha": ["--search", "cmaes"], "qmc + asha": ["--search", "qmc"],
            "tpe + hyperband": ["--scheduler", "hyperband"], "tpe + median": ["--scheduler", "median"],
            "tpe + fifo": ["--scheduler", "fifo"]}
BASELINE = "random + asha"


def run(task: str, data: list[str], seed: int, trials: int, flags: list[str]) -> tuple[float, float, list]:
    """(test_acc of the sweep's model, wall seconds, anytime-best curve) of one sweep."""
    hpo_task = "multiclass" if task == "digits" else task
    with tempfile.TemporaryDirectory() as folder:
        seconds, _ = timed([HPO, "run", hpo_task, "--trials", str(trials), "--seed", str(seed), "--name", "s",
                            *flags, *data, *SINGLE_MODEL], folder)
        return parent_metrics(folder)["test_acc"], seconds, anytime_best(hpo_curve(folder, hpo_task))


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--tasks", nargs="+", default=["binary", "digits"])
    args = p.parse_args()
    print(f"samplers: {machine()}", file=sys.stderr)
    results = {}
    with tempfile.TemporaryDirectory() as data_folder:
        data = {"binary": [], "digits": digits_csv(Path(data_folder))}
        for task in args.tasks:
            for seed in args.seeds:
                for label, flags in VARIANTS.items():
                    results[task, label, seed] = run(task, data[task], seed, args.trials, flags)
                    acc, seconds, curve = results[task, label, seed]
                    print(f"{task} seed {seed} {label}: test_acc {acc:.4f}, best val_loss {final(curve):.4f}, "
                          f"{seconds:.0f}s", file=sys.stderr)
    rows = []
    for task in args.tasks:
        target = median([final(results[task, BASELINE, s][2]) for s in args.seeds])
        for label in VARIANTS:
            runs = [results[task, label, s] for s in args.seeds]
            reach = [time_to(curve, target) for _, _, curve in runs]
            rows.append([task, label, f"{median([r[0] for r in runs]):.4f}",
                         " ".join(f"{r[0]:.3f}" for r in runs), f"{median([final(r[2]) for r in runs]):.4f}",
                         f"{sum(t < math.inf for t in reach)}/{len(reach)}", f"{median(reach):.1f}",
                         f"{median([r[1] for r in runs]):.0f}"])
        rows.append([task, "(target)", "", "", f"{target:.4f}", "", "", ""])
    print(f"search methods and schedulers, {args.trials} trials each, seeds {args.seeds}; {machine()}\n")
    print(table(["task", "search + scheduler", "median test_acc", "test_acc per seed", "median best val_loss",
                 "reached target", "median time to target (s)", "median wall (s)"], rows))


if __name__ == "__main__":
    main()
