"""The trial scheduler of a sweep (ASHA or none), and the epochs at which it compares trials."""
from __future__ import annotations

from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

from pipelines.engine.settings import SweepSettings

ASHA_GRACE_EPOCHS = 6       # epochs every trial gets before ASHA may stop it (2 stopped slow starters that
                            # won on small tables: docs/benchmarks.md, "Quality")
ASHA_REDUCTION_FACTOR = 3   # at each rung, ASHA keeps the top third


def rung_epochs(grace: int, reduction_factor: int, max_t: int) -> tuple[int, ...]:
    """The epochs at which ASHA compares a trial with the others: grace, grace*rf, grace*rf^2, ..."""
    epochs, epoch = [], grace
    while epoch < max_t:
        epochs.append(epoch)
        epoch *= reduction_factor
    return tuple(epochs)


def report_epochs(s: SweepSettings, max_epochs: int) -> tuple[int, ...]:
    """The epochs at which trials must report for the scheduler to act on them (ASHA's rungs)."""
    if s.scheduler == "fifo":
        return ()
    return rung_epochs(min(ASHA_GRACE_EPOCHS, max_epochs), ASHA_REDUCTION_FACTOR, max_epochs)


def scheduler_for(s: SweepSettings, max_epochs: int):
    """Ray Tune's scheduler for the sweep's --scheduler."""
    if s.scheduler == "fifo":
        return FIFOScheduler()
    return ASHAScheduler(time_attr="epoch", max_t=max_epochs, grace_period=min(ASHA_GRACE_EPOCHS, max_epochs),
                         reduction_factor=ASHA_REDUCTION_FACTOR)
