"""The trial scheduler of a sweep (Ray's ASHA, asynchronous Hyperband, the median stopping rule, or none),
and the epochs at which it compares trials."""
from __future__ import annotations

from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler, MedianStoppingRule

from pipelines.engine.settings import SweepSettings

ASHA_GRACE_EPOCHS = 6       # epochs every trial gets before ASHA may stop it (2 stopped slow starters that
                            # won on small tables: docs/benchmarks.md, "Quality")
ASHA_REDUCTION_FACTOR = 3   # at each rung, ASHA keeps the top third
HYPERBAND_BRACKETS = 3      # hyperband: ASHA with brackets of grace, grace*rf, grace*rf^2 epochs before a first cut
MEDIAN_MIN_TRIALS = 3       # the median rule compares a trial with at least this many others' results


class MedianRule(MedianStoppingRule):
    """Ray's median stopping rule, which otherwise pauses a trial while fewer than min_samples_required
    others have results and any trial waits: with more trials than slots that pauses and restarts
    trials again and again. Here a trial goes on until there is a median to compare it with."""

    def _on_insufficient_samples(self, tune_controller, trial, time):
        return self.CONTINUE


def grace_epochs(s: SweepSettings, max_epochs: int) -> int:
    return min(s.grace_period or ASHA_GRACE_EPOCHS, max_epochs)


def reduction_factor(s: SweepSettings) -> int:
    return int(s.reduction_factor or ASHA_REDUCTION_FACTOR)


def rung_epochs(grace: int, reduction_factor: int, max_t: int) -> tuple[int, ...]:
    """The epochs at which ASHA compares a trial with the others: grace, grace*rf, grace*rf^2, ..."""
    epochs, epoch = [], grace
    while epoch < max_t:
        epochs.append(epoch)
        epoch *= reduction_factor
    return tuple(epochs)


def report_epochs(s: SweepSettings, max_epochs: int) -> tuple[int, ...]:
    """The epochs at which trials must report for the scheduler to act on them: ASHA's rungs (Hyperband's
    brackets put theirs on the same epochs), every epoch from the grace period on for the median rule."""
    if s.scheduler == "fifo":
        return ()
    grace = grace_epochs(s, max_epochs)
    if s.scheduler == "median":
        return tuple(range(grace, max_epochs))
    return rung_epochs(grace, reduction_factor(s), max_epochs)


def scheduler_for(s: SweepSettings, max_epochs: int):
    """Ray Tune's scheduler for the sweep's --scheduler (metric and mode come from the TuneConfig)."""
    if s.scheduler == "fifo":
        return FIFOScheduler()
    grace = grace_epochs(s, max_epochs)
    if s.scheduler == "median":
        return MedianRule(time_attr="epoch", grace_period=grace, min_samples_required=MEDIAN_MIN_TRIALS)
    return AsyncHyperBandScheduler(time_attr="epoch", max_t=max_epochs, grace_period=grace,
                                   reduction_factor=reduction_factor(s),
                                   brackets=HYPERBAND_BRACKETS if s.scheduler == "hyperband" else 1)
