"""The sweep report, logged on the parent run when a sweep ends.

    leaderboard.csv                     every trial, best first (the table `hpo best` prints)
    sweep_report.html                   one self-contained page: the plots (embedded) and the leaderboard
    plots/optimization_history.png      objective per trial and the best so far (Optuna)
    plots/param_importances.png         fANOVA importances of the params for the objective (Optuna)
    plots/parallel_coordinates.png      each trial's params, coloured by its best val_loss
    plots/learning_curves.png           val_loss per epoch of every trial, ASHA's rungs marked

A report must never break a sweep: a plot that cannot be drawn (too few trials for importances, say)
is skipped with a warning, and the page says why.
"""
from __future__ import annotations

import base64
import csv
import html
import logging
import tempfile
import time
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

IMPORTANCE_TREES = 16     # fANOVA's forest: 64 by default; 16 ranks params alike here at a quarter the time
FIGURE_SIZE = (8, 4.5)    # inches, at DPI
WIDE_FIGURE = (12, 5)     # parallel coordinates: one axis per param
DPI = 90


def log_sweep_report(client, outcome, rungs: tuple[int, ...] = ()) -> None:
    """Write the report of a finished sweep and log it on its parent run; failures only warn."""
    try:
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            write_report(Path(folder), client, outcome, rungs)
            client.log_artifacts(outcome.parent_run_id, folder)
        log.debug("sweep report in %.2fs", time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - the sweep's results matter more than its report
        log.warning("The sweep report of %s could not be written: %s", outcome.name, exc)


def write_report(folder: Path, client, outcome, rungs: tuple[int, ...]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, and safe off the main thread
    from pipelines.report import leaderboard, leaderboard_table

    rows = leaderboard(client, client.get_run(outcome.parent_run_id))
    headers, table = leaderboard_table(rows)
    with open(folder / "leaderboard.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(table)

    (folder / "plots").mkdir()
    study = load_study(outcome)
    # Optuna's plots get a tight layout (an extra draw, about half the cost of a save); ours are laid
    # out by hand in their draw function.
    plots = {  # file: (title, draw, size, tight layout)
        "optimization_history": ("Optimisation history", lambda: optuna_plot("plot_optimization_history", study),
                                 FIGURE_SIZE, True),
        "param_importances": ("Parameter importances", lambda: importances_plot(study), FIGURE_SIZE, True),
        "parallel_coordinates": ("Parallel coordinates", lambda: parallel_coordinates(rows), WIDE_FIGURE, False),
        "learning_curves": ("Learning curves", lambda: learning_curves(client, rows, rungs), FIGURE_SIZE, False),
    }
    sections = []
    for key, (title, draw, size, tight) in plots.items():
        path = folder / "plots" / f"{key}.png"
        try:
            save(draw(), path, size, tight)
            sections.append((title, path.read_bytes(), None))
        except Exception as exc:  # noqa: BLE001 - one plot failing leaves the others
            log.warning("The %s plot of sweep %s was skipped: %s", title.lower(), outcome.name, exc)
            sections.append((title, None, str(exc)))
    (folder / "sweep_report.html").write_text(page(outcome, client.get_run(outcome.parent_run_id),
                                                   sections, headers, table))


def load_study(outcome):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=outcome.name, storage=f"sqlite:///{outcome.sweep_dir / 'optuna.db'}")


def optuna_plot(name: str, study):
    import optuna.visualization.matplotlib as plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental on every call
        return getattr(plots, name)(study)


def importances_plot(study):
    import optuna
    import optuna.visualization.matplotlib as plots

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(done) < 2:
        raise ValueError(f"importances need at least 2 completed trials, the study has {len(done)}")
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=IMPORTANCE_TREES, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plots.plot_param_importances(study, evaluator=evaluator)


def learning_curves(client, rows: list[dict], rungs: tuple[int, ...]):
    """val_loss per epoch of every trial (log scale), the best trial bold, ASHA's rungs as lines."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    drawn = 0
    for rank, row in enumerate(rows):
        history = sorted(client.get_metric_history(row["run_id"], "val_loss"), key=lambda m: m.step)
        if not history:
            continue
        best = rank == 0
        axes.plot([m.step for m in history], [m.value for m in history], marker="." if len(history) < 30 else None,
                  linewidth=2.5 if best else 1.0, alpha=1.0 if best else 0.6,
                  label=f"{row['trial']} (best)" if best else None, zorder=3 if best else 2)
        drawn += 1
    if not drawn:
        plt.close(figure)
        raise ValueError("no trial reported a val_loss")
    for i, rung in enumerate(rungs):
        axes.axvline(rung, color="grey", linestyle="--", linewidth=0.8, label="ASHA rung" if i == 0 else None)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("val_loss")
    axes.set_title(f"Learning curves of {drawn} trials")
    axes.legend(loc="upper right")
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.91)
    return axes


def parallel_coordinates(rows: list[dict]):
    """One line per trial across one axis per param (scaled to its range; lr-like params on a log
    scale; categories evenly spaced), coloured by the trial's best val_loss, the best on top.

    Drawn on one set of axes: Optuna's version draws a twin axis per param, ten times slower to save.
    """
    import math

    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import LogNorm, Normalize

    rows = [r for r in rows if math.isfinite(r.get("best_val_loss", math.nan))]
    names = [n for n in dict.fromkeys(k for r in rows for k in r["params"]) if n != "seed"]
    if len(rows) < 2 or not names:
        raise ValueError(f"parallel coordinates need at least 2 trials with a val_loss, the sweep has {len(rows)}")
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
    losses = np.array([r["best_val_loss"] for r in rows])
    norm = LogNorm(losses.min(), losses.max()) if losses.min() > 0 and losses.max() > losses.min() else Normalize()
    colours = plt.get_cmap("viridis_r")(norm(losses))
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
    axes.set_title(f"Parallel coordinates of {len(rows)} trials (colour: best val_loss)")
    figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis_r"), ax=axes, label="best val_loss")
    figure.subplots_adjust(left=0.03, right=0.98, bottom=0.2, top=0.9)
    return axes


def _number(value):
    """A param as logged (MLflow keeps strings) as a float, or None when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def save(axes, path: Path, size: tuple[float, float], tight: bool) -> None:
    import matplotlib.pyplot as plt

    figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
    figure.set_size_inches(*size)
    if tight:
        figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def page(outcome, parent, sections, headers: list[str], table: list[list]) -> str:
    """One HTML file with no outside references: images inline as base64."""
    def cell(value) -> str:
        return html.escape(f"{value:.4g}" if isinstance(value, float) else "" if value is None else str(value))

    best = {k: v for k, v in parent.data.metrics.items() if k.startswith(("best_", "test_"))}
    parts = [f"<h1>Sweep {html.escape(outcome.name)}</h1>",
             f"<p>task <b>{html.escape(outcome.task)}</b>, {len(table)} trials, "
             f"best {html.escape(parent.data.tags.get('hpo.best_trial_id', ''))}: "
             + ", ".join(f"{html.escape(k)} {v:.4g}" for k, v in sorted(best.items())) + "</p>"]
    for title, png, problem in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if png is None:
            parts.append(f"<p><i>not drawn: {html.escape(problem)}</i></p>")
        else:
            parts.append(f'<img alt="{html.escape(title)}" src="data:image/png;base64,'
                         f'{base64.b64encode(png).decode()}">')
    parts.append("<h2>Leaderboard</h2><table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers)
                 + "</tr>" + "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in table)
                 + "</table>")
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:90%}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Sweep {html.escape(outcome.name)}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
