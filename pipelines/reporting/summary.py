"""The end-of-sweep summary and `hpo best`: what the terminal shows of a sweep's results."""
from __future__ import annotations

import math

from pipelines.engine.outcomes import trial_label
from pipelines.reporting.tables import CONFIG_COLUMNS, format_table, leaderboard_table
from pipelines.tracking.runs import find_sweep, leaderboard
from pipelines.tracking.store import client_for, resolve_tracking_uri


def print_summary(outcome) -> None:
    trials = sorted(outcome.trials, key=lambda t: (math.isnan(t.best_val_loss), t.best_val_loss))
    metric_names = sorted({m for t in trials for m in t.metrics if m != "val_loss"})
    columns = [c for c in CONFIG_COLUMNS if any(c in t.config for t in trials)]
    rows = [[trial_label(t.number, t.trial_id), t.status, t.epochs,
             t.best_val_loss, *[t.metrics.get(m) for m in metric_names], *[t.config.get(c) for c in columns]]
            for t in trials]
    print()
    print(format_table(["trial", "status", "epochs run", "best val_loss", *metric_names, *columns], rows))
    counts = {k: sum(1 for t in trials if t.status == k)
              for k in ("completed", "early_stopped", "failed", "interrupted")}
    print(f"\n{len(trials)} trials in {outcome.seconds:.1f}s: {counts['completed']} completed, "
          f"{counts['early_stopped']} stopped early, {counts['failed']} failed"
          + (f", {counts['interrupted']} interrupted" if counts["interrupted"] else ""))
    failures = [t for t in trials if t.error]
    if failures:
        print("failures:")
        for t in failures:
            print(f"  {trial_label(t.number, t.trial_id)}: {t.error}")
    if outcome.best is None:
        return
    print(f"\nbest: {trial_label(outcome.best.number, outcome.best.trial_id)}  " +
          "  ".join(f"{k} {v:.4g}" for k, v in outcome.best_metrics.items()))
    for key, value in outcome.best.config.items():
        print(f"  {key}: {value}")
    print(f"\nbest config: {outcome.sweep_dir / 'best_config.yaml'}")
    print(f"MLflow:      hpo ui --tracking-uri {outcome.tracking_uri}")
    print(f"             then http://127.0.0.1:5000/#/experiments/{outcome.experiment_id}/runs "
          f"(experiment {outcome.task!r}, parent run {outcome.name!r})")
    print(f"ship it:     hpo promote {outcome.name}")


def print_leaderboard(name: str, top: int, tracking_uri: str | None) -> None:
    client = client_for(resolve_tracking_uri(tracking_uri))
    parent = find_sweep(client, name)
    rows = leaderboard(client, parent)[:top]
    columns = [c for c in CONFIG_COLUMNS if any(c in r["params"] for r in rows)]
    print(format_table(*leaderboard_table(rows, columns)))
