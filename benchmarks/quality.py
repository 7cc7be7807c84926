"""Quality: the sweep's model on held-out test rows against untuned baselines on the same rows.

    python -m benchmarks.quality [--tasks binary multiclass regression] [--seeds 0 1 2] [--before CHECKOUT]

Each task x seed is a default sweep (`hpo run TASK --seed S`: 20 trials, default flags) in an empty
folder. The tuned number is the parent run's test metric of the sweep's model; the baselines are
trainables.baselines on the task's data with the same seed (the same rows): logistic regression or
ridge, untuned histogram gradient boosting, the majority class or the mean. --before runs the same
sweeps from another checkout as well (interleaved), e.g. main before a change.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, machine, parser, table, timed

HEADLINE = {"binary": "test_acc", "multiclass": "test_acc", "regression": "test_r2", "cnn": "test_acc"}
# Published ranges for these data sets' usual models (accuracy, or R^2 for diabetes).
ANCHORS = {"binary": "0.97-0.98", "multiclass": "0.95-0.98", "regression": "0.45-0.50", "cnn": "0.97-0.99"}


def sweep_command(root: Path, task: str, seed: int) -> list[str]:
    # A checkout from before pipelines/ had rooms has its CLI in pipelines/cli.py.
    module = "pipelines.cli" if (root / "pipelines" / "cli.py").is_file() else "pipelines.cli.commands"
    return [sys.executable, "-m", module, "run", task, "--seed", str(seed), "--name", "quality"]


def parent_metrics(folder: str) -> dict:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              filter_string="tags.`hpo.role` = 'sweep'")
    return dict(runs[0].data.metrics)


def baselines(task: str, seed: int, headline: str) -> dict[str, float]:
    from pipelines.registry import TASKS
    from trainables.task import DataRequest

    registered = TASKS[task].task
    scores = registered.baselines(registered.load_data(DataRequest(seed=seed)))
    return {name: s[headline] for name, s in scores.items()}


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--tasks", nargs="+", default=["binary", "multiclass", "regression"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--before", help="another checkout whose sweeps run too, interleaved")
    args = p.parse_args()
    print(f"quality: {machine()}", file=sys.stderr)
    variants = {"now": ROOT, **({"before": Path(args.before).resolve()} if args.before else {})}
    rows, means = [], {}
    for task in args.tasks:
        headline = HEADLINE[task]
        for seed in args.seeds:
            base = baselines(task, seed, headline)
            for name, root in variants.items():
                with tempfile.TemporaryDirectory() as folder:
                    seconds, _ = timed(sweep_command(root, task, seed), folder, root=str(root))
                    tuned = parent_metrics(folder)[headline]
                best_base = max(base.values())
                print(f"{task} seed {seed} {name}: {headline} {tuned:.4f} vs baseline {best_base:.4f} "
                      f"in {seconds:.0f}s", file=sys.stderr)
                means.setdefault((task, name), []).append((tuned, best_base, seconds))
                rows.append([task, seed, name, f"{tuned:.4f}", *[f"{v:.4f}" for v in base.values()],
                             ANCHORS[task], f"{seconds:.0f}", "yes" if tuned >= best_base else "NO"])
    for (task, name), values in means.items():
        tuned, base, seconds = (sum(v[i] for v in values) / len(values) for i in range(3))
        rows.append([task, "mean", name, f"{tuned:.4f}", f"best {base:.4f}", "", "", ANCHORS[task],
                     f"{seconds:.0f}", "yes" if tuned >= base else "NO"])
    print(f"quality of default sweeps (20 trials) on held-out test rows; {machine()}\n")
    print(table(["task", "seed", "code", "tuned", "linear", "boosting", "majority/mean", "published",
                 "wall (s)", "tuned >= best baseline"], rows))


if __name__ == "__main__":
    main()
