"""The end-of-sweep summary and `hpo best`: what the terminal shows of a sweep's results."""
from __future__ import annotations

import math

from pipelines.errors import UsageError
from pipelines.progress import format_table
from pipelines.trial import trial_label

CONFIG_COLUMNS = ("lr", "optimizer", "batch_size", "n_layers", "epochs")  # shown when a task has them


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


def find_sweep(client, name: str):
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string=f"tags.`hpo.sweep` = '{name}' AND tags.`hpo.role` = 'sweep'", max_results=1)
    if not runs:
        raise UsageError(f"No sweep named {name!r} in the MLflow store; 'hpo run TASK --name {name}' makes one.")
    return runs[0]


def leaderboard(client, parent) -> list[dict]:
    """Every trial of a sweep with its params and last metrics, best first."""
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        max_results=50000)
    rows = []
    for run in children:
        rows.append({"trial": run.info.run_name, "status": run.data.tags.get("hpo.status", ""),
                     **{k: v for k, v in run.data.metrics.items()}, "params": dict(run.data.params),
                     "run_id": run.info.run_id})
    return sorted(rows, key=lambda r: r.get("best_val_loss", math.inf))


def leaderboard_table(rows: list[dict], columns: list[str] | None = None) -> tuple[list[str], list[list]]:
    """The leaderboard as headers and rows, for the terminal, leaderboard.csv and the sweep report:
    trial, status, best val_loss, the task's other val_ metrics, then the params in `columns`
    (default: every param of any trial, in the order trials logged them)."""
    metric_names = sorted({k for r in rows for k in r if k.startswith("val_") and k != "val_loss"})
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r["params"]))
    return (["trial", "status", "best val_loss", *metric_names, *columns],
            [[r["trial"], r["status"], r.get("best_val_loss"), *[r.get(m) for m in metric_names],
              *[r["params"].get(c) for c in columns]] for r in rows])


def print_leaderboard(name: str, top: int, tracking_uri: str | None) -> None:
    from pipelines.tracking import client_for, resolve_tracking_uri

    client = client_for(resolve_tracking_uri(tracking_uri))
    parent = find_sweep(client, name)
    rows = leaderboard(client, parent)[:top]
    columns = [c for c in CONFIG_COLUMNS if any(c in r["params"] for r in rows)]
    print(format_table(*leaderboard_table(rows, columns)))
