"""The sweep engine: settings -> Tuner(Optuna searcher + ASHA) on Ray -> MLflow parent and child runs.

Order matters for the bad-input contract: everything a user gave is checked (flags, space, data,
names, store, cluster) before the first byte is written to storage or MLflow.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines import registry
from pipelines.errors import UsageError
from pipelines.settings import SweepSettings, check_settings
from pipelines.trial import outcome_of
from search_spaces.space import check_space
from search_spaces.yaml_space import load_space_file
from trainables.task import DataRequest

ASHA_GRACE_EPOCHS = 2       # epochs every trial gets before ASHA may stop it
ASHA_REDUCTION_FACTOR = 3   # at each rung, ASHA keeps the top third
# Checkpoints Tune keeps per trial. Tune rewrites its experiment state (every trial's) whenever one
# trial has made this many checkpoints since the last rewrite: with 1, at every checkpoint, so the
# saved state knows every trial that has ended, and `hpo resume` after a crash neither loses nor
# repeats one. That rewrite grows with the trials run, so trials checkpoint only when needed
# (pipelines/trial.py). With 2 a 1,000-trial sweep was a third faster, but a crash forgot the trials
# that ended in the last seconds before it (docs/benchmarks.md, scale).
CHECKPOINTS_KEPT = 1


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
    interrupted: bool = False                          # ended by Ctrl-C; `hpo resume` continues it


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


def prepare(settings: SweepSettings, new_sweep: bool = True) -> PreparedSweep:
    from pipelines.tracking import resolve_tracking_uri

    registered = registry.get(settings.task)
    settings = check_settings(settings, new_sweep)
    overrides = load_space_file(settings.space) if settings.space else {}
    caps = {"epochs": settings.max_epochs} if settings.max_epochs else {}
    summary = check_space(registered.define_space, overrides, caps)
    tracking_uri = resolve_tracking_uri(settings.tracking_uri)
    data = registered.task.load_data(DataRequest(data=settings.data, target=settings.target,
                                                 dataset=settings.dataset, data_dir=settings.data_dir,
                                                 seed=settings.seed))
    # Absolute from here on (errors above name the paths as typed): `hpo resume` may run elsewhere.
    settings.data, settings.data_dir = (str(Path(p).expanduser().resolve()) if p else p
                                        for p in (settings.data, settings.data_dir))
    return PreparedSweep(settings, registered, overrides, caps, int(summary.largest["epochs"]), data, tracking_uri)


started_ray = False  # whether this process started (or joined) Ray itself, and so ends it


def end_ray_beside() -> threading.Thread | None:
    """End the Ray this process started, in a thread the caller joins (None: nothing to end). A sweep
    calls it before its last steps (the best model, the report), which do not need Ray: the shutdown
    (~1.5 s of waiting for its processes) overlaps them. The CLI calls it at exit for the other paths."""
    global started_ray
    if not started_ray:
        return None
    import ray

    started_ray = False
    ending = threading.Thread(target=ray.shutdown, daemon=True)
    ending.start()
    return ending


def configure_environment() -> None:
    """Settings of Ray Tune and MLflow for a sweep; a user's own environment variables win."""
    # Our live view and summary replace Tune's tables; trial errors are summarised, not dumped.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)
    # Tune's CSV/JSON/TensorBoard files per result: MLflow has the same numbers, these only cost I/O.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # it wraps every MLflow client call


def start_ray(settings: SweepSettings, prepared: PreparedSweep | None = None, echo=print) -> int:
    """Start (or join) Ray; return how many trials fit at once. Raises UsageError for a cluster that can't serve.
    Resolves `--gpus-per-trial auto` by measuring a trial of `prepared` on one of the cluster's GPUs."""
    import ray

    global started_ray
    try:
        if not ray.is_initialized():
            started_ray = True
            # "local": without --address a new local Ray, never one that `ray start` left on this machine
            # (plain ray.init() would join that).
            ray.init(address=settings.address or "local", include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR, configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        # A token-auth mismatch looks like an unreachable cluster (Ray retries, then gives up).
        auth = (f" The driver's RAY_AUTH_MODE ({os.environ.get('RAY_AUTH_MODE', 'unset')}) must match the "
                "cluster's: token (with the head's token in RAY_AUTH_TOKEN or ~/.ray/auth_token) or disabled."
                if settings.address else "")
        raise UsageError(f"Cannot start or reach Ray at --address {settings.address!r}: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.{auth}") from None
    resources = ray.cluster_resources()
    cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)
    if settings.cpus_per_trial > cpus:
        raise UsageError(f"--cpus-per-trial {settings.cpus_per_trial} is more than the {cpus:g} CPUs "
                         "the Ray cluster has.")
    if settings.gpus_per_trial == "auto":
        from pipelines.gpu_packing import auto_gpus_per_trial

        settings.gpus_per_trial = auto_gpus_per_trial(prepared, gpus, echo)
    if settings.gpus_per_trial > 0 and gpus == 0:
        raise UsageError(f"--gpus-per-trial {settings.gpus_per_trial} asks for GPUs, but the Ray cluster has "
                         "none; use --gpus-per-trial 0 or a cluster with GPU nodes.")
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


def _set_up_tracking(tracking_uri: str, write: bool, out: dict) -> None:
    """MLflow's set-up, run beside Ray's start: its imports (seconds), and with `write` the client
    and store (a new SQLite store runs its schema migrations: seconds more)."""
    try:
        import mlflow.pytorch  # noqa: F401
        import mlflow.tracking  # noqa: F401
        import optuna.storages  # noqa: F401

        if write:
            from pipelines.tracking import client_for

            out["client"] = client_for(tracking_uri)
    except BaseException as exc:  # raised again in the main thread
        out["error"] = exc


def run_sweep(settings: SweepSettings, echo=print) -> SweepOutcome:
    configure_environment()
    prepared = prepare(settings)
    settings = prepared.settings
    # The store may be written before Ray has started only where Ray cannot reject the input: a new
    # local Ray always has the one CPU a trial asks for by default. Otherwise only the imports overlap.
    write_early = settings.address is None and settings.cpus_per_trial <= 1 and settings.gpus_per_trial == 0
    tracking_ready: dict = {}
    beside = threading.Thread(target=_set_up_tracking, args=(prepared.tracking_uri, write_early, tracking_ready),
                              daemon=True)
    beside.start()
    try:
        fits = start_ray(settings, prepared, echo)
    finally:
        beside.join()
    if "error" in tracking_ready:
        raise tracking_ready["error"]
    concurrency = min(settings.concurrency or fits, settings.trials)
    return execute(prepared, concurrency, echo, tracking_ready.get("client"))


def scheduler_for(s: SweepSettings, max_epochs: int):
    """The scheduler, and the epochs at which trials must report for it to act (ASHA's rungs)."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    if s.scheduler == "fifo":
        return FIFOScheduler(), ()
    grace = min(ASHA_GRACE_EPOCHS, max_epochs)
    scheduler = ASHAScheduler(time_attr="epoch", max_t=max_epochs, grace_period=grace,
                              reduction_factor=ASHA_REDUCTION_FACTOR)
    return scheduler, rung_epochs(grace, ASHA_REDUCTION_FACTOR, max_epochs)


def trainable_for(prepared: PreparedSweep, report_epochs: tuple[int, ...]):
    from ray import tune

    from pipelines.trial import run_trial

    s = prepared.settings
    return tune.with_resources(
        tune.with_parameters(run_trial, task=prepared.registered.task, data=prepared.data,
                             cpus=s.cpus_per_trial, report_epochs=report_epochs),
        {"cpu": s.cpus_per_trial, "gpu": s.gpus_per_trial})


def execute(prepared: PreparedSweep, concurrency: int, echo, client=None) -> SweepOutcome:
    import optuna
    from ray import tune

    from pipelines import tracking
    from pipelines.progress import LiveView
    from pipelines.searcher import OptunaStudySearcher, TrialFolderName, make_sampler, open_study

    s, task = prepared.settings, prepared.registered.task
    client = client or tracking.client_for(prepared.tracking_uri)
    experiment = tracking.experiment_id(client, task.name, prepared.tracking_uri)

    sweep_dir = Path(s.storage) / s.name
    sweep_dir.mkdir(parents=True)
    s.tracking_uri = prepared.tracking_uri  # resolved, so that `hpo resume` finds the same store
    if s.space:  # a copy travels with the sweep, so `hpo resume` does not depend on the original
        shutil.copyfile(s.space, sweep_dir / "space.yaml")
        s.space = str(sweep_dir / "space.yaml")
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

    scheduler, report_epochs = scheduler_for(s, prepared.max_epochs)
    logger = tracking.TrialLogger(client, experiment, parent_id, s.name, task.name, task.metrics, searcher.number_of)
    live = LiveView(s.trials, task.metrics, searcher.number_of)
    tuner = tune.Tuner(
        trainable_for(prepared, report_epochs),
        tune_config=tune.TuneConfig(metric=task.metric, mode=task.mode, search_alg=searcher, scheduler=scheduler,
                                    num_samples=s.trials, max_concurrent_trials=concurrency,
                                    time_budget_s=s.time_budget, reuse_actors=True,
                                    trial_dirname_creator=TrialFolderName(s.seed)),
        run_config=tune.RunConfig(name=s.name, storage_path=s.storage, verbose=0, callbacks=[logger, live],
                                  failure_config=tune.FailureConfig(max_failures=s.max_failures),
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=CHECKPOINTS_KEPT)))
    outcome = SweepOutcome(s.name, task.name, sweep_dir, prepared.tracking_uri, parent_id, experiment)
    return drive(tuner, searcher, client, outcome, prepared)


def drive(tuner, searcher, client, outcome: SweepOutcome, prepared: PreparedSweep) -> SweepOutcome:
    """Run a (new or restored) Tuner to its end and put the result on the parent run.

    Ctrl-C: the first press ends the sweep with its state saved and its runs marked interrupted;
    a second press aborts at once. Either way `hpo resume` continues it.
    """
    from mlflow.entities import RunTag

    from pipelines import interrupts

    started = time.monotonic()
    try:
        with interrupts.guard:
            results = tuner.fit()
            interrupted = interrupts.guard.pressed()
        outcome.seconds = time.monotonic() - started
        outcome.trials = collect_trials(results, searcher.number_of, prepared.registered.task.metrics)
        if interrupted:
            outcome.interrupted = True
            # Trials the searcher still holds were cut short: `hpo resume` continues them.
            outcome.trials = [dataclasses.replace(t, status="interrupted") if t.trial_id in searcher.live else t
                              for t in outcome.trials]
            client.log_batch(outcome.parent_run_id, tags=[RunTag("hpo.status", "interrupted")])
            client.set_terminated(outcome.parent_run_id, "KILLED")
            return outcome
        searcher.close()
        ending = end_ray_beside()
        try:
            # Runs still open now (RUNNING, or KILLED by an abort and not resumed) belong to trials a
            # crash or an abort lost before Tune saved them.
            close_running_trials(client, outcome, "failed", "lost: the sweep ended before saving this trial",
                                 open_statuses=("RUNNING", "KILLED"))
            finish_parent(client, outcome, results, prepared)
        finally:
            if ending is not None:
                ending.join()
    except KeyboardInterrupt:
        # The second Ctrl-C. It may have cut an MLflow write short and left a SQLite store locked for
        # this process, so closing the runs is best effort and gives up at the first failure:
        # `hpo resume` reopens or closes whatever stays open.
        with contextlib.suppress(Exception):
            client.log_batch(outcome.parent_run_id, tags=[RunTag("hpo.status", "interrupted")])
            client.set_terminated(outcome.parent_run_id, "KILLED")
            close_running_trials(client, outcome, "interrupted")
        raise
    except BaseException:
        client.set_terminated(outcome.parent_run_id, "FAILED")
        raise
    return outcome


def raise_budget(sweep_dir: Path, trials: int) -> None:
    """Set a saved sweep's trial budget to `trials`.

    Tuner.restore cannot change num_samples: Tune keeps it in the search generator's saved state,
    so a resume that asks for more trials raises it there, and the study simply goes on.
    """
    import ray.cloudpickle as cloudpickle

    saved = sorted(sweep_dir.glob("search_gen_state-*.json"))
    if not saved:
        raise UsageError(f"The sweep in '{sweep_dir}' has no saved search state to continue.")
    path = saved[-1]  # the one Tune restores: the greatest name
    state = cloudpickle.loads(path.read_bytes())
    state["total_samples"], state["finished"] = trials, False
    path.write_bytes(cloudpickle.dumps(state))


def resume_sweep(name: str, storage: str | None, tracking_uri: str | None, trials: int | None = None,
                 echo=print) -> SweepOutcome:
    """Continue a sweep that was interrupted or crashed: finished trials stay finished, unfinished ones
    restart from their last checkpoint, the study goes on, MLflow runs are reopened, not duplicated."""
    from mlflow.entities import RunTag
    from ray import tune

    from pipelines import tracking
    from pipelines.progress import LiveView
    from pipelines.report import find_sweep

    configure_environment()
    sweep_dir = Path(storage or "ray_results").expanduser().resolve() / name
    config_file = sweep_dir / "sweep_config.yaml"
    if not config_file.is_file() or not (sweep_dir / "tuner.pkl").is_file():
        raise UsageError(f"No sweep named {name!r} to resume in '{sweep_dir.parent}' (no {config_file.name} "
                         "and tuner.pkl there); give --storage DIR where it ran.")
    saved = yaml.safe_load(config_file.read_text())
    settings = SweepSettings(**{k: saved[k] for k in SweepSettings.__dataclass_fields__ if k in saved})
    settings.tracking_uri = tracking_uri or saved.get("tracking_uri")
    if trials is not None and trials < settings.trials:
        raise UsageError(f"The --trials of a resumed sweep must be at least its budget of {settings.trials}, "
                         f"got {trials}.")
    prepared = prepare(settings, new_sweep=False)
    start_ray(prepared.settings)
    client = tracking.client_for(prepared.tracking_uri)
    parent = find_sweep(client, name)
    if trials is not None and trials > settings.trials:
        raise_budget(sweep_dir, trials)
        settings.trials = trials
        config_file.write_text(yaml.safe_dump({**saved, "trials": trials}, sort_keys=False))

    parent_id = parent.info.run_id
    client.update_run(parent_id, status="RUNNING")
    client.log_batch(parent_id, tags=[RunTag("hpo.status", "running"), RunTag("hpo.trials", str(settings.trials))])
    echo(f"resuming sweep {name}: task {settings.task}\n  storage  {sweep_dir}\n  mlflow   {prepared.tracking_uri}")

    _, report_epochs = scheduler_for(prepared.settings, prepared.max_epochs)
    tuner = tune.Tuner.restore(str(sweep_dir), trainable=trainable_for(prepared, report_epochs),
                               resume_unfinished=True, resume_errored=False, restart_errored=False)
    # The searcher and live view restored with the sweep (Tuner.restore has no public access to them).
    searcher = tuner._local_tuner._tune_config.search_alg
    for callback in tuner._local_tuner._run_config.callbacks:
        if isinstance(callback, LiveView):
            callback.total = settings.trials
    outcome = SweepOutcome(name, settings.task, sweep_dir, prepared.tracking_uri, parent_id,
                           parent.info.experiment_id)
    return drive(tuner, searcher, client, outcome, prepared)


def close_running_trials(client, outcome: SweepOutcome, status: str, error: str | None = None,
                         open_statuses: tuple[str, ...] = ("RUNNING",)) -> None:
    """End the sweep's child runs whose MLflow status is one of `open_statuses`, tagging them `status`."""
    from mlflow.entities import RunTag

    from pipelines.tracking import RUN_STATUS

    children = client.search_runs([outcome.experiment_id], max_results=50000,
                                  filter_string=f"tags.mlflow.parentRunId = '{outcome.parent_run_id}'")
    for run in (r for r in children if r.info.status in open_statuses):
        tags = [RunTag("hpo.status", status)] + ([RunTag("hpo.error", error)] if error else [])
        client.log_batch(run.info.run_id, tags=tags)
        client.set_terminated(run.info.run_id, RUN_STATUS.get(status, "FINISHED"))


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
        if not metrics and result.error is None:
            continue  # never started: the sweep ended first
        # A trial that failed before its first report has no metrics; its folder ends in its id.
        trial_id = metrics.get("trial_id") or Path(result.path or "").name.rsplit("_", 1)[-1]
        error = last_line(str(result.error)) if result.error else metrics.get("diverged")
        records.append(TrialRecord(
            number=number_of(trial_id), trial_id=trial_id, status=outcome_of(metrics, result.error is not None),
            error=error, epochs=int(metrics.get("epoch", 0)),
            best_val_loss=float(metrics.get("best_val_loss", math.nan)),
            metrics={m: metrics[m] for m in metric_names if m in metrics}, config=result.config or {}))
    return records


def last_line(text: str) -> str:
    """The last non-empty line of an error text: the exception and its message."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def checkpointed_best_val_loss(result) -> float:
    """A trial's best_val_loss as of its last checkpoint: the best weights the driver can load. A trial
    the time budget cut short may have reported better epochs since (trials checkpoint every 30 s)."""
    for checkpoint, metrics in result.best_checkpoints or []:
        if checkpoint.path == result.checkpoint.path:
            return metrics.get("best_val_loss", math.nan)
    return result.metrics.get("best_val_loss", math.nan)


def best_result(results):
    """The trial with the lowest checkpointed best_val_loss that did not fail."""
    candidates = [r for r in results if r.checkpoint is not None and r.metrics
                  and outcome_of(r.metrics, r.error is not None) != "failed"
                  and math.isfinite(checkpointed_best_val_loss(r))]
    return min(candidates, key=checkpointed_best_val_loss) if candidates else None


def finish_parent(client, outcome: SweepOutcome, results, prepared: PreparedSweep) -> None:
    """Put the sweep's result on the parent run: best metrics and test metrics, config, model."""
    from mlflow.entities import Metric, RunTag

    from pipelines import serving
    from pipelines.sweep_report import log_sweep_report
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
    extras = task.summarize_best(model, data, best.config) if task.summarize_best else {}
    outcome.best_metrics.update(extras.get("metrics", {}))
    metrics += [Metric(k, float(v), stamp, 0) for k, v in outcome.best_metrics.items()]
    config_text = yaml.safe_dump(best.config, sort_keys=False)
    (outcome.sweep_dir / "best_config.yaml").write_text(config_text)
    # The best config as tags, not params: a resumed sweep may find a better one, and MLflow params
    # cannot change.
    client.log_batch(parent_id, metrics=metrics,
                     tags=[RunTag(f"best.{k}", str(v)) for k, v in best.config.items()] +
                          [RunTag("hpo.status", "completed"), RunTag("hpo.best_trial", str(outcome.best.number)),
                           RunTag("hpo.best_trial_id", outcome.best.trial_id)])
    client.log_text(parent_id, config_text, "best_config.yaml")
    for file_name, text in extras.get("texts", {}).items():
        client.log_text(parent_id, text, file_name)
    serving.log_model(task, model, data, best.config, parent_id)
    client.log_batch(parent_id, tags=[RunTag(f"hpo.{k}", v) for k, v in serving.code_version().items()])
    log_sweep_report(client, outcome, rungs=scheduler_for(prepared.settings, prepared.max_epochs)[1])
    client.set_terminated(parent_id, "FINISHED")
