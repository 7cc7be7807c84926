"""Quality: the sweep's model on held-out test rows against untuned baselines on the same rows.

    python -m benchmarks.quality [--tasks binary multiclass regression] [--seeds 0 1 2] [--before CHECKOUT]
    python -m benchmarks.quality --unseen [--seeds 0 1 2]
    python -m benchmarks.quality --tables FILE:TARGET:TASK [FILE:TARGET:TASK ...] [--seeds 0]

Each task x seed is a default sweep (`hpo run TASK --seed S`: 20 trials, default flags) in an empty
folder. --unseen runs the same on tables the defaults were never looked at on (UNSEEN: scikit-learn's
wine, and generated nonlinear tables), given as CSVs with --data/--target, as a user's table is. The
tuned number is the parent run's test metric of the sweep's model; the baselines are trainables.baselines
on the task's data with the same seed (the same rows): logistic regression or ridge, untuned histogram
gradient boosting, the majority class or the mean. --tables runs the same on tables of your own, as
they are (text columns, empty cells and all). --before runs the same sweeps from another checkout as
well (interleaved), e.g. main before a change.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, machine, parser, table, timed

HEADLINE = {"binary": "test_acc", "multiclass": "test_acc", "regression": "test_r2", "cnn": "test_acc"}
# Published ranges for these data sets' usual models (accuracy, or R^2 for diabetes).
ANCHORS = {"binary": "0.97-0.98", "multiclass": "0.95-0.98", "regression": "0.45-0.50", "cnn": "0.97-0.99"}


def wine():
    from sklearn.datasets import load_wine
    return load_wine(as_frame=True).frame


def noisy_moons():
    """Two interleaved half-moons (a nonlinear boundary) with 6 columns of noise beside them."""
    import numpy as np
    from sklearn.datasets import make_moons
    x, y = make_moons(n_samples=600, noise=0.3, random_state=0)
    noise = np.random.default_rng(0).normal(size=(600, 6))
    return frame_of(np.hstack([x, noise]), y)


def informative():
    """20 features, 6 of them informative, in clusters per class, 5% of the labels flipped."""
    from sklearn.datasets import make_classification
    return frame_of(*make_classification(n_samples=800, n_features=20, n_informative=6, n_redundant=4,
                                         flip_y=0.05, random_state=0))


def friedman():
    """Friedman's regression problem #1: a sine of a product, a square and linear terms, 5 noise columns."""
    from sklearn.datasets import make_friedman1
    return frame_of(*make_friedman1(n_samples=500, n_features=10, noise=1.0, random_state=0))


def frame_of(x, y):
    import pandas as pd
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]).assign(target=y)


# name: (task, table with a `target` column)
UNSEEN = {"wine": ("multiclass", wine), "moons": ("binary", noisy_moons), "informative": ("binary", informative),
          "friedman": ("regression", friedman)}


def sweep_command(root: Path, task: str, seed: int, data: list[str] = ()) -> list[str]:
    # A checkout from before pipelines/ had rooms has its CLI in pipelines/cli.py.
    module = "pipelines.cli" if (root / "pipelines" / "cli.py").is_file() else "pipelines.cli.commands"
    return [sys.executable, "-m", module, "run", task, "--seed", str(seed), "--name", "quality", *data]


def parent_metrics(folder: str) -> dict:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              filter_string="tags.`hpo.role` = 'sweep'")
    return dict(runs[0].data.metrics) if runs else {}  # {}: the sweep ended before its parent run


def baselines(task: str, seed: int, headline: str, csv: str | None = None, target: str = "target") -> dict[str, float]:
    from pipelines.registry import TASKS
    from trainables.task import DataRequest

    registered = TASKS[task].task
    request = DataRequest(seed=seed, data=csv, target=target if csv else None)
    scores = registered.baselines(registered.load_data(request))
    return {name: s[headline] for name, s in scores.items()}


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--tasks", nargs="+", default=["binary", "multiclass", "regression"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--before", help="another checkout whose sweeps run too, interleaved")
    p.add_argument("--unseen", action="store_true", help="the UNSEEN tables instead of the tasks' default data")
    p.add_argument("--tables", nargs="+", default=[], metavar="FILE:TARGET:TASK", help="tables of your own")
    args = p.parse_args()
    print(f"quality: {machine()}", file=sys.stderr)
    variants = {"now": ROOT, **({"before": Path(args.before).resolve()} if args.before else {})}
    rows, means = [], {}
    with tempfile.TemporaryDirectory() as tables:
        # (data set, task, table file or None for the task's default data, target column)
        cases = [(task, task, None, "") for task in args.tasks]
        if args.tables:
            cases = [(Path(f).name, task, str(Path(f).resolve()), target)
                     for f, target, task in (t.rsplit(":", 2) for t in args.tables)]
        if args.unseen:
            cases = []
            for name, (task, make) in UNSEEN.items():
                if args.tasks != ["binary", "multiclass", "regression"] and name not in args.tasks:
                    continue
                make().to_csv(Path(tables) / f"{name}.csv", index=False)
                cases.append((name, task, str(Path(tables) / f"{name}.csv"), "target"))
        for label, task, csv, target in cases:
            headline = HEADLINE[task]
            data = ["--data", csv, "--target", target] if csv else []
            for seed in args.seeds:
                base = baselines(task, seed, headline, csv, target)
                for name, root in variants.items():
                    with tempfile.TemporaryDirectory() as folder:
                        seconds, _ = timed(sweep_command(root, task, seed, data), folder, root=str(root))
                        tuned = parent_metrics(folder)[headline]
                    print(f"{label} seed {seed} {name}: {headline} {tuned:.4f} vs linear {base['linear']:.4f}, "
                          f"best baseline {max(base.values()):.4f} in {seconds:.0f}s", file=sys.stderr)
                    means.setdefault((label, task, name), []).append((tuned, base["linear"], max(base.values()),
                                                                      seconds))
                    rows.append([label, seed, name, f"{tuned:.4f}", *[f"{v:.4f}" for v in base.values()],
                                 "" if csv else ANCHORS[task], f"{seconds:.0f}", verdict(tuned, base["linear"]),
                                 verdict(tuned, max(base.values()))])
    for (label, task, name), values in means.items():
        tuned, linear, best, seconds = (sum(v[i] for v in values) / len(values) for i in range(4))
        rows.append([label, "mean", name, f"{tuned:.4f}", f"{linear:.4f}", "", "", "" if label not in ANCHORS
                     else ANCHORS[task], f"{seconds:.0f}", verdict(tuned, linear), verdict(tuned, best)])
    print(f"quality of default sweeps (20 trials) on held-out test rows; {machine()}\n")
    print(table(["data", "seed", "code", "tuned", "linear", "boosting", "majority/mean", "published",
                 "wall (s)", "tuned >= linear", "tuned >= best baseline"], rows))


def verdict(tuned: float, baseline: float) -> str:
    return "yes" if tuned >= baseline - 1e-9 else "NO"


if __name__ == "__main__":
    main()
