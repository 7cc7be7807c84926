"""The function Ray Tune runs for every trial, and how its per-epoch results reach the driver.

Every `tune.report` is a round trip to the driver (20-40 ms on a busy 2-core machine), which is as
long as an epoch of a small MLP. So a trial sends its epochs in batches: it reports when the
scheduler can act on the result (ASHA's rung epochs), when the trial ends, and otherwise at most every
REPORT_SECONDS. Each report carries the epochs since the last one in `history`, so MLflow and Optuna
still get every epoch.

A checkpoint goes with the reports the driver needs one for: the last (the best model is read from
it) and the rung epochs (ASHA may stop the trial there, and that report is then its last), and
otherwise at most every CHECKPOINT_SECONDS (what a retry or `hpo resume` loses at most). Not with
every report: at each checkpoint Tune rewrites its whole experiment state, every trial's (CHECKPOINTS_KEPT
in pipelines/engine/tuner.py).
"""
from __future__ import annotations

import time

import ray
import torch

from trainables import device as devices
from trainables.metrics import Objective
from trainables.reporting import RayTuneIO

REPORT_SECONDS = 2.0       # longest a trial keeps its finished epochs to itself
CHECKPOINT_SECONDS = 30.0  # longest a trial goes without a checkpoint (lost work on a retry)


class BatchedTuneIO(RayTuneIO):
    def __init__(self, report_epochs: frozenset[int], where: dict, device: devices.Device = devices.CPU,
                 objective: Objective = Objective()):
        self.report_epochs = report_epochs
        self.where = where                     # node and device, for the trial's MLflow tags
        self.device = device
        self.objective = objective
        self.history: list[dict] = []
        self.last_report = self.last_checkpoint = time.monotonic()

    def report(self, metrics: dict, state: dict | None) -> None:
        self.history.append(metrics)
        now = time.monotonic()
        must_checkpoint = (metrics.get("final") or metrics["epoch"] in self.report_epochs
                           or now - self.last_checkpoint >= CHECKPOINT_SECONDS)
        if not must_checkpoint and now - self.last_report < REPORT_SECONDS:
            return
        history, self.history = self.history, []
        lost = {"checkpoint_lost": True} if self.lost_checkpoint else {}  # the MLflow run says it started over
        super().report({**metrics, **self.where, **lost, "history": history}, state if must_checkpoint else None)
        self.last_report = time.monotonic()
        if must_checkpoint:
            self.last_checkpoint = self.last_report


def run_trial(config: dict, *, task, data, cpus: float, report_epochs: tuple[int, ...],
              objective: Objective = Objective()) -> None:
    # One torch thread per CPU the trial holds: more would fight the other trials for the cores.
    torch.set_num_threads(max(1, int(cpus)))
    device = devices.choose(devices.assigned_gpu_ids())
    where = {"node_id": ray.get_runtime_context().get_node_id(), "device": device.label}
    if device.fell_back:
        where["device_fallback"] = device.fell_back
    task.train(config, data, BatchedTuneIO(frozenset(report_epochs), where, device, objective))
