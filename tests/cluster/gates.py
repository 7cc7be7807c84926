"""A task wrapped so that a test can see where its trials run and hold them there.

Each trial attempt leaves a marker `started-<seed>-<pid>` holding its Ray node id and its raylet's pid
(the parent of a Ray worker process), then waits until `together` attempts have started and a file
`go` exists. Trials that did not run at the same time, or a `go` that never comes, fail the trial
after WAIT_SECONDS instead of hanging the sweep.
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

WAIT_SECONDS = 120.0


def markers(folder: Path) -> list[tuple[str, int]]:
    """(node id, raylet pid) of every trial attempt that has started."""
    found = []
    for path in sorted(folder.glob("started-*")):
        node_id, raylet_pid = path.read_text().split()
        found.append((node_id, int(raylet_pid)))
    return found


def gated(task, folder: str, together: int):
    def train(config, data, io):
        import ray

        from trainables.reporting import RayTuneIO

        if not isinstance(io, RayTuneIO):  # not a trial: the driver refitting the best config at the end
            return task.train(config, data, io)
        gate = Path(folder)
        marker = gate / f"started-{config['seed']}-{os.getpid()}"
        marker.write_text(f"{ray.get_runtime_context().get_node_id()} {os.getppid()}")
        deadline = time.monotonic() + WAIT_SECONDS
        while len(list(gate.glob("started-*"))) < together or not (gate / "go").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(list(gate.glob('started-*')))} of {together} trials started "
                                   f"together within {WAIT_SECONDS:.0f} s (go: {(gate / 'go').exists()})")
            time.sleep(0.1)
        task.train(config, data, io)

    return dataclasses.replace(task, train=train)
