"""A Ray Tune searcher that drives an Optuna study by ask-and-tell, with a define-by-run space.

Ray's own OptunaSearch tells Optuna that a trial ASHA stopped is COMPLETE with its low-budget value,
which misleads TPE. Here such a trial is told PRUNED, after its per-epoch values were reported as
intermediate values; a trial that ended itself (epoch budget or patience) is COMPLETE with its best
value of the objective (`--metric`, val_loss by default), and a trial that raised is FAIL. The study
lives in the sweep's folder (pipelines.engine.study_file), so it outlasts the sweep.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna
from optuna.trial import TrialState
from ray.tune.search import Searcher

from pipelines.engine import study_file
from pipelines.engine.internals import grid_point_of, optuna_trial_of
from pipelines.engine.outcomes import epochs_of, outcome_of, trial_label
from search_spaces.space import ParamSpec, Space

# What a sampler with a joint model of the params does with those outside it: Optuna's independent
# sampler (random) takes them.
OUTSIDE_JOINT = {"gp": "conditional params, such as per-layer widths, sampled at random",
                 "cmaes": "categorical and conditional params sampled at random",
                 "qmc": "categorical and conditional params sampled at random"}
STUDY_READY = "hpo.ready"   # a study's user attribute: what it starts from is all in (sweep.start_study)
LOST_ATTR = "hpo.lost"      # a trial's user attribute: closed by a resume as lost before it ran (close_lost)


def startup_trials(trials: int) -> int:
    """Random start-up trials of a model-based sampler: Optuna's 10, fewer for a small budget."""
    return max(3, min(10, trials // 3))


class TuneGridSampler(optuna.samplers.GridSampler):
    """Optuna's grid, without its stop() once every point is taken: that works only inside
    study.optimize() and raises otherwise (here Tune's num_samples, the grid's size, ends the sweep)."""

    def after_trial(self, study, trial, state, values) -> None:
        pass


def close_lost(study: optuna.Study, frozen) -> None:
    """Close as FAIL a trial that a crash lost before Tune saved it, and queue its config again where the
    study gave it on purpose (an enqueued config, the first trial, a grid point): else it never runs,
    since a grid counts a failed point as visited."""
    optuna_trial_of(study, frozen).set_user_attr(LOST_ATTR, True)
    study.tell(frozen.number, state=TrialState.FAIL)
    again = frozen.system_attrs.get("fixed_params") or grid_point_of(study.sampler, frozen)
    if again:
        study.enqueue_trial(again)


def make_sampler(search: str, seed: int, trials: int, grid: dict | None = None) -> optuna.samplers.BaseSampler:
    """Optuna's sampler for --search, seeded; `grid` is the grid of --search grid (search_spaces.grid)."""
    if search == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if search == "grid":
        return TuneGridSampler(grid, seed=seed)
    with warnings.catch_warnings():  # multivariate/group, GP and QMC are flagged experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if search == "gp":
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup_trials(trials),
                                             warn_independent_sampling=False)
        if search == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup_trials(trials),
                                                warn_independent_sampling=False)
        if search == "qmc":
            return optuna.samplers.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False,
                                              warn_asynchronous_seeding=False)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(trials),
                                          multivariate=True, group=True, constant_liar=True)


def search_note(search: str) -> str:
    """What the sweep's header line says of its search method."""
    return f"{search} search" + (f" ({OUTSIDE_JOINT[search]})" if search in OUTSIDE_JOINT else "")


def open_study(name: str, path: Path, sampler, mode: str) -> optuna.Study:
    """The study `name` in the journal file at `path`, made where it is not there yet."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # not a line per study opened
    return optuna.create_study(study_name=name, storage=study_file.storage(path), sampler=sampler,
                               load_if_exists=True, direction="minimize" if mode == "min" else "maximize")


class OptunaStudySearcher(Searcher):
    grid = False        # class defaults: a searcher pickled before these settings existed lacks them
    constants: dict = {}

    def __init__(self, study: optuna.Study, define: Callable[[Space], dict], *, metric: str, mode: str,
                 seed: int, overrides: dict[str, ParamSpec] | None = None, caps: dict | None = None,
                 grid: bool = False, constants: dict | None = None):
        super().__init__(metric=metric, mode=mode)
        self.study = study
        self.define = define
        self.seed = seed
        self.overrides = overrides or {}
        self.caps = caps or {}
        self.grid = grid                            # --search grid: params outside the grid at their defaults
        self.constants = constants or {}            # keys every config carries besides the params (patience)
        self.live: dict[str, optuna.Trial] = {}     # Ray trial id -> its running Optuna trial
        self.numbers: dict[str, int] = {}           # Ray trial id -> Optuna trial number, kept
        self.last_step: dict[str, int] = {}         # Ray trial id -> last epoch told to Optuna

    def suggest(self, trial_id: str) -> dict:
        trial = self.study.ask()
        config = self.define(Space(trial, self.overrides, self.caps, grid=self.grid))
        config.update(self.constants)
        config["seed"] = self.seed + trial.number  # each trial its own seed (TrialFolderName reads it back)
        self.live[trial_id] = trial
        self.numbers[trial_id] = trial.number
        return config

    def number_of(self, trial_id: str) -> int | None:
        return self.numbers.get(trial_id)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        trial = self.live.get(trial_id)
        if trial is None:
            return
        for epoch in epochs_of(result):  # every epoch since the last report
            value, step = epoch.get(self.metric), epoch.get("epoch")
            if step is None or value is None or not math.isfinite(value):
                continue
            if int(step) > self.last_step.get(trial_id, 0):
                trial.report(float(value), int(step))
                self.last_step[trial_id] = int(step)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if result and not error:
            # The result on which ASHA says stop reaches only this method, not on_trial_result.
            self.on_trial_result(trial_id, result)
        trial = self.live.pop(trial_id, None)
        self.last_step.pop(trial_id, None)
        if trial is None:
            return
        outcome = outcome_of(result, error)
        if outcome == "failed":
            self.study.tell(trial, state=TrialState.FAIL)
        elif outcome == "completed" and math.isfinite(result.get(f"best_{self.metric}", math.nan)):
            self.study.tell(trial, float(result[f"best_{self.metric}"]))
        else:
            # Stopped from outside before its own end (ASHA, the time budget): its value is the
            # last intermediate value, and TPE weighs it as a pruned trial.
            self.study.tell(trial, state=TrialState.PRUNED)

    def close(self) -> None:
        """Tell the study about trials the sweep ended without a completion event (its time budget)."""
        for trial_id in list(self.live):
            self.on_trial_complete(trial_id)

    # Tune saves the searcher with its experiment state; the study itself is already on disk.
    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "w") as f:
            json.dump({"numbers": self.numbers, "live": {k: t.number for k, t in self.live.items()}}, f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path) as f:
            state = json.load(f)
        self.numbers = state["numbers"]
        # The sampler came back with the random state it had when the sweep began (Tune pickled it then):
        # reseeded, it does not draw again the configs of trials that ran before the resume.
        self.study.sampler.reseed_rng()
        by_number = {t.number: t for t in self.study.get_trials(deepcopy=False)}
        self.live = {k: optuna_trial_of(self.study, by_number[n]) for k, n in state["live"].items()
                     if n in by_number and by_number[n].state == TrialState.RUNNING}
        self.last_step = {k: max(by_number[self.numbers[k]].intermediate_values, default=0) for k in self.live}
        # Trials Optuna handed out that the saved sweep does not know (lost in a crash): close them.
        live_numbers = {t.number for t in self.live.values()}
        for trial in by_number.values():
            if trial.state == TrialState.RUNNING and trial.number not in live_numbers:
                close_lost(self.study, trial)

    def __deepcopy__(self, memo):
        # Tune's ConcurrencyLimiter deep-copies its state at every save of the experiment. There is one
        # searcher per sweep; a copy would reopen the study's storage for nothing.
        return self

    def __getstate__(self):
        # Tune pickles its search algorithm; live Optuna trials hold a storage connection.
        state = dict(self.__dict__)
        state["live"] = {}
        return state


@dataclass(frozen=True)
class TrialFolderName:
    """Ray Tune's folder of a trial, named like its MLflow run: trial-007_<Ray id>.

    Tune keeps this callable in every trial's saved state and saves all trials again and again, so it
    holds only the sweep's seed (a method of the searcher would carry the whole study into every
    trial's state: docs/benchmarks.md, scale). The trial's Optuna number comes back from its seed
    (OptunaStudySearcher.suggest: the sweep's seed plus the number).
    """
    sweep_seed: int

    def __call__(self, trial) -> str:
        seed = trial.config.get("seed")
        number = seed - self.sweep_seed if isinstance(seed, int) and seed >= self.sweep_seed else None
        return f"{trial_label(number, trial.trial_id)}_{trial.trial_id}" if number is not None else f"trial_{trial.trial_id}"
