"""The live line on the terminal while a sweep runs: trials by outcome, and the best so far."""
from __future__ import annotations

import math
import sys
import time

from ray.tune import Callback

from pipelines.engine.outcomes import outcome_of, trial_label
from trainables.metrics import Objective

TTY_REFRESH_SECONDS = 0.5    # how often the live line is redrawn on a terminal
LOG_REFRESH_SECONDS = 15.0   # without a terminal, a line this often (and one per finished trial)
LINE_METRICS = 2             # of a task's metrics, the first this many follow the best value on the line


class LiveView(Callback):
    """Counts trials by outcome and keeps the best so far, from Tune's events."""

    def __init__(self, total: int, metrics: tuple[str, ...], number_of, stream=None,
                 objective: Objective = Objective()):
        self.total = total
        self.metrics = tuple(m for m in metrics if m != objective.metric)
        self.objective = objective
        self.number_of = number_of
        self._stream = stream  # None: whatever sys.stderr is when drawing (Tune pickles its callbacks)
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.outcomes: dict[str, str] = {}     # trial id -> completed / early_stopped / failed
        self.running = 0
        self.best: tuple[float, str, dict] | None = None

    @property
    def stream(self):
        return self._stream or sys.stderr

    def __getstate__(self):
        return {**self.__dict__, "_stream": None}

    def on_trial_result(self, iteration, trials, trial, result, **info):
        value = result.get(self.objective.best)
        if isinstance(value, float) and math.isfinite(value) and (
                self.best is None or self.objective.loss(value) < self.objective.loss(self.best[0])):
            self.best = (value, trial.trial_id, result)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.outcomes[trial.trial_id] = outcome_of(trial.last_result)
        self.draw(force=not self.tty)

    def on_trial_error(self, iteration, trials, trial, **info):
        self.outcomes[trial.trial_id] = "failed"
        self.draw(force=not self.tty)

    def on_step_end(self, iteration, trials, **info):
        self.running = sum(1 for t in trials if t.status == "RUNNING" and t.trial_id not in self.outcomes)
        self.draw()

    def on_experiment_end(self, trials, **info):
        self.draw(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        counts = {k: sum(1 for v in self.outcomes.values() if v == k) for k in ("completed", "early_stopped", "failed")}
        text = (f"[{time.monotonic() - self.started:6.1f}s] trials {len(self.outcomes)}/{self.total} done "
                f"({counts['completed']} completed, {counts['early_stopped']} stopped early, "
                f"{counts['failed']} failed), {self.running} running")
        if self.best is not None:
            value, trial_id, result = self.best
            number = self.number_of(trial_id)
            # the other metrics at the same (best) epoch
            extra = "".join(f", {m} {result[f'best_{m}']:.4g}" for m in self.metrics[:LINE_METRICS]
                            if isinstance(result.get(f"best_{m}"), float))
            text += f" | best {self.objective.metric} {value:.4g} ({trial_label(number, trial_id)}{extra})"
        return text

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < (TTY_REFRESH_SECONDS if self.tty else LOG_REFRESH_SECONDS):
            return
        self.last_draw = now
        self.stream.write(f"\r{self.line()}\033[K" if self.tty else self.line() + "\n")
        self.stream.flush()
