"""The sweep engine: settings -> Tuner(Optuna searcher + ASHA) on Ray -> MLflow parent and child runs.

Order matters for the bad-input contract: everything a user gave is checked (flags, space, data,
names, store, cluster) before the first byte is written to storage or MLflow.
"""
from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines import registry
from pipelines.errors import UsageError
from pipelines.settings import SweepSettings, check_settings
from search_spaces.space import check_space
from search_spaces.yaml_space import load_space_file
from trainables.task import DataRequest

ASHA_GRACE_EPOCHS = 2       # epochs every trial gets before ASHA may stop it
ASHA_REDUCTION_FACTOR = 3   # at each rung, ASHA keeps the top third


@dataclass
class TrialRecord:
    number: int | None
    trial_id: str
    status: str
    error: str | None
    epochs: int
    best_val_loss: float
    metrics: dict
    config: dict


@dataclass
class SweepOutcome:
    name: str
    task: str
    sweep_dir: Path
    tracking_uri: str
    parent_run_id: str
    experiment_id: str
    trials: list[TrialRecord] = field(default_factory=list)
    best: TrialRecord | None = None
    best_metrics: dict = field(default_factory=dict)   # of the best trial's best weights: val and test
    seconds: float = 0.0


@dataclass
class PreparedSweep:
    """A sweep whose inputs have all been checked; nothing is written yet."""
    settings: SweepSettings
    registered: registry.Registered
    overrides: dict
    caps: dict
    max_epochs: int
    data: object
    tracking_uri: str


def prepare(settings: SweepSettings) -> PreparedSweep:
    from pipelines.tracking import resolve_tracking_uri

    registered = registry.get(settings.task)
    settings = check_settings(settings)
    overrides = load_space_file(settings.space) if settings.space else {}
    caps = {"epochs": settings.max_epochs} if settings.max_epochs else {}
    summary = check_space(registered.define_space, overrides, caps)
    tracking_uri = resolve_tracking_uri(settings.tracking_uri)
    data = registered.task.load_data(DataRequest(data=settings.data, target=settings.target,
                                                 dataset=settings.dataset, data_dir=settings.data_dir,
                                                 seed=settings.seed))
    return PreparedSweep(settings, registered, overrides, caps, int(summary.largest["epochs"]), data, tracking_uri)


def start_ray(settings: SweepSettings) -> int:
    """Start (or join) Ray; return how many trials fit at once. Raises UsageError for a cluster that can't serve."""
    import ray

    # Our live view and summary replace Tune's tables; trial errors are summarised, not dumped.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # Tune's CSV/JSON/TensorBoard files per result: MLflow has the same numbers, these only cost I/O.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)
    try:
        if not ray.is_initialized():
            ray.init(address=settings.address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR, configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(f"Cannot start or reach Ray at --address {settings.address!r}: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.") from None
    resources = ray.cluster_resources()
    cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)
    if settings.gpus_per_trial > 0 and gpus == 0:
        raise UsageError(f"--gpus-per-trial {settings.gpus_per_trial} asks for GPUs, but the Ray cluster has "
                         "none; use --gpus-per-trial 0 or a cluster with GPU nodes.")
    if settings.cpus_per_trial > cpus:
        raise UsageError(f"--cpus-per-trial {settings.cpus_per_trial} is more than the {cpus:g} CPUs "
                         "the Ray cluster has.")
    fits = int(cpus // settings.cpus_per_trial)
    if settings.gpus_per_trial > 0:
        fits = min(fits, int(gpus // settings.gpus_per_trial))
    return max(1, fits)


def sweep_params(settings: SweepSettings, max_epochs: int, concurrency: int, data) -> dict:
    """The resolved settings as they go on the parent run."""
    params = {k: v for k, v in settings.as_dict().items() if v is not None}
    params.update(max_epochs=max_epochs, concurrency=concurrency, data_source=getattr(data, "source", ""),
                  data_fingerprint=getattr(data, "fingerprint", ""))
    return params


def _import_tracking_modules() -> None:
    # MLflow and Optuna's storage take seconds to import; they load while Ray starts its processes.
    import mlflow.pytorch  # noqa: F401
    import mlflow.tracking  # noqa: F401
    import optuna.storages  # noqa: F401


def run_sweep(settings: SweepSettings, echo=print) -> SweepOutcome:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # it wraps every MLflow client call
    prepared = prepare(settings)
    settings = prepared.settings
    importer = threading.Thread(target=_import_tracking_modules, daemon=True)
    importer.start()
    fits = start_ray(settings)
    importer.join()
    concurrency = min(settings.concurrency or fits, settings.trials)
    return execute(prepared, concurrency, echo)


def execute(prepared: PreparedSweep, concurrency: int, echo) -> SweepOutcome:
    import optuna
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    from pipelines import tracking
    from pipelines.progress import LiveView
    from pipelines.searcher import OptunaStudySearcher, make_sampler, open_study
    from pipelines.trial import run_trial

    s, task = prepared.settings, prepared.registered.task
    client = tracking.client_for(prepared.tracking_uri)
    experiment = tracking.experiment_id(client, task.name, prepared.tracking_uri)

    sweep_dir = Path(s.storage) / s.name
    sweep_dir.mkdir(parents=True)
    params = sweep_params(s, prepared.max_epochs, concurrency, prepared.data)
    (sweep_dir / "sweep_config.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(s.name, f"sqlite:///{sweep_dir / 'optuna.db'}",
                       make_sampler(s.search, s.seed, s.trials), task.mode)
    searcher = OptunaStudySearcher(study, prepared.registered.define_space, metric=task.metric, mode=task.mode,
                                   seed=s.seed, overrides=prepared.overrides, caps=prepared.caps)

    parent = client.create_run(experiment, run_name=s.name, tags={
        "hpo.sweep": s.name, "hpo.task": task.name, "hpo.role": "sweep", "hpo.storage": str(sweep_dir)})
    parent_id = parent.info.run_id
    client.log_batch(parent_id, params=tracking.params_of(params))
    client.log_artifact(parent_id, str(sweep_dir / "sweep_config.yaml"))
    echo(f"sweep {s.name}: task {task.name}, {s.trials} trials, {concurrency} at a time, "
         f"{s.search} search, {s.scheduler} scheduler")
    echo(f"  storage  {sweep_dir}\n  mlflow   {prepared.tracking_uri} (experiment {task.name!r}, run {s.name!r})")

    if s.scheduler == "asha":
        grace = min(ASHA_GRACE_EPOCHS, prepared.max_epochs)
        scheduler = ASHAScheduler(time_attr="epoch", max_t=prepared.max_epochs, grace_period=grace,
                                  reduction_factor=ASHA_REDUCTION_FACTOR)
        report_epochs = rung_epochs(grace, ASHA_REDUCTION_FACTOR, prepared.max_epochs)
    else:
        scheduler, report_epochs = FIFOScheduler(), ()
    logger = tracking.TrialLogger(client, experiment, parent_id, s.name, task.name, task.metrics, searcher.number_of)
    live = LiveView(s.trials, task.metrics, searcher.number_of)
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, task_name=task.name, data=prepared.data, cpus=s.cpus_per_trial,
                             report_epochs=report_epochs),
        {"cpu": s.cpus_per_trial, "gpu": s.gpus_per_trial})
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(metric=task.metric, mode=task.mode, search_alg=searcher, scheduler=scheduler,
                                    num_samples=s.trials, max_concurrent_trials=concurrency,
                                    time_budget_s=s.time_budget, reuse_actors=True,
                                    trial_dirname_creator=searcher.trial_dirname),
        run_config=tune.RunConfig(name=s.name, storage_path=s.storage, verbose=0, callbacks=[logger, live],
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=1)))
    started = time.monotonic()
    outcome = SweepOutcome(s.name, task.name, sweep_dir, prepared.tracking_uri, parent_id, experiment)
    try:
        results = tuner.fit()
        searcher.close()
        outcome.seconds = time.monotonic() - started
        outcome.trials = collect_trials(results, searcher.number_of, task.metrics)
        finish_parent(client, outcome, results, prepared)
    except BaseException:
        client.set_terminated(parent_id, "FAILED")
        raise
    return outcome


def rung_epochs(grace: int, reduction_factor: int, max_t: int) -> tuple[int, ...]:
    """The epochs at which ASHA compares a trial with the others: grace, grace*rf, grace*rf^2, ..."""
    epochs, epoch = [], grace
    while epoch < max_t:
        epochs.append(epoch)
        epoch *= reduction_factor
    return tuple(epochs)


def collect_trials(results, number_of, metric_names) -> list[TrialRecord]:
    records = []
    for result in results:
        metrics = result.metrics or {}
        # A trial that failed before its first report has no metrics; its folder ends in its id.
        trial_id = metrics.get("trial_id") or Path(result.path or "").name.rsplit("_", 1)[-1]
        status = "failed" if result.error else ("completed" if metrics.get("final") else "early_stopped")
        records.append(TrialRecord(
            number=number_of(trial_id), trial_id=trial_id, status=status,
            error=last_line(str(result.error)) if result.error else None, epochs=int(metrics.get("epoch", 0)),
            best_val_loss=float(metrics.get("best_val_loss", math.nan)),
            metrics={m: metrics[m] for m in metric_names if m in metrics}, config=result.config or {}))
    return records


def last_line(text: str) -> str:
    """The last non-empty line of an error text: the exception and its message."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def best_result(results):
    """The trial with the lowest best_val_loss that did not fail and left a checkpoint."""
    candidates = [r for r in results if r.error is None and r.checkpoint is not None and r.metrics
                  and math.isfinite(r.metrics.get("best_val_loss", math.nan))]
    return min(candidates, key=lambda r: r.metrics["best_val_loss"]) if candidates else None


def finish_parent(client, outcome: SweepOutcome, results, prepared: PreparedSweep) -> None:
    """Put the sweep's result on the parent run: best metrics and test metrics, config, model."""
    import mlflow
    import mlflow.pytorch
    import torch
    from mlflow.entities import Metric, Param, RunTag

    from trainables.reporting import load_state

    task, data, parent_id = prepared.registered.task, prepared.data, outcome.parent_run_id
    counts = {k: sum(1 for t in outcome.trials if t.status == k) for k in ("completed", "early_stopped", "failed")}
    stamp = int(time.time() * 1000)
    metrics = [Metric(f"trials_{k}", float(v), stamp, 0) for k, v in counts.items()]
    metrics.append(Metric("sweep_seconds", outcome.seconds, stamp, 0))
    best = best_result(results)
    if best is None:
        client.log_batch(parent_id, metrics=metrics, tags=[RunTag("hpo.status", "failed")])
        client.set_terminated(parent_id, "FAILED")
        return
    outcome.best = next(t for t in outcome.trials if t.trial_id == best.metrics.get("trial_id"))
    with best.checkpoint.as_directory() as folder:
        state = load_state(folder)
    model = task.build_model(best.config, data)
    model.load_state_dict(state["best_model"])
    scores = {**task.evaluate(model, data, "val"), **task.evaluate(model, data, "test")}
    outcome.best_metrics = {("best_" + k if k.startswith("val_") else k): v for k, v in scores.items()}
    metrics += [Metric(k, float(v), stamp, 0) for k, v in outcome.best_metrics.items()]
    config_text = yaml.safe_dump(best.config, sort_keys=False)
    (outcome.sweep_dir / "best_config.yaml").write_text(config_text)
    client.log_batch(parent_id, metrics=metrics,
                     params=[Param(f"best.{k}", str(v)) for k, v in best.config.items()],
                     tags=[RunTag("hpo.status", "completed"), RunTag("hpo.best_trial", str(outcome.best.number)),
                           RunTag("hpo.best_trial_id", outcome.best.trial_id)])
    client.log_text(parent_id, config_text, "best_config.yaml")
    # pickle, not torch.export: every task's model can be saved that way, sequence models included;
    # MLflow warns about pickle on every save, which says nothing new to a user of this tool.
    logging.getLogger("mlflow.pytorch").setLevel(logging.ERROR)
    with mlflow.start_run(run_id=parent_id):
        mlflow.pytorch.log_model(model, name="model", serialization_format="pickle",
                                 pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"])
    client.set_terminated(parent_id, "FINISHED")
