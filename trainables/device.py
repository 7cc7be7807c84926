"""Where a trial trains: the GPU Ray gave it, else the CPU; and the mixed precision that GPU supports.

Ray gives a trial its GPUs by setting CUDA_VISIBLE_DEVICES in the trial's process, so the GPU it may
use is always `cuda:0` there, and several trials with fractional GPUs see the same card. A trial that
was given a GPU but whose torch sees no CUDA device (a CPU build of torch, a driver missing, GPUs
declared to Ray that are not there) trains on the CPU with a warning, and says so in its device.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from dataclasses import dataclass

import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Device:
    torch: torch.device
    label: str                              # "cpu" or "cuda:<GPU name>": the trial's hpo.device tag
    amp_dtype: torch.dtype | None = None    # autocast dtype of the forward pass; None: full precision
    fell_back: str | None = None            # why a trial given a GPU trains on the CPU

    def to(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(t.to(self.torch) for t in tensors)


CPU = Device(torch.device("cpu"), "cpu")


def on_device(data, device: Device):
    """A task's data (a dataclass of tensors and plain values) with every tensor moved to `device`, once
    for a whole trial: batches, windows and evaluations are then cut from memory on that device."""
    tensors = {field.name: getattr(data, field.name) for field in dataclasses.fields(data)
               if isinstance(getattr(data, field.name), torch.Tensor)}
    return dataclasses.replace(data, **dict(zip(tensors, device.to(*tensors.values()))))


def amp_dtype_for(capability: tuple[int, int]) -> torch.dtype | None:
    """bfloat16 from Ampere (8.0) on, which needs no loss scaling; float16 on Volta/Turing (7.x), with a
    GradScaler; full precision on older cards, whose float16 is no faster."""
    if capability >= (8, 0):
        return torch.bfloat16
    if capability >= (7, 0):
        return torch.float16
    return None


def assigned_gpu_ids() -> list:
    """The GPUs Ray gave this process (none outside a Ray task or actor)."""
    import ray

    return list(ray.get_gpu_ids()) if ray.is_initialized() else []


def choose(gpu_ids: list) -> Device:
    """The device of a trial Ray gave `gpu_ids`: its GPU when CUDA sees it, else the CPU with a warning."""
    if not gpu_ids:
        return CPU
    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        reason = (f"Ray gave this trial GPU {','.join(map(str, gpu_ids))} "
                  f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '')!r}) but torch "
                  f"{torch.__version__} sees no CUDA device")
        logger.warning("%s; training on the CPU.", reason)
        return Device(torch.device("cpu"), "cpu", fell_back=reason)
    index = 0  # Ray's CUDA_VISIBLE_DEVICES makes the given GPU the first one this process sees
    return Device(torch.device("cuda", index), f"cuda:{torch.cuda.get_device_name(index)}",
                  amp_dtype_for(torch.cuda.get_device_capability(index)))


class Precision:
    """Mixed precision for one training run: autocast around the forward pass and the loss, and a
    GradScaler for float16, whose small gradients would otherwise underflow to zero."""

    def __init__(self, device: Device):
        self.device = device
        self.scaler = torch.amp.GradScaler(device.torch.type) if device.amp_dtype == torch.float16 else None

    def autocast(self):
        if self.device.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.torch.type, dtype=self.device.amp_dtype)

    def backward_step(self, loss: torch.Tensor, optimizer, clip: float | None = None) -> None:
        """Backward and step; `clip` caps the gradients' total norm first (on their true, unscaled values)."""
        optimizers = getattr(optimizer, "optimizers", [optimizer])  # an OptimizerSet steps several

        def clip_gradients():
            torch.nn.utils.clip_grad_norm_([p for o in optimizers for g in o.param_groups for p in g["params"]], clip)
        if self.scaler is None:
            loss.backward()
            if clip:
                clip_gradients()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        if clip:
            for each in optimizers:
                self.scaler.unscale_(each)
            clip_gradients()
        for each in optimizers:
            self.scaler.step(each)
        self.scaler.update()
