"""The sweep report, logged on the parent run when a sweep ends.

    preprocessing.json                  what became of each column of a table (logged when the sweep starts)
    leaderboard.csv                     every trial, best first (the table `hpo best` prints)
    sweep_report.html                   one self-contained page: the plots (embedded) and the leaderboard
    plots/optimization_history.png      objective per trial and the best so far (Optuna)
    plots/param_importances.png         fANOVA importances of the params for the objective (Optuna)
    plots/parallel_coordinates.png      each trial's params, coloured by its best value of the objective
    plots/learning_curves.png           the objective (val_loss...) per epoch of every trial, ASHA's rungs marked

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
from pathlib import Path

from pipelines.engine import study_file
from pipelines.engine.given_trials import WARM_START_ATTR
from pipelines.reporting.plots import (
    FIGURE_SIZE,
    WIDE_FIGURE,
    importances_plot,
    learning_curves,
    optuna_plot,
    parallel_coordinates,
    save,
)
from pipelines.reporting.summary import against_baselines
from pipelines.reporting.tables import leaderboard_table, shown
from pipelines.tracking.runs import best_trial_name, leaderboard

log = logging.getLogger(__name__)


def log_sweep_report(client, outcome, rungs: tuple[int, ...] = (), preprocessing: dict | None = None) -> None:
    """Write the report of a finished sweep and log it on its parent run; failures only warn. `preprocessing`
    is what became of a table's columns (TabularData.preprocessing_report)."""
    try:
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            write_report(Path(folder), client, outcome, rungs, preprocessing)
            client.log_artifacts(outcome.parent_run_id, folder)
        log.debug("sweep report in %.2fs", time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - the sweep's results matter more than its report
        log.warning("The sweep report of %s could not be written: %s", outcome.name, exc)


def write_report(folder: Path, client, outcome, rungs: tuple[int, ...], preprocessing: dict | None = None) -> None:
    rows = leaderboard(client, client.get_run(outcome.parent_run_id))
    headers, table = leaderboard_table(rows, objective=outcome.objective)
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
        "parallel_coordinates": ("Parallel coordinates", lambda: parallel_coordinates(rows, outcome.objective),
                                 WIDE_FIGURE, False),
        "learning_curves": ("Learning curves", lambda: learning_curves(client, rows, rungs, outcome.objective),
                            FIGURE_SIZE, False),
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
                                                   sections, headers, table, preprocessing, warm_started(study)))


def load_study(outcome):
    return study_file.load(outcome.name, outcome.sweep_dir / study_file.STUDY_FILE)


def warm_started(study) -> dict[str, int]:
    """How many of the study's trials came from each earlier sweep (--warm-start), by its name."""
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        source = trial.user_attrs.get(WARM_START_ATTR)
        if source:
            counts[source] = counts.get(source, 0) + 1
    return counts


def page(outcome, parent, sections, headers: list[str], table: list[list], preprocessing: dict | None = None,
         warm: dict[str, int] | None = None) -> str:
    """One HTML file with no outside references: images inline as base64."""
    def cell(value) -> str:
        return html.escape(shown(value))

    best = {k: v for k, v in parent.data.metrics.items() if k.startswith(("best_", "test_"))}
    parts = [f"<h1>Sweep {html.escape(outcome.name)}</h1>",
             f"<p>task <b>{html.escape(outcome.task)}</b>, {len(table)} trials, "
             f"best {html.escape(best_trial_name(parent))}: "
             + ", ".join(f"{html.escape(k)} {v:.4g}" for k, v in sorted(best.items())) + "</p>"]
    comparison = against_baselines(parent.data.metrics, outcome.task, outcome.objective)
    if comparison:
        parts.append("<h2>Against untuned baselines (held-out test rows)</h2><ul>"
                     + "".join(f"<li>{html.escape(line)}</li>" for line in comparison) + "</ul>")
    if warm:
        parts.append("<p>The search started from " + ", ".join(f"{n} finished trials of sweep {html.escape(name)}"
                                                             for name, n in warm.items())
                     + " (--warm-start: told to the study, not run again; in the history plot, not the leaderboard)."
                     + "</p>")
    if preprocessing:
        parts.append(columns_section(preprocessing))
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


def columns_section(preprocessing: dict) -> str:
    """The table's columns and what became of each, with what loading did to its rows."""
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in preprocessing.get("notes", []))
    rows = "".join(f"<tr><td>{html.escape(c['column'])}</td><td>{html.escape(c['kind'])}</td>"
                   f"<td>{c['empty_cells']}</td><td>{html.escape(c['why'])}</td></tr>"
                   for c in preprocessing.get("columns", []))
    return (f"<h2>Columns (target {html.escape(preprocessing.get('target', ''))}, "
            f"{len(preprocessing.get('model_inputs', []))} model inputs)</h2>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + f"<table><tr><th>column</th><th>became</th><th>empty cells</th><th>why</th></tr>{rows}</table>")
