"""The function Ray Tune runs for every trial: pin threads, then hand over to the task's train."""
from __future__ import annotations

import torch

from trainables.reporting import RayTuneIO


class _NodeTaggedIO(RayTuneIO):
    """Adds where the trial runs to every report, for the trial's MLflow tags."""

    def __init__(self, node_id: str, device: str):
        self.where = {"node_id": node_id, "device": device}

    def report(self, metrics: dict, state: dict) -> None:
        super().report({**metrics, **self.where}, state)


def run_trial(config: dict, *, task_name: str, data, cpus: float) -> None:
    import ray

    from pipelines.registry import TASKS

    # One torch thread per CPU the trial holds: more would fight the other trials for the cores.
    torch.set_num_threads(max(1, int(cpus)))
    io = _NodeTaggedIO(ray.get_runtime_context().get_node_id(), "cpu")
    TASKS[task_name].task.train(config, data, io)
