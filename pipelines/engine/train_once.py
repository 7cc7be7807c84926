"""`hpo train`: one training run of a fixed config, no search and no Ray, logged to MLflow like a trial.

For retraining a final model from a sweep's best_config.yaml (or a config written by hand): a top-level
run (tag hpo.role=train) with the config as params, per-epoch metrics, validation and test metrics of
the best epoch's weights, and the model (pyfunc from raw input where the task can serve).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import torch
import yaml
from mlflow.entities import Metric, RunTag

from pipelines import registry
from pipelines.engine.prepare import objective_of
from pipelines.engine.settings import check_name, check_seed, drop_columns
from pipelines.engine.task_check import first_look
from pipelines.errors import SpaceError, UsageError
from pipelines.serving.model import code_version, log_model
from pipelines.task_sources import guarded
from pipelines.tracking import store
from search_spaces.fixed import fixed_config
from search_spaces.yaml_space import read_yaml_file
from trainables import device as devices
from trainables.metrics import epoch_metrics
from trainables.reporting import MemoryIO
from trainables.task import DataRequest


def load_config(path: str, define) -> dict:
    """A YAML mapping of param -> value, checked against the task's space; UsageError names the problem."""
    try:
        config = read_yaml_file(path, "--config")
    except SpaceError as exc:
        raise UsageError(str(exc)) from None
    if not isinstance(config, dict) or not config:
        raise UsageError(f"The --config file '{path}' must map param names to values (like best_config.yaml), "
                         f"got {type(config).__name__}.")
    try:
        return fixed_config(define, config)
    except SpaceError as exc:
        raise UsageError(f"In --config '{path}': {exc}") from None


def train_once(task_name: str, config_path: str, *, data: str | None = None, target: str | None = None,
               drop: str | None = None,
               dataset: str | None = None, data_dir: str | None = None, seed: int = 0,
               tracking_uri: str | None = None, name: str | None = None, metric: str | None = None,
               echo=print) -> int:
    check_seed(seed)
    registered = registry.get(task_name)
    task = registered.task
    objective = objective_of(metric, task)  # patience and the best epoch follow it, as in the sweep
    config = load_config(config_path, lambda space: guarded(task, "space", registered.define_space, space))
    given = read_yaml_file(config_path, "--config")
    defaulted = [k for k in config if k not in given and k != "seed"]
    if defaulted:  # params added to the task after the config was written, say
        echo(f"  config   lacks {', '.join(defaulted)}: the task's default "
             + ", ".join(f"{k}={config[k]!r}" for k in defaulted))
    config.setdefault("seed", seed)
    name = name or f"{task.name}-train-{time.strftime('%Y%m%d-%H%M%S')}"
    check_name(name)
    if target is not None and data is None:
        raise UsageError("--target names a column of --data; give --data FILE too.")
    if drop is not None and data is None:
        raise UsageError("--drop names columns of --data; give --data FILE too.")
    uri = store.resolve_tracking_uri(tracking_uri)
    loaded = guarded(task, "load_data", task.load_data, DataRequest(data=data, target=target, dataset=dataset,
                                                                     data_dir=data_dir, seed=seed,
                                                                     drop=drop_columns(drop)))
    for note in getattr(loaded, "notes", ()):
        echo(f"  data     {note}")
    with torch.random.fork_rng():  # the look leaves the training's random numbers as they were
        first_look(registered, loaded, config)  # a task file's model that raises is an error: before a run exists

    # This machine's first GPU where torch sees one (as a trial does with the GPU Ray gives it), else the CPU.
    device = devices.choose([0] if torch.cuda.is_available() else [])

    client = store.client_for(uri)
    experiment = store.experiment_id(client, task.name, uri)
    run_id = client.create_run(experiment, run_name=name, tags={
        "hpo.role": "train", "hpo.task": task.name, "hpo.config_file": str(Path(config_path).resolve()),
        "hpo.status": "running", "hpo.device": device.label,
        **{f"hpo.{k}": v for k, v in code_version().items()}}).info.run_id
    client.log_batch(run_id, params=store.params_of({
        **config, "metric": objective.metric, "data_seed": seed, "data_source": getattr(loaded, "source", ""),
        "data_fingerprint": getattr(loaded, "fingerprint", "")}))
    if hasattr(loaded, "preprocessing_report"):  # what became of each column of a table
        client.log_dict(run_id, loaded.preprocessing_report(), store.PREPROCESSING_FILE)
    echo(f"training {task.name} with {config_path}: MLflow run {name!r} ({run_id}) in {uri}")
    try:
        io = MemoryIO(device=device, objective=objective)
        started = time.monotonic()
        guarded(task, "train", task.train, config, loaded, io)
        names = epoch_metrics(task.metrics)
        stamp = int(time.time() * 1000)
        metrics = [Metric(n, float(r[n]), stamp, int(r["epoch"])) for r in io.results for n in names
                   if isinstance(r.get(n), (int, float)) and math.isfinite(r[n])]
        last = io.results[-1] if io.results else {}
        if last.get("diverged"):
            client.log_batch(run_id, metrics=metrics[:1000], tags=[RunTag("hpo.status", "failed"),
                                                                   RunTag("hpo.error", last["diverged"])])
            client.set_terminated(run_id, "FAILED")
            echo(f"error: training diverged: {last['diverged']}")
            return 1
        model = guarded(task, "build_model", task.build_model, config, loaded)
        model.load_state_dict(io.state["best_models"][0])
        scores = {**guarded(task, "evaluate", task.evaluate, model, loaded, "val"),
                  **guarded(task, "evaluate", task.evaluate, model, loaded, "test")}
        final = {("best_" + k if k.startswith("val_") else k): v for k, v in scores.items()}
        final["train_seconds"] = time.monotonic() - started
        metrics += [Metric(k, float(v), stamp, int(last.get("epoch", 0))) for k, v in final.items()]
        for start in range(0, len(metrics), store.MAX_BATCH):
            client.log_batch(run_id, metrics=metrics[start:start + store.MAX_BATCH])
        client.log_text(run_id, yaml.safe_dump(config, sort_keys=False), "config.yaml")
        log_model(task, model, loaded, config, run_id)
        client.log_batch(run_id, tags=[RunTag("hpo.status", "completed")])
        client.set_terminated(run_id, "FINISHED")
    except BaseException as exc:
        client.log_batch(run_id, tags=[RunTag("hpo.status", "failed"),
                                       RunTag("hpo.error", f"{type(exc).__name__}: {exc}"[:5000])])
        client.set_terminated(run_id, "FAILED")
        raise
    echo(f"{len(io.results)} epochs: " + "  ".join(f"{k} {v:.4g}" for k, v in final.items()))
    echo(f"model: runs:/{run_id}/model")
    return 0
