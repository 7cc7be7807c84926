"""The live line on the terminal while a sweep runs: trials by outcome, the best so far, and the time left."""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

from ray.tune import Callback

from pipelines.engine.outcomes import outcome_of, trial_label
from trainables.metrics import Objective

TTY_REFRESH_SECONDS = 0.5    # how often the live line is redrawn on a terminal
LOG_REFRESH_SECONDS = 15.0   # without a terminal, a line this often (and one per finished trial)
RUNNING_SHOWN = 4            # running trials whose epoch the line shows
LINE_METRICS = 2             # of a task's metrics, the first this many follow the best value on the line
LONG_EPOCH_SECONDS = 10.0    # a running trial this long into an epoch shows how far into it it is


class LiveView(Callback):
    """Counts trials by outcome and keeps the best so far, from Tune's events."""

    def __init__(self, total: int, metrics: tuple[str, ...], number_of, stream=None,
                 objective: Objective = Objective(), time_budget: float | None = None):
        self.total = total
        self.time_budget = time_budget
        self.metrics = tuple(m for m in metrics if m != objective.metric)
        self.objective = objective
        self.number_of = number_of
        self._stream = stream  # None: whatever sys.stderr is when drawing (Tune pickles its callbacks)
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.outcomes: dict[str, str] = {}     # trial id -> completed / early_stopped / failed
        self.done_before = 0                   # trials a resumed sweep had finished before this run
        self.looked_back = False               # those trials counted (at the first step)
        self.epochs: dict[str, EpochClock] = {}  # running trial id -> where it is in its epochs
        self.running = 0
        self.best: tuple[float, str, dict] | None = None

    @property
    def stream(self):
        return self._stream or sys.stderr

    def __getstate__(self):
        return {**self.__dict__, "_stream": None}

    def __setstate__(self, state):
        # Unpickled when a sweep is resumed; one saved before --metric ranked by val_loss.
        self.__dict__.update({"objective": Objective(), "time_budget": None, "epochs": {}, **state})
        self.started = time.monotonic()  # this run's clock: the time left is this run's
        self.epochs = {}  # their clocks were another process's; the running trials start again
        self.done_before = len(self.outcomes)
        self.looked_back = False

    def count_done_before(self, records) -> None:
        """Count trials that ended before a resume though Tune does not know them (pipelines.engine.unsaved_trials)."""
        for record in records:
            self.done_before += record.trial_id not in self.outcomes
            self.outcomes[record.trial_id] = record.status
            # Named by its label: the searcher, which names the others, does not know it.
            self.consider_best(trial_label(record.number, record.trial_id),
                               {self.objective.best: record.best, **{f"best_{k}": v for k, v in record.metrics.items()}})

    def on_trial_start(self, iteration, trials, trial, **info):
        self.outcomes.pop(trial.trial_id, None)  # retried after an error: not done after all
        restored = int((trial.last_result or {}).get("epoch", 0) or 0)  # a trial resumed from its checkpoint
        self.epochs[trial.trial_id] = EpochClock(restored, int(trial.config.get("epochs", 0) or 0), time.monotonic())

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if "epoch" in result:
            clock = self.epochs.get(trial.trial_id)
            self.epochs[trial.trial_id] = EpochClock.after(clock, int(result["epoch"]),
                                                           int(trial.config.get("epochs", 0) or 0))
        self.consider_best(trial.trial_id, result)

    def consider_best(self, trial_id: str, result: dict) -> None:
        value = result.get(self.objective.best)
        if isinstance(value, float) and math.isfinite(value) and (
                self.best is None or self.objective.loss(value) < self.objective.loss(self.best[0])):
            self.best = (value, trial_id, result)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.epochs.pop(trial.trial_id, None)
        self.outcomes[trial.trial_id] = outcome_of(trial.last_result)
        self.draw(force=not self.tty)

    def on_trial_error(self, iteration, trials, trial, **info):
        self.epochs.pop(trial.trial_id, None)
        self.outcomes[trial.trial_id] = "failed"
        self.draw(force=not self.tty)

    def on_step_end(self, iteration, trials, **info):
        if not self.looked_back:  # once: the trials a resumed sweep finished before, of which Tune sends no event
            self.looked_back = True
            for trial in trials:
                if trial.status in ("TERMINATED", "ERROR") and trial.trial_id not in self.outcomes:
                    ended = "failed" if trial.status == "ERROR" else outcome_of(trial.last_result)
                    self.outcomes[trial.trial_id] = ended
                    self.done_before += 1
                    self.consider_best(trial.trial_id, trial.last_result or {})
        self.running = sum(1 for t in trials if t.status == "RUNNING" and t.trial_id not in self.outcomes)
        self.draw()

    def on_experiment_end(self, trials, **info):
        self.draw(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        counts = {k: sum(1 for v in self.outcomes.values() if v == k) for k in ("completed", "early_stopped", "failed")}
        elapsed = time.monotonic() - self.started
        running = min(self.running, self.total - len(self.outcomes))  # Tune may still show an ended one running
        text = (f"[{elapsed:6.1f}s] trials {len(self.outcomes)}/{self.total} done "
                f"({counts['completed']} completed, {counts['early_stopped']} stopped early, "
                f"{counts['failed']} failed), {running} running")
        left = self.time_left(elapsed)
        if left is not None:
            text += f", ~{duration(left)} left"
        if self.epochs:  # how far the running trials are: the line moves while long trials run
            now = time.monotonic()
            text += " (epochs " + ", ".join(c.shown(now) for c in list(self.epochs.values())[:RUNNING_SHOWN]) + ")"
        if self.best is not None:
            value, trial_id, result = self.best
            number = self.number_of(trial_id)
            # the other metrics at the same (best) epoch
            extra = "".join(f", {m} {result[f'best_{m}']:.4g}" for m in self.metrics[:LINE_METRICS]
                            if isinstance(result.get(f"best_{m}"), float))
            text += f" | best {self.objective.metric} {value:.4g} ({trial_label(number, trial_id)}{extra})"
        return text

    def time_left(self, elapsed: float) -> float | None:
        """Seconds until the sweep ends: the trials still to finish at this run's rate so far (known once
        one has finished), and no more than the time budget allows."""
        finished = len(self.outcomes) - self.done_before
        estimate = (self.total - len(self.outcomes)) * elapsed / finished if finished > 0 else None
        if self.time_budget is not None:
            budget_left = max(0.0, self.time_budget - elapsed)
            estimate = budget_left if estimate is None else min(estimate, budget_left)
        return None if estimate is None or len(self.outcomes) >= self.total else estimate

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < (TTY_REFRESH_SECONDS if self.tty else LOG_REFRESH_SECONDS):
            return
        self.last_draw = now
        self.stream.write(f"\r{self.line()}\033[K" if self.tty else self.line() + "\n")
        self.stream.flush()


@dataclass(frozen=True)
class EpochClock:
    """A running trial's epochs done, of how many, since when it is in the next one, and how long its last
    epoch took (None before it has reported)."""
    done: int
    of: int
    since: float
    epoch_seconds: float | None = None

    @classmethod
    def after(cls, before: "EpochClock | None", epoch: int, of: int) -> "EpochClock":
        now = time.monotonic()
        if before is None or epoch <= before.done:  # a trial restored from a checkpoint, say
            return cls(epoch, of, now)
        return cls(epoch, of, now, (now - before.since) / (epoch - before.done))

    def shown(self, now: float) -> str:
        """'7/40'; well into a long epoch '7.4/40' (its share of the last epoch's time) or, before a first
        report, '0/40 +1m05s'."""
        into, text = now - self.since, str(self.done)
        ending = self.of and self.done >= self.of  # its last epoch is done: no fraction past the end
        if into >= LONG_EPOCH_SECONDS and not ending:
            if not self.epoch_seconds:
                return f"{self.done}/{self.of} +{duration(into)}" if self.of else f"{self.done} +{duration(into)}"
            text = f"{self.done + math.floor(min(into / self.epoch_seconds, 0.9) * 10) / 10:.1f}"
        return f"{text}/{self.of}" if self.of else text


def duration(seconds: float) -> str:
    """45s, 3m10s, 1h02m."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
