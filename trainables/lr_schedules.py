"""Learning-rate schedules, the `lr_schedule` param of every task: torch's schedulers, stepped once per
epoch (after its validation), one per optimizer of the trial's OptimizerSet.

- constant: the lr as searched, every epoch;
- cosine: a linear warm-up over `warmup_epochs` from a tenth of the lr, then cosine annealing to 0 at
  the trial's last epoch (LinearLR then CosineAnnealingLR);
- step: a tenth of the lr after each third of the epochs (StepLR);
- plateau: half the lr after PLATEAU_EPOCHS epochs without improvement of the objective (ReduceLROnPlateau);
- onecycle: up to the lr and down again over the epochs (OneCycleLR, without momentum cycling, which
  not every optimizer has).
"""
from __future__ import annotations

import torch

SCHEDULES = ("constant", "cosine", "step", "plateau", "onecycle")
PLATEAU_EPOCHS = 3
WARMUP_START = 0.1   # the warm-up starts at this fraction of the lr


def _one(optimizer, name: str, epochs: int, warmup: int, mode: str):
    sched = torch.optim.lr_scheduler
    if name == "cosine":
        warmup = min(warmup, epochs - 1)
        cosine = sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs - warmup))
        if warmup <= 0:
            return cosine
        ramp = sched.LinearLR(optimizer, start_factor=WARMUP_START, total_iters=warmup)
        return sched.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])
    if name == "step":
        return sched.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "plateau":
        return sched.ReduceLROnPlateau(optimizer, mode=mode, factor=0.5, patience=PLATEAU_EPOCHS)
    if name == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=epochs + 1,
                                cycle_momentum=False)
    raise ValueError(f"The 'lr_schedule' must be one of {', '.join(SCHEDULES)}, got {name!r}.")


class LrSchedule:
    """The schedule of a trial's optimizers; `epoch_end(value)` after each epoch's validation (the objective's
    value, which the plateau rule reads)."""

    def __init__(self, optimizer_set, config: dict, mode: str = "min"):
        self.name = config.get("lr_schedule", "constant")
        # A refit trains fewer epochs (its trial's best) on the schedule its trial had: schedule_epochs.
        epochs = int(config.get("schedule_epochs", config["epochs"]))
        warmup = int(config.get("warmup_epochs", 0))
        optimizers = getattr(optimizer_set, "optimizers", [optimizer_set])
        self.schedulers = [] if self.name == "constant" else [_one(o, self.name, epochs, warmup, mode)
                                                               for o in optimizers]

    def epoch_end(self, value: float) -> None:
        for scheduler in self.schedulers:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(value)
            else:
                scheduler.step()

    def state_dict(self) -> list[dict]:
        return [s.state_dict() for s in self.schedulers]

    def load_state_dict(self, states: list[dict]) -> None:
        for scheduler, state in zip(self.schedulers, states):
            scheduler.load_state_dict(state)
