"""A new sweep from start to end, and the drive of any sweep (new or resumed, pipelines.engine.resume) to its result.

MLflow is imported inside functions on this path (here and in pipelines.tracking): its import takes
seconds, and a sweep makes it in a thread beside Ray's start.
"""
from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from pipelines.engine import interrupts, study_file, sweep_folder
from pipelines.engine.finish import finish_parent
from pipelines.engine.prepare import PreparedSweep, model_params, prepare, sweep_params
from pipelines.engine.ray_session import configure_environment, session
from pipelines.engine.results import SweepOutcome, collect_trials
from pipelines.engine.searcher import (
    STUDY_READY,
    OptunaStudySearcher,
    close_lost,
    make_sampler,
    open_study,
    search_note,
)
from pipelines.engine.settings import SweepSettings
from pipelines.engine.tuner import new_tuner
from pipelines.errors import InputError
from pipelines.reporting.live_view import LiveView
from pipelines.tracking import store
from pipelines.tracking.patience import StoreUnavailable
from pipelines.tracking.runs import close_running_trials
from pipelines.tracking.trial_logger import TrialLogger
from trainables.folds import whole


def _set_up_tracking(tracking_uri: str, write: bool, out: dict) -> None:
    """MLflow's set-up, run beside Ray's start: its imports (seconds), and with `write` the client
    and store (a new SQLite store runs its schema migrations: seconds more)."""
    try:
        import mlflow.pytorch  # noqa: F401
        import mlflow.tracking  # noqa: F401

        if write:
            out["client"] = store.client_for(tracking_uri)
    except BaseException as exc:  # raised again in the main thread
        out["error"] = exc


def run_sweep(settings: SweepSettings, echo=print, prepared: PreparedSweep | None = None) -> SweepOutcome:
    """A new sweep from its settings (or from them already prepared: checked, data loaded)."""
    configure_environment()
    prepared = prepared or prepare(settings)
    s = prepared.settings
    # The folder, its lock and the settings come first: from here on a crash at any moment leaves a sweep
    # that `hpo resume` carries on, and a second sweep of the same name is refused.
    made_storage = not Path(s.storage).exists()
    sweep_folder.claim(prepared.sweep_dir)
    try:
        return start_claimed(prepared, made_storage, echo)
    finally:
        sweep_folder.release(prepared.sweep_dir)


def start_claimed(prepared: PreparedSweep, made_storage: bool, echo) -> SweepOutcome:
    """run_sweep once the sweep's folder is claimed: its settings saved, Ray started, the sweep run."""
    s = prepared.settings
    save_settings(prepared, sweep_params(prepared, s.concurrency))
    # The store may be written before Ray has started only where Ray cannot reject the input: a new
    # local Ray always has the one CPU a trial asks for by default. Otherwise only the imports overlap.
    write_early = s.address is None and s.cpus_per_trial <= 1 and s.gpus_per_trial == 0
    tracking_ready: dict = {}
    beside = threading.Thread(target=_set_up_tracking, args=(s.tracking_uri, write_early, tracking_ready),
                              daemon=True)
    beside.start()
    try:
        capacity = session.start(s, prepared, echo)
    except InputError:  # the cluster cannot serve these settings: the sweep never began
        beside.join()
        discard(prepared.sweep_dir, made_storage)
        raise
    finally:
        beside.join()
    if "error" in tracking_ready:
        raise tracking_ready["error"]
    # `--gpus-per-trial auto` is the one setting known only once Ray runs.
    prepared = dataclasses.replace(prepared, settings=dataclasses.replace(s, gpus_per_trial=capacity.gpus_per_trial))
    concurrency = min(s.concurrency or capacity.trials_at_once, s.trials)
    return execute(prepared, concurrency, echo, tracking_ready.get("client"))


def discard(sweep_dir: Path, made_storage: bool) -> None:
    """Remove the folder of a sweep that never began (it holds its settings and lock only), and the
    storage folder if the claim made it."""
    sweep_folder.release(sweep_dir)
    shutil.rmtree(sweep_dir, ignore_errors=True)
    if made_storage:
        with contextlib.suppress(OSError):
            sweep_dir.parent.rmdir()


def save_settings(prepared: PreparedSweep, params: dict) -> None:
    """sweep_config.yaml, and the --space file's copy beside it (a resume does not depend on the original)."""
    copy = params.get("space")
    if copy and Path(prepared.settings.space) != Path(copy):
        shutil.copyfile(prepared.settings.space, copy)
    sweep_folder.write_config(prepared.sweep_dir, params)


def execute(prepared: PreparedSweep, concurrency: int, echo, client=None, parent=None) -> SweepOutcome:
    """Write the sweep's study and parent run (a resumed sweep that never began may have them already), then
    drive a new Tuner."""
    s, task, sweep_dir = prepared.settings, prepared.registered.task, prepared.sweep_dir
    client = client or store.client_for(s.tracking_uri)
    experiment = parent.info.experiment_id if parent else store.experiment_id(client, task.name, s.tracking_uri)
    params = sweep_params(prepared, concurrency)
    save_settings(prepared, params)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    searcher = searcher_for(prepared, start_study(prepared))
    if parent is None:
        parent = client.create_run(experiment, run_name=s.name, tags={
            "hpo.sweep": s.name, "hpo.task": task.name, "hpo.role": "sweep", "hpo.storage": str(sweep_dir)})
        client.log_batch(parent.info.run_id, params=store.params_of(params))
    elif "task" not in parent.data.params:  # a resume of a sweep killed as its parent run was made
        client.log_batch(parent.info.run_id, params=store.params_of(params))
    client.log_artifact(parent.info.run_id, str(sweep_dir / sweep_folder.CONFIG_FILE))
    parent_id = parent.info.run_id
    objective = prepared.objective
    echo(f"sweep {s.name}: task {task.name}, {s.trials} trials, {concurrency} at a time, "
         f"{search_note(s.search)}, {s.scheduler} scheduler, "
         + (f"{s.cv}-fold cross-validation" if s.cv else "the single validation split")
         + f", objective {objective.metric} ({objective.mode})")
    echo(f"  storage  {sweep_dir}\n  mlflow   {s.tracking_uri} (experiment {task.name!r}, run {s.name!r})")
    if prepared.warm_trials:
        echo(f"  warm     {len(prepared.warm_trials)} finished trials of {s.warm_start} told to the study")
    data = whole(prepared.data)
    if hasattr(data, "preprocessing_report"):  # what became of each column of a table
        client.log_dict(parent_id, data.preprocessing_report(), store.PREPROCESSING_FILE)
    for note in getattr(data, "notes", ()):
        echo(f"  data     {note}")

    tuner = new_tuner(prepared, searcher, concurrency, callbacks_for(prepared, searcher, client, experiment, parent_id))
    outcome = SweepOutcome(s.name, task.name, sweep_dir, s.tracking_uri, parent_id, experiment, objective=objective)
    return drive(tuner, searcher, client, outcome, prepared)


def start_study(prepared: PreparedSweep) -> optuna.Study:
    """The sweep's Optuna study with what it starts from: the warm-start trials, the enqueued configs and the
    task's linear first trial. It is marked ready once they are all in, so a sweep killed while making it
    makes it again; trials a crash left RUNNING before Tune saved anything are closed as FAIL."""
    s = prepared.settings
    storage = prepared.sweep_dir / study_file.STUDY_FILE
    sampler = make_sampler(s.search, s.seed, s.trials, prepared.grid)
    study = open_study(s.name, storage, sampler, prepared.objective.mode)
    if study.user_attrs.get(STUDY_READY):
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            close_lost(study, trial)
        return study
    if study.trials:  # made in part
        optuna.delete_study(study_name=s.name, storage=study_file.storage(storage))
        study = open_study(s.name, storage, sampler, prepared.objective.mode)
    study.add_trials(prepared.warm_trials)  # told, not run: the sampler starts from them
    for config in prepared.enqueued:
        study.enqueue_trial(config)
    if prepared.registered.first_trial and not s.space and not prepared.caps and s.search != "grid":
        # The search starts from the task's first trial, e.g. a linear model (a --space file or --max-epochs
        # may exclude it).
        study.enqueue_trial(prepared.registered.first_trial)
    study.set_user_attr(STUDY_READY, True)
    return study


def searcher_for(prepared: PreparedSweep, study: optuna.Study) -> OptunaStudySearcher:
    s, objective = prepared.settings, prepared.objective
    return OptunaStudySearcher(study, prepared.registered.define_space, metric=objective.metric,
                               mode=objective.mode, seed=s.seed, overrides=prepared.overrides, caps=prepared.caps,
                               grid=s.search == "grid", constants={"patience": s.patience} if s.patience else {})


def callbacks_for(prepared: PreparedSweep, searcher, client, experiment: str, parent_id: str) -> list:
    """Tune's callbacks of the sweep: its MLflow runs and its live line."""
    s, task = prepared.settings, prepared.registered.task
    logger = TrialLogger(client, experiment, parent_id, s.name, task.name, task.metrics, searcher.number_of)
    live = LiveView(s.trials, task.metrics, searcher.number_of, objective=prepared.objective,
                    time_budget=s.time_budget)
    return [logger, live]


def drive(tuner, searcher, client, outcome: SweepOutcome, prepared: PreparedSweep) -> SweepOutcome:
    """Run a (new or restored) Tuner to its end and put the result on the parent run.

    Ctrl-C: the first press ends the sweep with its state saved and its runs marked interrupted;
    a second press aborts at once. Either way `hpo resume` continues it.
    """
    from mlflow.entities import RunTag

    started = time.monotonic()
    experiment, parent_id = outcome.experiment_id, outcome.parent_run_id
    outcome.model_params = model_params(prepared.registered)
    try:
        with interrupts.guard:
            results = tuner.fit()
            interrupted = interrupts.guard.pressed()
        outcome.seconds = time.monotonic() - started
        outcome.trials = collect_trials(results, searcher.number_of, prepared.registered.task.metrics,
                                        prepared.objective)
        # Tune knows a kept trial after all where a kill came between the writes of its last save.
        outcome.trials += [t for t in outcome.unsaved if t.trial_id not in {r.trial_id for r in outcome.trials}]
        if interrupted:
            outcome.interrupted = True
            # Trials the searcher still holds were cut short: `hpo resume` continues them.
            outcome.trials = [dataclasses.replace(t, status="interrupted") if t.trial_id in searcher.live else t
                              for t in outcome.trials]
            client.log_batch(parent_id, tags=[RunTag("hpo.status", "interrupted")])
            client.set_terminated(parent_id, "KILLED")
            return outcome
        searcher.close()
        ending = session.end_beside()
        try:
            # Runs still open now (RUNNING, or KILLED by an abort and not resumed) belong to trials a
            # crash or an abort lost before Tune saved them.
            close_running_trials(client, experiment, parent_id, "failed",
                                 "lost: the sweep ended before saving this trial", open_statuses=("RUNNING", "KILLED"))
            finish_parent(client, outcome, results, prepared)
        finally:
            if ending is not None:
                ending.join()
    except KeyboardInterrupt:
        # The second Ctrl-C. It may have cut an MLflow write short and left a SQLite store locked for
        # this process, so closing the runs is best effort and gives up at the first failure:
        # `hpo resume` reopens or closes whatever stays open.
        quick = getattr(client, "impatient", client)  # an abort does not wait for a busy store
        with contextlib.suppress(Exception):
            quick.log_batch(parent_id, tags=[RunTag("hpo.status", "interrupted")])
            quick.set_terminated(parent_id, "KILLED")
            close_running_trials(quick, experiment, parent_id, "interrupted")
        raise
    except StoreUnavailable:
        raise  # nothing more can be written; Tune saved the sweep's state as it went: `hpo resume` goes on
    except BaseException:
        with contextlib.suppress(Exception):  # the error itself is what the user must see
            getattr(client, "impatient", client).set_terminated(parent_id, "FAILED")
        raise
    return outcome
