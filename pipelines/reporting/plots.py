"""The plots of the sweep report: Optuna's history and importances, and our learning curves and parallel
coordinates. Each draw function returns matplotlib axes; `save` writes them as a PNG."""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, and safe off the main thread
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import numpy as np  # noqa: E402
import optuna  # noqa: E402
import optuna.visualization.matplotlib as optuna_plots  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402

from trainables.metrics import Objective  # noqa: E402

IMPORTANCE_TREES = 16     # fANOVA's forest: 64 by default; 16 ranks params alike here at a quarter the time
FIGURE_SIZE = (8, 4.5)    # inches, at DPI
WIDE_FIGURE = (12, 5)     # parallel coordinates: one axis per param
DPI = 90


def optuna_plot(name: str, study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental on every call
        return getattr(optuna_plots, name)(study)


def importances_plot(study):
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(done) < 2:
        raise ValueError(f"importances need at least 2 completed trials, the study has {len(done)}")
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=IMPORTANCE_TREES, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna_plots.plot_param_importances(study, evaluator=evaluator)


def learning_curves(client, rows: list[dict], rungs: tuple[int, ...], objective: Objective = Objective()):
    """The objective per epoch of every trial (a loss on a log scale), the best trial bold, ASHA's rungs
    as lines."""
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    drawn = 0
    for rank, row in enumerate(rows):
        history = sorted(client.get_metric_history(row["run_id"], objective.metric), key=lambda m: m.step)
        if not history:
            continue
        best = rank == 0
        axes.plot([m.step for m in history], [m.value for m in history], marker="." if len(history) < 30 else None,
                  linewidth=2.5 if best else 1.0, alpha=1.0 if best else 0.6,
                  label=f"{row['trial']} (best)" if best else None, zorder=3 if best else 2)
        drawn += 1
    if not drawn:
        plt.close(figure)
        raise ValueError(f"no trial reported a {objective.metric}")
    for i, rung in enumerate(rungs):
        axes.axvline(rung, color="grey", linestyle="--", linewidth=0.8, label="ASHA rung" if i == 0 else None)
    if objective.mode == "min":
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel(objective.metric)
    axes.set_title(f"Learning curves of {drawn} trials")
    axes.legend(loc="upper right")
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.91)
    return axes


def parallel_coordinates(rows: list[dict], objective: Objective = Objective()):
    """One line per trial across one axis per param (scaled to its range; lr-like params on a log
    scale; categories evenly spaced), coloured by the trial's best value of the objective, the best on top.

    Drawn on one set of axes: Optuna's version draws a twin axis per param, ten times slower to save.
    """

    rows = [r for r in rows if math.isfinite(r.get(objective.best, math.nan))]
    names = [n for n in dict.fromkeys(k for r in rows for k in r["params"]) if n != "seed"]
    if len(rows) < 2 or not names:
        raise ValueError(f"parallel coordinates need at least 2 trials with a {objective.metric}, "
                         f"the sweep has {len(rows)}")
    figure, axes = plt.subplots(figsize=WIDE_FIGURE)
    columns, labels = [], []
    for name in names:
        values = [r["params"].get(name) for r in rows]
        if all(_number(v) is not None for v in values if v is not None):
            numbers = [_number(v) for v in values]
            present = [x for x in numbers if x is not None]
            low, high = min(present), max(present)
            logged = low > 0 and high / low > 100
            scale = math.log10 if logged else float
            span = (scale(high) - scale(low)) or 1.0
            columns.append([(scale(x) - scale(low)) / span if x is not None else math.nan for x in numbers])
            labels.append((f"{high:.3g}", f"{low:.3g}"))
        else:
            levels = sorted({str(v) for v in values if v is not None})
            step = 1.0 / max(1, len(levels) - 1)
            columns.append([levels.index(str(v)) * step if v is not None else math.nan for v in values])
            labels.append((levels[-1], levels[0]) if len(levels) > 1 else (levels[0], ""))
    values = np.array([r[objective.best] for r in rows])
    losses = np.array([objective.loss(v) for v in values])  # lower is better
    logged = objective.mode == "min" and values.min() > 0 and values.max() > values.min()
    norm = LogNorm(values.min(), values.max()) if logged else Normalize(values.min(), values.max())
    colour_map = "viridis_r" if objective.mode == "min" else "viridis"  # the best bright either way
    colours = plt.get_cmap(colour_map)(norm(values))
    x = np.arange(len(names))
    for i in np.argsort(-losses):  # worst first, so the best is drawn on top
        axes.plot(x, [c[i] for c in columns], color=colours[i], linewidth=2.5 if i == losses.argmin() else 1.0,
                  alpha=0.9, marker="o", markersize=3)
    for position, (top, bottom) in zip(x, labels):
        axes.axvline(position, color="black", linewidth=0.6)
        axes.annotate(top, (position, 1.02), ha="center", va="bottom", fontsize=7)
        axes.annotate(bottom, (position, -0.02), ha="center", va="top", fontsize=7)
    axes.set_xticks(x, names, rotation=30, ha="right")
    axes.set_yticks([])
    axes.set_ylim(-0.12, 1.12)
    axes.set_title(f"Parallel coordinates of {len(rows)} trials (colour: best {objective.metric})")
    figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=colour_map), ax=axes, label=f"best {objective.metric}")
    figure.subplots_adjust(left=0.03, right=0.98, bottom=0.2, top=0.9)
    return axes


def _number(value):
    """A param as logged (MLflow keeps strings) as a float, or None when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def save(axes, path: Path, size: tuple[float, float], tight: bool) -> None:
    figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
    figure.set_size_inches(*size)
    if tight:
        figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
