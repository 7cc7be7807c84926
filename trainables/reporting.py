"""Where a training loop sends its per-epoch results and checkpoints.

`RayTuneIO` is used inside a Ray Tune trial; `MemoryIO` keeps everything in memory, for running a
task's train function directly (tests, a single training run).
"""
from __future__ import annotations

import copy
import os
import tempfile

import torch

from trainables.device import CPU
from trainables.metrics import Objective

STATE_FILE = "state.pt"


class RayTuneIO:
    """Reports through ray.tune.report with a checkpoint holding the loop's state."""

    device = CPU  # where the trial trains (trainables.device.choose sets it per trial)
    lost_checkpoint = False  # restore() found the checkpoint Tune gave gone
    objective = Objective()  # what the loop's patience and best epoch follow: the sweep's --metric

    def restore(self) -> dict | None:
        from ray import tune

        checkpoint = tune.get_checkpoint()
        if checkpoint is None:
            return None
        with checkpoint.as_directory() as folder:
            if not os.path.isfile(os.path.join(folder, STATE_FILE)):
                self.lost_checkpoint = True  # deleted from the sweep's folder: the trial starts over
                return None
            return load_state(folder)

    def report(self, metrics: dict, state: dict | None) -> None:
        """Send `metrics`, with a checkpoint of `state` unless it is None."""
        from ray import tune

        if state is None:
            tune.report(metrics)
            return
        with tempfile.TemporaryDirectory() as folder:
            torch.save(state, os.path.join(folder, STATE_FILE))
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))


class MemoryIO:
    """Keeps every report and the last state; can start from a given state."""

    def __init__(self, state: dict | None = None, device=CPU, objective: Objective = Objective()):
        self.results: list[dict] = []
        self.state = state
        self.device = device
        self.objective = objective

    def restore(self) -> dict | None:
        return self.state

    def report(self, metrics: dict, state: dict) -> None:
        self.results.append(dict(metrics))
        self.state = copy.deepcopy(state)  # a snapshot, as a checkpoint is: training goes on in place


def load_state(checkpoint_dir: str) -> dict:
    """The loop state saved in a trial's checkpoint folder, on the CPU whichever device saved it
    (the driver that loads the best model, or the node a trial is retried on, may have no GPU)."""
    return torch.load(os.path.join(checkpoint_dir, STATE_FILE), weights_only=False, map_location="cpu")
