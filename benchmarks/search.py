"""Search efficiency: anytime best validation loss against wall-clock, at equal time budgets.

    python -m benchmarks.search [--budget 30] [--seeds 5] [--tasks binary digits cnn] [--methods ...]

Methods x seeds x tasks, run one after another (running seeds side by side would make them share
the 2 cores unevenly):
- TPE + ASHA: `hpo run TASK --time-budget B` (the default searcher and scheduler);
- random + FIFO: `hpo run TASK --time-budget B --search random --scheduler fifo`;
- TPE + FIFO and random + ASHA: the other two pairs, to tell the searcher's share from the scheduler's;
- plain Optuna: TPE with its HyperbandPruner, in-process, sequential (benchmarks/plain_optuna.py).
Tasks: binary (breast cancer), digits (the multiclass task on a CSV of scikit-learn's digits) and cnn
(the cnn task on its default data, the same digits as 8x8 images: trials of seconds to tens of seconds).
Every reported epoch's val_loss counts, with the time it was recorded: for hpo from the trials' MLflow
metric histories (seconds since the sweep's parent run was created, so Ray's actor start-up is inside
the budget; a trial's epochs reach MLflow in batches, up to 2 s late), for plain Optuna from its trace
(seconds since the study was created). The target of a task is the median over seeds of random +
FIFO's final best; the time to reach it is the first time a run's best is at or below it. Trials never
see the test rows, so the test metric is the sweep's model's (its parent run's test_loss), once per run.
"""
from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

from benchmarks.common import HPO, SINGLE_MODEL, machine, median, parser, plot_file, table, timed
from benchmarks.quality import parent_metrics

MAX_TRIALS = "1000"   # the time budget ends the sweeps first


def digits_csv(folder: Path) -> list[str]:
    """scikit-learn's 8x8 digits (1,797 rows, 64 features, 10 classes) as a CSV for the multiclass task."""
    from sklearn.datasets import load_digits

    frame = load_digits(as_frame=True).frame
    path = folder / "digits.csv"
    frame.to_csv(path, index=False)
    return ["--data", str(path), "--target", "target"]


def hpo_curve(folder: str, task: str) -> list[tuple[float, float]]:
    """[seconds since the parent run started, val_loss] of every epoch the sweep's trials reported."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{Path(folder) / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(task).experiment_id
    runs = client.search_runs([experiment], max_results=50000)
    parent = next((r for r in runs if r.data.tags.get("hpo.role") == "sweep"), None)
    if parent is None:  # the sweep ended before its parent run: nothing to count
        return []
    points = []
    for run in (r for r in runs if r.data.tags.get("hpo.role") == "trial"):
        points += [((m.timestamp - parent.info.start_time) / 1000, m.value)
                   for m in client.get_metric_history(run.info.run_id, "val_loss")]
    return points


def anytime_best(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The running minimum: [seconds, best val_loss so far] at each improvement."""
    best, curve = math.inf, []
    for seconds, value in sorted(points):
        if value < best:
            best = value
            curve.append((seconds, best))
    return curve


def best_at(curve, seconds: float) -> float:
    values = [v for t, v in curve if t <= seconds]
    return values[-1] if values else math.inf


def final(curve) -> float:
    return curve[-1][1] if curve else math.inf


def time_to(curve, target: float) -> float:
    return next((t for t, v in curve if v <= target), math.inf)


PLAIN = "plain Optuna (TPE + Hyperband)"
# method -> hpo run's flags for it (the defaults are TPE and ASHA)
HPO_METHODS = {"TPE + ASHA": [], "random + FIFO": ["--search", "random", "--scheduler", "fifo"],
               "TPE + FIFO": ["--scheduler", "fifo"], "random + ASHA": ["--search", "random"]}
METHODS = (*HPO_METHODS, PLAIN)


def run_method(method: str, task: str, data_args: list[str], seed: int, budget: float) -> tuple[list, float]:
    """The run's anytime-best curve and its model's test_loss (nan for plain Optuna, which makes none)."""
    hpo_task = "multiclass" if task == "digits" else task
    with tempfile.TemporaryDirectory() as folder:
        common = ["--trials", MAX_TRIALS, "--seed", str(seed), *data_args]
        if method == PLAIN:
            trace = str(Path(folder) / "trace.json")
            timed([sys.executable, "-m", "benchmarks.plain_optuna", "--task", hpo_task, "--pruner", "hyperband",
                   "--time-budget", str(budget), "--trace", trace, *common], folder)
            return anytime_best(json.loads(Path(trace).read_text())), math.nan
        # check=False: a sweep whose budget ends before any trial reports exits 1; its curve is empty.
        timed([HPO, "run", hpo_task, "--time-budget", str(budget), *HPO_METHODS[method], *common, *SINGLE_MODEL],
              folder, check=False)
        return anytime_best(hpo_curve(folder, hpo_task)), parent_metrics(folder).get("test_loss", math.nan)


def plot(curves: dict, budget: float, tasks: list[str]) -> Path:
    import matplotlib.pyplot as plt

    path = plot_file(f"search_anytime_{'_'.join(tasks)}.png")  # one per set of tasks: make bench runs binary
    figure, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.8), squeeze=False)
    grid = [budget * 1.3 * i / 200 for i in range(1, 201)]
    for ax, task in zip(axes[0], tasks):
        for method in curves[task]:
            per_seed = curves[task][method]
            med = [median([best_at(c, t) for c in per_seed]) for t in grid]
            ax.plot(grid, med, label=method)
            for c in per_seed:
                ax.plot(grid, [best_at(c, t) for t in grid], alpha=0.15, color=ax.lines[-1].get_color())
        ax.set_yscale("log")
        ax.set_title(f"{task}: median best val_loss over seeds")
        ax.set_xlabel("seconds (budget %.0f s)" % budget)
        ax.set_ylabel("best val_loss so far")
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--budget", type=float, default=30.0, help="seconds per run (--time-budget)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--tasks", nargs="+", default=["binary", "digits"], choices=("binary", "digits", "cnn"))
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    args = p.parse_args()
    if "random + FIFO" not in args.methods:
        p.error("--methods must include 'random + FIFO': its median final best is the target")
    print(f"search: {machine()}", file=sys.stderr)
    curves = {task: {m: [] for m in args.methods} for task in args.tasks}
    tests = {task: {m: [] for m in args.methods} for task in args.tasks}
    with tempfile.TemporaryDirectory() as data_folder:
        data = {"binary": [], "cnn": [], "digits": digits_csv(Path(data_folder))}
        for task in args.tasks:
            for seed in range(args.seeds):
                for method in args.methods:
                    curve, test_loss = run_method(method, task, data[task], seed, args.budget)
                    curves[task][method].append(curve)
                    tests[task][method].append(test_loss)
                    print(f"{task} seed {seed} {method}: best {final(curve):.4f}, test_loss {test_loss:.4f} "
                          f"({machine()})", file=sys.stderr)
    raw = plot_file(f"search_curves_{'_'.join(args.tasks)}.json")  # the raw curves, for re-plotting
    raw.write_text(json.dumps({"budget": args.budget, "curves": curves, "test_loss": tests}))
    rows = []
    for task in args.tasks:
        target = median([final(c) for c in curves[task]["random + FIFO"]])
        reach = {m: median([time_to(c, target) for c in curves[task][m]]) for m in args.methods}
        for method in args.methods:
            finals = [final(c) for c in curves[task][method]]
            reached = sum(time_to(c, target) < math.inf for c in curves[task][method])
            tested = [t for t in tests[task][method] if math.isfinite(t)]
            rows.append([task, method, f"{median(finals):.4f}", f"{target:.4f}", f"{reached}/{args.seeds}",
                         f"{reach[method]:.1f}", f"{reach[method] / reach['random + FIFO']:.2f}",
                         f"{median(tested):.4f}" if tested else "-"])
    path = plot(curves, args.budget, args.tasks)
    print(f"search efficiency: {args.budget:.0f} s per run, {args.seeds} seeds; {machine()}\n")
    print(table(["task", "method", "median final best val_loss", "target", "runs reaching it",
                 "median time to target (s)", "vs random + FIFO", "median test_loss of the sweep's model"], rows))
    print(f"\nplot: {path.relative_to(path.parent.parent.parent)}")


if __name__ == "__main__":
    main()
