"""Ray Tune's Tuner for a sweep: the trainable with its resources, and the Tuner built new or restored."""
from __future__ import annotations

from ray import tune

from pipelines.engine.internals import restored_callbacks, restored_searcher
from pipelines.engine.prepare import PreparedSweep
from pipelines.engine.schedulers import report_epochs, scheduler_for
from pipelines.engine.searcher import OptunaStudySearcher, TrialFolderName
from pipelines.engine.trial import run_trial

# Checkpoints Tune keeps per trial. Tune rewrites its whole experiment state whenever one trial has made
# this many checkpoints since the last rewrite: with 1 at every checkpoint, so the saved state knows every
# trial that has ended and `hpo resume` after a crash neither loses nor repeats one (docs/benchmarks.md, scale).
CHECKPOINTS_KEPT = 1


def trainable_for(prepared: PreparedSweep):
    """The trial function with the task and data bound, and the CPUs and GPU share each trial holds."""
    s = prepared.settings
    return tune.with_resources(
        tune.with_parameters(run_trial, task=prepared.registered.task, data=prepared.data,
                             cpus=s.cpus_per_trial, report_epochs=report_epochs(s, prepared.max_epochs),
                             objective=prepared.objective),
        {"cpu": s.cpus_per_trial, "gpu": s.gpus_per_trial})


def new_tuner(prepared: PreparedSweep, searcher: OptunaStudySearcher, concurrency: int, callbacks: list):
    s, objective = prepared.settings, prepared.objective
    return tune.Tuner(
        trainable_for(prepared),
        tune_config=tune.TuneConfig(metric=objective.metric, mode=objective.mode, search_alg=searcher,
                                    scheduler=scheduler_for(s, prepared.max_epochs), num_samples=s.trials,
                                    max_concurrent_trials=concurrency, time_budget_s=s.time_budget,
                                    reuse_actors=True, trial_dirname_creator=TrialFolderName(s.seed)),
        run_config=tune.RunConfig(name=s.name, storage_path=s.storage, verbose=0, callbacks=callbacks,
                                  failure_config=tune.FailureConfig(max_failures=s.max_failures),
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=CHECKPOINTS_KEPT)))


def restore_tuner(prepared: PreparedSweep, searcher: OptunaStudySearcher, concurrency: int, callbacks: list):
    """The sweep's saved Tuner, with the searcher and callbacks it restored: finished trials stay
    finished, unfinished ones go on from their last checkpoint.

    Tune's tuner.pkl is written anew first, from the sweep's settings and with the searcher and
    callbacks given: the saved one holds the study's and the MLflow store's paths as they were when
    the sweep began (a moved or copied folder would write there), and may be damaged or missing."""
    new_tuner(prepared, searcher, concurrency, callbacks)  # its constructor writes tuner.pkl
    tuner = tune.Tuner.restore(str(prepared.sweep_dir), trainable=trainable_for(prepared),
                               resume_unfinished=True, resume_errored=False, restart_errored=False)
    return tuner, restored_searcher(tuner), restored_callbacks(tuner)
