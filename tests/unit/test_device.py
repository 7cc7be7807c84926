"""Device choice and mixed precision: the CPU fallback, the precision each GPU generation gets, and the
shared loop training under autocast (CPU autocast runs the same code path a GPU does)."""
import logging

import pytest
import torch

from trainables import binary
from trainables.device import CPU, Device, Precision, amp_dtype_for, choose
from trainables.reporting import MemoryIO
from trainables.task import DataRequest

CONFIG = {"batch_size": 32, "epochs": 4, "lr": 0.01, "optimizer": "Adam", "n_layers": 1, "n_units_l0": 16,
          "activation": "ReLU", "dropout": 0.0, "weight_decay": 0.0, "seed": 3}


@pytest.fixture(scope="module")
def data():
    return binary.load_data(DataRequest(seed=0))


def test_a_trial_without_gpus_trains_on_the_cpu():
    assert choose([]) == CPU and CPU.fell_back is None and CPU.label == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA sees a GPU here: nothing to fall back from")
def test_a_gpu_cuda_cannot_see_falls_back_to_the_cpu_with_a_warning(caplog, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with caplog.at_level(logging.WARNING, logger="trainables.device"):
        device = choose([0])
    assert device.torch.type == "cpu" and device.label == "cpu" and device.amp_dtype is None
    assert "GPU 0" in device.fell_back and "CUDA_VISIBLE_DEVICES='0'" in device.fell_back
    assert "training on the CPU" in caplog.text


@pytest.mark.parametrize("capability, dtype", [((9, 0), torch.bfloat16), ((8, 0), torch.bfloat16),
                                               ((7, 5), torch.float16), ((7, 0), torch.float16), ((6, 1), None)])
def test_each_gpu_generation_gets_the_precision_it_runs_fast(capability, dtype):
    assert amp_dtype_for(capability) is dtype


def test_only_float16_uses_a_grad_scaler():
    assert Precision(Device(torch.device("cpu"), "cpu", torch.float16)).scaler is not None
    assert Precision(Device(torch.device("cpu"), "cpu", torch.bfloat16)).scaler is None
    assert Precision(CPU).scaler is None


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_the_loop_trains_under_mixed_precision(data, dtype):
    io = MemoryIO(device=Device(torch.device("cpu"), "cpu", dtype))
    binary.TASK.train(CONFIG, data, io)
    assert [r["epoch"] for r in io.results] == [1, 2, 3, 4]
    assert io.results[-1]["val_acc"] > 0.85 and io.results[-1]["train_loss"] < io.results[0]["train_loss"]
    # The weights stay float32: autocast lowers the precision of the computation, not of the model.
    assert all(v.dtype == torch.float32 for v in io.state["best_models"][0].values())
