"""The end of a sweep: the best trial's model scored on validation and test, and the parent run completed
with its metrics, best config, model and report."""
from __future__ import annotations

import math
import time

import yaml

from pipelines.engine.final_model import candidates, choose, predictor_of
from pipelines.engine.outcomes import trial_label
from pipelines.engine.prepare import PreparedSweep
from pipelines.engine.results import SweepOutcome, ranked_results, without_weights
from pipelines.engine.schedulers import report_epochs
from trainables.folds import whole
from trainables.metrics import mode_of


def finish_parent(client, outcome: SweepOutcome, results, prepared: PreparedSweep) -> None:
    """Put the sweep's result on the parent run: best metrics and test metrics, config, model."""
    # Imported when a sweep ends: MLflow's model code and matplotlib would cost seconds at its start.
    from mlflow.entities import Metric, RunTag

    from pipelines.reporting.sweep_report import log_sweep_report
    from pipelines.serving.model import code_version, log_model

    task, data, parent_id = prepared.registered.task, whole(prepared.data), outcome.parent_run_id
    counts = {k: sum(1 for t in outcome.trials if t.status == k) for k in ("completed", "early_stopped", "failed")}
    stamp = int(time.time() * 1000)
    metrics = [Metric(f"trials_{k}", float(v), stamp, 0) for k, v in counts.items()]
    metrics.append(Metric("sweep_seconds", outcome.seconds, stamp, 0))
    ranked = ranked_results(results, prepared.objective)
    labels = {t.trial_id: trial_label(t.number, t.trial_id) for t in outcome.trials}
    outcome.without_weights = [labels.get(i, i) for i in without_weights(results)]
    if not ranked:
        client.log_batch(parent_id, metrics=metrics, tags=[RunTag("hpo.status", "failed")])
        client.set_terminated(parent_id, "FAILED")
        return
    best = ranked[0]
    outcome.best = next(t for t in outcome.trials if t.trial_id == best.metrics.get("trial_id"))
    found = candidates(task, ranked, prepared.data, prepared.settings.ensemble, prepared.objective)
    final = choose(found)
    outcome.final_model = final.kind
    outcome.best_metrics = final_metrics(found, final)
    model = found[0].models[0][0][0]  # the best trial's (its first fold's under --cv)
    extras = task.summarize_best(model, data, best.config) if task.summarize_best else {}
    outcome.best_metrics.update(extras.get("metrics", {}))
    outcome.baselines = baseline_metrics(task, data)
    metrics += [Metric(k, float(v), stamp, 0) for k, v in {**outcome.best_metrics, **outcome.baselines}.items()]
    config_text = yaml.safe_dump(best.config, sort_keys=False)
    (outcome.sweep_dir / "best_config.yaml").write_text(config_text)
    # The best config as tags, not params: a resumed sweep may find a better one, and MLflow params cannot change.
    client.log_batch(parent_id, metrics=metrics,
                     tags=[RunTag(f"best.{k}", str(v)) for k, v in best.config.items()] +
                          [RunTag("hpo.status", "completed"), RunTag("hpo.best_trial", str(outcome.best.number)),
                           RunTag("hpo.best_trial_id", outcome.best.trial_id), RunTag("hpo.final_model", final.kind)])
    client.log_text(parent_id, config_text, "best_config.yaml")
    for file_name, text in extras.get("texts", {}).items():
        client.log_text(parent_id, text, file_name)
    log_model(task, model, data, best.config, parent_id,
              predictor=predictor_of(task, final) if task.make_predictor else None)
    client.log_batch(parent_id, tags=[RunTag(f"hpo.{k}", v) for k, v in code_version().items()])
    log_sweep_report(client, outcome, rungs=report_epochs(prepared.settings, prepared.max_epochs),
                     preprocessing=data.preprocessing_report() if hasattr(data, "preprocessing_report") else None)
    client.set_terminated(parent_id, "FINISHED")


def baseline_metrics(task, data) -> dict[str, float]:
    """baseline_<name>_<metric> of each of the task's untuned baselines, and baseline_<metric>: the best of them."""
    found = task.baselines(data) if task.baselines else {}
    flat = {f"baseline_{name}_{k}": v for name, scores in found.items() for k, v in scores.items()}
    for k in dict.fromkeys(k for scores in found.values() for k in scores):
        values = [scores[k] for scores in found.values() if math.isfinite(scores.get(k, math.nan))]
        if values:
            flat[f"baseline_{k}"] = max(values) if mode_of(k) == "max" else min(values)
    return flat


def final_metrics(found: list, final) -> dict:
    """What the parent run gets of the candidates: best_val_* and best_trial_test_* of the best trial,
    test_* of the final model, and each other candidate's under its name (refit_test_*, ensemble_val_*...)."""
    metrics = {}
    for candidate in found:
        for k, v in candidate.metrics.items():
            if candidate.kind == "best":
                metrics["best_" + k if k.startswith("val_") else f"best_trial_{k}"] = v
            else:
                metrics[f"{candidate.kind}_{k}"] = v
    metrics.update({k: v for k, v in final.metrics.items() if k.startswith("test_")})
    return metrics
