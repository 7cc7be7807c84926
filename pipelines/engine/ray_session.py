"""The Ray a sweep runs on: started (or joined) once per process, sized for the trials, ended by whoever started it."""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import ray

from pipelines.engine.gpu_packing import auto_gpus_per_trial
from pipelines.engine.settings import SweepSettings
from pipelines.errors import UsageError
from pipelines.task_sources import ship_to_ray


def configure_environment() -> None:
    """Settings of Ray Tune and MLflow for a sweep; a user's own environment variables win."""
    # Our live view and summary replace Tune's tables; trial errors are summarised, not dumped.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)
    # Tune's CSV/JSON/TensorBoard files per result: MLflow has the same numbers, these only cost I/O.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # it wraps every MLflow client call
    # On a tracking server MLflow prints two links for every run it ends; the summary names the sweep's.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


@dataclass(frozen=True)
class Capacity:
    """What the cluster gives a sweep: how many trials fit at once, and the GPU share of each."""
    trials_at_once: int
    gpus_per_trial: float


class RaySession:
    """Whether this process started (or joined) Ray itself, and so must end it."""

    def __init__(self):
        self.started = False

    def start(self, settings: SweepSettings, prepared=None, echo=print) -> Capacity:
        """Start (or join) Ray and size the trials; UsageError for a cluster that can't serve them.
        `--gpus-per-trial auto` is measured on a trial of `prepared` on one of the cluster's GPUs."""
        try:
            if not ray.is_initialized():
                self.started = True
                # "local": without --address a new local Ray, never one that `ray start` left on this machine
                # (plain ray.init() would join that).
                ray.init(address=settings.address or "local", include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR, configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
            # A token-auth mismatch looks like an unreachable cluster (Ray retries, then gives up).
            auth = (f" The driver's RAY_AUTH_MODE ({os.environ.get('RAY_AUTH_MODE', 'unset')}) must match the "
                    "cluster's: token (with the head's token in RAY_AUTH_TOKEN or ~/.ray/auth_token) or disabled."
                    if settings.address else "")
            raise UsageError(f"Cannot start or reach Ray at --address {settings.address!r}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.{auth}") from None
        ship_to_ray()  # a task file of the user's travels with each trial to any node: the driver's copy is enough
        resources = ray.cluster_resources()
        cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)
        if settings.cpus_per_trial > cpus:
            raise UsageError(f"--cpus-per-trial {settings.cpus_per_trial} is more than the {cpus:g} CPUs "
                             "the Ray cluster has.")
        gpus_per_trial = settings.gpus_per_trial
        if gpus_per_trial == "auto":
            gpus_per_trial = auto_gpus_per_trial(prepared, gpus, echo)
        if gpus_per_trial > 0 and gpus == 0:
            raise UsageError(f"--gpus-per-trial {gpus_per_trial} asks for GPUs, but the Ray cluster has "
                             "none; use --gpus-per-trial 0 or a cluster with GPU nodes.")
        fits = int(cpus // settings.cpus_per_trial)
        if gpus_per_trial > 0:
            fits = min(fits, int(gpus // gpus_per_trial))
        return Capacity(max(1, fits), gpus_per_trial)

    def end_beside(self) -> threading.Thread | None:
        """End the Ray this process started, in a thread the caller joins (None: nothing to end). A sweep
        calls it before its last steps (the best model, the report), which do not need Ray, so that the
        shutdown overlaps them; the CLI calls it at exit for the other paths."""
        if not self.started:
            return None
        self.started = False
        ending = threading.Thread(target=ray.shutdown, daemon=True)
        ending.start()
        return ending


# One per process: Ray itself is one per process.
session = RaySession()
