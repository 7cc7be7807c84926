"""The end-of-sweep summary and `hpo best`: what the terminal shows of a sweep's results."""
from __future__ import annotations

import math

from pipelines.engine.outcomes import trial_label
from pipelines.reporting.next_steps import after_sweep
from pipelines.reporting.tables import CONFIG_COLUMNS, format_table, leaderboard_table, shown
from pipelines.tracking.runs import find_sweep, leaderboard, objective_of
from pipelines.tracking.store import client_for, resolve_tracking_uri
from trainables.catalog import CARDS, card
from trainables.metrics import Objective, mode_of

SHOWN_METRICS = 2   # of a task's metrics, the first this many get a column in the summary table
OWN_COLUMNS = 3     # of a user's task's own params, the first this many too
FINAL_MODELS = {"best": "the best trial's weights", "refit": "the best config trained again on train+val",
                "ensemble": "the best trials' models averaged"}


def print_summary(outcome) -> None:
    objective = outcome.objective
    trials = sorted(outcome.trials, key=lambda t: (math.isnan(t.best), objective.loss(t.best)))
    metric_names = list(dict.fromkeys(m for t in trials for m in t.metrics
                                      if m not in ("val_loss", objective.metric)))[:SHOWN_METRICS]
    columns = [c for c in (*CONFIG_COLUMNS, *outcome.model_params[:OWN_COLUMNS]) if any(c in t.config for t in trials)]
    rows = [[trial_label(t.number, t.trial_id), t.status, t.epochs,
             t.best, *[t.metrics.get(m) for m in metric_names], *[t.config.get(c) for c in columns]]
            for t in trials]
    print()
    print(format_table(["trial", "status", "epochs run", f"best {objective.metric}", *metric_names, *columns], rows))
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
    if outcome.without_weights:
        print(f"checkpoints missing: {', '.join(outcome.without_weights)} (deleted from the sweep's folder?): "
              "their weights were left out of the final model's candidates")
    if outcome.best is None:
        return
    headline = headline_metrics(outcome.task, outcome.objective)
    named = {"best_" + n.replace("test_", "val_", 1) for n in headline} | {f"best_trial_{n}" for n in headline}
    print(f"\nbest trial: {trial_label(outcome.best.number, outcome.best.trial_id)}  " +
          "  ".join(f"{k} {v:.4g}" for k, v in outcome.best_metrics.items() if k in named))
    for key, value in outcome.best.config.items():  # best_config.yaml keeps the full precision
        print(f"  {key}: {shown(value)}")
    print(f"final model: {outcome.final_model} ({FINAL_MODELS.get(outcome.final_model, '')})  " +
          "  ".join(f"{k} {outcome.best_metrics[k]:.4g}" for k in headline if k in outcome.best_metrics))
    print_against_baselines({**outcome.best_metrics, **outcome.baselines}, outcome.task, outcome.objective)
    print(f"\nbest config: {outcome.sweep_dir / 'best_config.yaml'}")
    print("\n".join(after_sweep(outcome.name, outcome.tracking_uri, outcome.experiment_id, outcome.task)))


def print_leaderboard(name: str, top: int, tracking_uri: str | None) -> None:
    client = client_for(resolve_tracking_uri(tracking_uri))
    parent = find_sweep(client, name)
    rows = leaderboard(client, parent)[:top]
    columns = [c for c in CONFIG_COLUMNS if any(c in r["params"] for r in rows)]
    task_name = parent.data.tags.get("hpo.task", "")
    metric_names = list(task_metrics(task_name)[:SHOWN_METRICS]) or None
    print(format_table(*leaderboard_table(rows, columns, metric_names, objective_of(parent))))
    print_against_baselines(parent.data.metrics, task_name, objective_of(parent))


def print_against_baselines(metrics: dict, task_name: str, objective: Objective = Objective()) -> None:
    comparison = against_baselines(metrics, task_name, objective)
    if comparison:
        print("\nthe final model on the held-out test rows, against untuned baselines fitted on the same "
              "train+val rows:")
        print("\n".join(f"  {line}" for line in comparison))


def task_metrics(task_name: str) -> tuple[str, ...]:
    """What the task reports besides val_loss, from its card (no task module imported), or from a task of the
    user's that this process has loaded; () if unknown."""
    if task_name in CARDS:
        return card(task_name)["metrics"]
    from pipelines import registry

    found = registry.loaded(task_name)
    return found.task.metrics if found else ()


def headline_metrics(task_name: str, objective: Objective = Objective()) -> tuple[str, ...]:
    """The test metrics a sweep's model is judged by: the loss, the task's first metric and the objective's."""
    names = ("val_loss", *task_metrics(task_name)[:1], objective.metric)
    return tuple(dict.fromkeys(name.replace("val_", "test_", 1) for name in names))


def against_baselines(metrics: dict, task_name: str, objective: Objective = Objective()) -> list[str]:
    """One line per headline test metric that has a baseline: the tuned value, the best baseline's, and
    which wins, said plainly when the tuned model loses."""
    lines = []
    for name in headline_metrics(task_name, objective):
        tuned, baseline = metrics.get(name), metrics.get(f"baseline_{name}")
        if tuned is None or baseline is None:
            continue
        which = next((k[len("baseline_"):-len(name) - 1] for k, v in metrics.items()
                      if k.startswith("baseline_") and k.endswith(f"_{name}") and k != f"baseline_{name}"
                      and v == baseline), "baseline")
        better = tuned > baseline if mode_of(name) == "max" else tuned < baseline
        verdict = ("beats it" if better else "ties with it" if tuned == baseline
                   else f"LOSES to the untuned {which} model")
        lines.append(f"{name}: tuned {tuned:.4g}, best untuned baseline {baseline:.4g} ({which}): the tuned model "
                     f"{verdict}")
    return lines
