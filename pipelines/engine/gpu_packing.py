"""`--gpus-per-trial auto`: measure one trial's peak GPU memory, then pack as many trials on a GPU as fit.

The probe trains the task's largest config (every range at its top: the most layers, the widest, the
biggest batch) for one epoch on one GPU of the cluster and reads torch's peak of reserved memory. Each
trial is its own process with its own CUDA context, which torch does not count, so that is added;
a share of the card is kept free. Trials of tiny models would fit by the dozen but then only queue for
the GPU's compute, so at most MAX_TRIALS_PER_GPU share one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import ray
import torch

from pipelines.errors import UsageError
from search_spaces.space import check_space
from trainables import device as devices
from trainables.reporting import MemoryIO

HEADROOM = 0.15                    # share of a GPU's memory left free (allocator fragmentation, cuDNN workspaces)
CUDA_CONTEXT_BYTES = 512 * 2**20   # a CUDA context per trial process, outside torch's allocator
MAX_TRIALS_PER_GPU = 8             # beyond this, small trials only wait for each other's kernels
RAY_RESOURCE_STEP = 1e-4           # Ray's resolution of fractional resources


def trials_per_gpu(peak_bytes: int, gpu_bytes: int, headroom: float = HEADROOM,
                   context_bytes: int = CUDA_CONTEXT_BYTES, most: int = MAX_TRIALS_PER_GPU) -> int:
    """How many trials whose peak is `peak_bytes` share a GPU of `gpu_bytes`, with headroom; at least 1."""
    usable = gpu_bytes * (1.0 - headroom)
    return max(1, min(most, int(usable // (peak_bytes + context_bytes))))


def gpu_fraction(trials: int) -> float:
    """The GPU share that lets Ray place `trials` trials on one GPU: 1/trials rounded down to Ray's step
    (0.3333 for 3: three of them fit in 1, where 1/3 rounded up would not)."""
    steps = math.floor(1.0 / trials / RAY_RESOURCE_STEP)
    return round(steps * RAY_RESOURCE_STEP, 4)


@dataclass(frozen=True)
class Probe:
    device: str                   # the probe's device label: "cuda:<name>", or "cpu" when CUDA saw no GPU
    peak_bytes: int = 0           # torch's peak reserved memory during one epoch of the largest config
    gpu_bytes: int = 0            # the GPU's total memory
    fell_back: str | None = None  # why the probe ran on the CPU


def probe_trial(task, data, config: dict, cpus: float) -> Probe:
    """One epoch of `config` on the GPU Ray gave this process; runs inside a Ray task."""
    torch.set_num_threads(max(1, int(cpus)))
    device = devices.choose(devices.assigned_gpu_ids())
    if device.torch.type != "cuda":
        return Probe(device.label, fell_back=device.fell_back)
    torch.cuda.reset_peak_memory_stats(device.torch)
    task.train(config, data, MemoryIO(device=device))
    return Probe(device.label, torch.cuda.max_memory_reserved(device.torch),
                 torch.cuda.get_device_properties(device.torch).total_memory)


def probe_config(prepared) -> dict:
    """The largest config of the sweep's space (with the user's overrides), trained for one epoch."""
    largest = check_space(prepared.registered.define_space, prepared.overrides, prepared.caps).largest
    return {**largest, "epochs": 1, "seed": prepared.settings.seed}


def auto_gpus_per_trial(prepared, cluster_gpus: float, echo) -> float:
    """The GPU share per trial that `--gpus-per-trial auto` resolves to on this cluster."""
    settings = prepared.settings
    if cluster_gpus == 0:
        echo("--gpus-per-trial auto: the Ray cluster has no GPUs, so trials run on the CPU.")
        return 0.0
    remote = ray.remote(num_gpus=1, num_cpus=settings.cpus_per_trial, max_retries=0)(probe_trial)
    try:
        probe = ray.get(remote.remote(prepared.registered.task, prepared.data, probe_config(prepared),
                                      settings.cpus_per_trial))
    except ray.exceptions.RayError as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        raise UsageError(f"--gpus-per-trial auto could not measure a trial on a GPU "
                         f"({lines[-1] if lines else type(exc).__name__}); give --gpus-per-trial a number.") from None
    if probe.fell_back:
        echo(f"--gpus-per-trial auto: {probe.fell_back}, so trials run on the CPU.")
        return 0.0
    trials = trials_per_gpu(probe.peak_bytes, probe.gpu_bytes)
    fraction = gpu_fraction(trials)
    echo(f"--gpus-per-trial auto: a trial of the largest config peaks at {probe.peak_bytes / 2**20:.0f} MiB "
         f"on {probe.device} ({probe.gpu_bytes / 2**30:.1f} GiB): {trials} trial(s) per GPU, "
         f"--gpus-per-trial {fraction:g}.")
    return fraction
