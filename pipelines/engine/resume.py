"""`hpo resume`: a saved sweep carried on from its folder, whatever moment it stopped at.

Every file it needs is checked first (pipelines.engine.sweep_folder); it writes only into the folder it
is given and the store it is given (else the one the sweep ran with), whatever paths Tune's saved state
holds.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from pipelines.engine import study_file, sweep_folder
from pipelines.engine.internals import saved_search_state, saved_trial_count, set_saved_trial_budget
from pipelines.engine.outcomes import trial_label
from pipelines.engine.prepare import prepare
from pipelines.engine.ray_session import configure_environment, session
from pipelines.engine.results import SweepOutcome
from pipelines.engine.searcher import make_sampler, open_study
from pipelines.engine.settings import SweepSettings, check_name
from pipelines.engine.study_rebuild import rebuild_study
from pipelines.engine.sweep import callbacks_for, drive, execute, save_settings, searcher_for
from pipelines.engine.tuner import restore_tuner
from pipelines.engine.unsaved_trials import close_and_record, trial_runs_by_number, unsaved_trials
from pipelines.errors import UsageError
from pipelines.reporting.live_view import LiveView
from pipelines.tracking import store
from pipelines.tracking.runs import find_sweep, find_sweep_or_none


def saved_settings(saved: sweep_folder.SavedSweep, tracking_uri: str | None) -> SweepSettings:
    """The settings a saved sweep ran with, for the folder where it is now: its storage is the folder it
    was found in (moved or copied, it writes there, never where it was) and its --space the copy in it."""
    config = saved.config
    fields = {k: config[k] for k in SweepSettings.__dataclass_fields__ if k in config}
    fields.update(storage=str(saved.folder.parent), tracking_uri=tracking_uri or config.get("tracking_uri"))
    if config.get("space"):
        fields["space"] = str(saved.folder / "space.yaml")
    return SweepSettings(**fields)


def check_records_are_its_own(sweep_dir: Path, saved, parent, client, tracking_uri: str) -> None:
    """A resume must not write into another sweep's records: refuse a copied folder whose original still
    holds the sweep, in the store that original writes to; and a SQLite store whose artifact folder is
    not beside it (a copied or moved store: MLflow would write the model into the old place)."""
    recorded = Path(parent.data.tags.get("hpo.storage") or sweep_dir)
    original = recorded / sweep_folder.CONFIG_FILE
    if original.is_file() and not recorded.samefile(sweep_dir) \
            and same_store(tracking_uri, sweep_folder.read_config(original, sweep_dir.name).get("tracking_uri")):
        raise UsageError(f"'{sweep_dir}' is a copy of the sweep in '{recorded}', which is still there, and the "
                         f"MLflow store {tracking_uri} holds that sweep's runs: resuming the copy would write "
                         "into them. Resume the original, or give the copy a store of its own (--tracking-uri).")
    artifacts = client.get_experiment(parent.info.experiment_id).artifact_location
    beside = store.artifact_location(tracking_uri, client.get_experiment(parent.info.experiment_id).name)
    if beside is not None and artifacts.startswith("file:") and artifacts != beside:
        raise UsageError(f"The MLflow store {tracking_uri} keeps this sweep's artifacts in {artifacts}, not beside "
                         "itself (the store was copied or moved from there): a resume would write the sweep's "
                         "model there. Resume with the store where it was made.")


def same_store(one: str, other: str | None) -> bool:
    """Whether two tracking URIs name one store (a SQLite file reached by two paths is one store)."""
    prefix = "sqlite:///"
    if other and one.startswith(prefix) and other.startswith(prefix):
        a, b = Path(one[len(prefix):]), Path(other[len(prefix):])
        return a.exists() and b.exists() and a.samefile(b)
    return one == other


def raise_budget(sweep_dir: Path, trials: int, given_out: int) -> None:
    """Set a saved sweep's trial budget so that Tune makes `trials` in all: the study simply goes on.
    `given_out`: how many trials the searcher's saved state knows. Tune's own count of the trials it made
    may be older (a kill between the writes of one save): it makes only what is left."""
    path = saved_search_state(sweep_dir)
    if path is None:
        raise UsageError(f"The sweep in '{sweep_dir}' has no saved search state to continue.")
    made = saved_trial_count(path)
    set_saved_trial_budget(path, max(made, made + trials - given_out))


def resume_sweep(name: str, storage: str | None, tracking_uri: str | None, trials: int | None = None,
                 echo=print) -> SweepOutcome | None:
    """Continue a sweep that was interrupted or crashed: finished trials stay finished, unfinished ones
    restart from their last checkpoint, the study goes on, MLflow runs are reopened, not duplicated.
    None, with nothing touched, for a sweep that completed its budget (no --trials above it).

    Every file it needs is checked first; it writes only into the folder it was given and the store it
    was given (else the one the sweep ran with), whatever paths Tune's saved state holds."""
    configure_environment()
    check_name(name)
    sweep_dir = Path(storage or "ray_results").expanduser().resolve() / name
    if not sweep_dir.is_dir():
        raise UsageError(f"No sweep named {name!r} to resume in '{sweep_dir.parent}'; give --storage DIR where it ran.")
    sweep_folder.hold(sweep_dir)  # first: the files of a sweep that still runs are not read as damaged
    try:
        saved = sweep_folder.read_saved(sweep_dir)
        settings = saved_settings(saved, tracking_uri)
        if trials is not None and trials < settings.trials:
            raise UsageError(f"The --trials of a resumed sweep must be at least its budget of {settings.trials}, "
                             f"got {trials}.")
        return resume_held(saved, settings, trials, echo)
    finally:
        sweep_folder.release(sweep_dir)


def resume_held(saved: sweep_folder.SavedSweep, settings: SweepSettings, trials: int | None,
                echo) -> SweepOutcome | None:
    """resume_sweep once the sweep's lock is held."""
    from mlflow.entities import RunTag

    name, sweep_dir = settings.name, saved.folder
    prepared = prepare(dataclasses.replace(settings, trials=trials or settings.trials), new_sweep=False,
                       given_trials=not saved.started)
    s = prepared.settings
    client = store.client_for(s.tracking_uri)
    parent = find_sweep(client, name) if saved.started else find_sweep_or_none(client, name)
    if parent is not None:
        check_records_are_its_own(sweep_dir, saved, parent, client, s.tracking_uri)
    finished = (parent is not None and parent.info.status == "FINISHED"  # a crash may come between the two
                and parent.data.tags.get("hpo.status") == "completed")
    if finished and s.trials <= settings.trials:
        echo(f"sweep {name} is complete: its {settings.trials} trials ran, nothing was changed; to run more, "
             f"give --trials N above {settings.trials}")
        return None
    sweep_folder.name_holder(sweep_dir)  # from here on it writes: a refusal above left the lock file as it was
    capacity = session.start(s)
    study_file.mend(sweep_dir / study_file.STUDY_FILE)  # what a writer killed mid-write left
    if saved.started and not saved.has_study:
        told = rebuild_study(prepared, client, parent)
        echo(f"  {study_file.STUDY_FILE} was missing: the study was rebuilt from {told} MLflow runs of its trials")
    # Where it runs now and with which store: a copy resumed with a store of its own keeps to it.
    save_settings(prepared, {**saved.config, **{k: v for k, v in dataclasses.asdict(s).items()
                                                if k in ("trials", "storage", "tracking_uri", "space") and v}})
    if parent is not None:
        client.update_run(parent.info.run_id, status="RUNNING")
        client.log_batch(parent.info.run_id, tags=[RunTag("hpo.status", "running"), RunTag("hpo.trials", str(s.trials)),
                                                   RunTag("hpo.storage", str(sweep_dir))])
    echo(f"resuming sweep {name}: task {s.task}\n  storage  {sweep_dir}\n  mlflow   {s.tracking_uri}")
    concurrency = min(saved.config.get("concurrency") or capacity.trials_at_once, s.trials)
    if not saved.started:
        echo("  Tune had saved no trial yet: the sweep starts now, with its saved settings")
        return execute(prepared, concurrency, echo, client, parent)

    study = open_study(name, sweep_dir / study_file.STUDY_FILE,
                       make_sampler(s.search, s.seed, s.trials, prepared.grid), prepared.objective.mode)
    runs = trial_runs_by_number(client, parent.info.experiment_id, parent.info.run_id)
    unsaved = unsaved_trials(study, saved.known_numbers, runs)
    # The trial budget goes into Tune's saved search state whatever it held (a state saved just as the
    # sweep began counts only the trials made by then), less the trials that ended after its last save.
    raise_budget(sweep_dir, s.trials - len(unsaved), given_out=len(saved.known_numbers))
    kept = close_and_record(client, unsaved, runs, prepared.registered.task.metrics, prepared.objective)
    if kept:
        echo("  ended after Tune last saved the sweep, kept from the study and not run again (their models are "
             "not candidates for the final model): " + ", ".join(trial_label(r.number, r.trial_id) for r in kept))
    searcher = searcher_for(prepared, study)
    callbacks = callbacks_for(prepared, searcher, client, parent.info.experiment_id, parent.info.run_id)
    tuner, searcher, callbacks = restore_tuner(prepared, searcher, concurrency, callbacks)
    for callback in callbacks:
        if isinstance(callback, LiveView):
            callback.time_budget = None  # Tune restores what was left of it; the rate of this run says the rest
            callback.count_done_before(kept)
    outcome = SweepOutcome(name, prepared.registered.task.name, sweep_dir, s.tracking_uri, parent.info.run_id,
                           parent.info.experiment_id, objective=prepared.objective, unsaved=kept)
    return drive(tuner, searcher, client, outcome, prepared)
