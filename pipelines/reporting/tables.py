"""Plain text tables, and the leaderboard of a sweep as the terminal, leaderboard.csv and the report show it."""
from __future__ import annotations

import re

from trainables.metrics import Objective

CONFIG_COLUMNS = ("lr", "optimizer", "batch_size", "n_layers", "epochs")  # shown when a task has them


FLOAT_TEXT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][+-]?\d+)?")  # 0.0146, 1e-05; not 32, not ids


def shown(value):
    """A value as a table shows it: a float to 4 significant digits (also one MLflow kept as a string, like
    a param's 0.014610481054746523)."""
    if isinstance(value, str) and FLOAT_TEXT.fullmatch(value):
        value = float(value)
    return f"{value:.4g}" if isinstance(value, float) else "" if value is None else str(value)


def format_table(headers: list[str], rows: list[list]) -> str:
    """A plain aligned text table."""
    cell = shown

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def leaderboard_table(rows: list[dict], columns: list[str] | None = None, metric_names: list[str] | None = None,
                      objective: Objective = Objective()) -> tuple[list[str], list[list]]:
    """The leaderboard as headers and rows, for the terminal, leaderboard.csv and the sweep report:
    trial, status, the objective's best value, the val_ metrics in `metric_names` (default: all the trials
    have) at the same best epoch, then the params in `columns` (default: every param of any trial, in the
    order trials logged them)."""
    if metric_names is None:
        metric_names = sorted({k for r in rows for k in r if k.startswith("val_")})
    metric_names = [m for m in metric_names if m != objective.metric]
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r["params"]))
    return (["trial", "status", f"best {objective.metric}", *metric_names, *columns],
            [[r["trial"], r["status"], r.get(objective.best), *[r.get(f"best_{m}", r.get(m)) for m in metric_names],
              *[r["params"].get(c) for c in columns]] for r in rows])
