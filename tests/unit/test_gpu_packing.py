"""The arithmetic of `--gpus-per-trial auto`: trials per GPU from a measured peak, and Ray's GPU share."""
import pytest

from pipelines.engine.gpu_packing import CUDA_CONTEXT_BYTES, HEADROOM, MAX_TRIALS_PER_GPU, gpu_fraction, trials_per_gpu

GiB = 2**30


@pytest.mark.parametrize("peak_gib, gpu_gib, trials", [
    (4.0, 80.0, 8),     # 68 GiB usable / 4.5 GiB = 15, capped at MAX_TRIALS_PER_GPU
    (10.0, 80.0, 6),    # 68 / 10.5 = 6.5
    (20.0, 80.0, 3),    # 68 / 20.5 = 3.3
    (30.0, 80.0, 2),
    (60.0, 80.0, 1),
    (79.0, 80.0, 1),    # does not fit with headroom: still one trial per GPU, never zero
    (3.0, 16.0, 3),     # 13.6 / 3.5 = 3.9
])
def test_trials_per_gpu(peak_gib, gpu_gib, trials):
    assert trials_per_gpu(int(peak_gib * GiB), int(gpu_gib * GiB)) == trials


def test_each_trial_pays_its_cuda_context_and_the_headroom_stays_free():
    gpu = 16 * GiB
    peak = int(gpu * (1 - HEADROOM) / 4) - CUDA_CONTEXT_BYTES  # exactly four fit
    assert trials_per_gpu(peak, gpu) == 4
    assert trials_per_gpu(peak + 1, gpu) == 3
    assert trials_per_gpu(1, gpu) == MAX_TRIALS_PER_GPU
    assert trials_per_gpu(1, gpu, most=32) == int(gpu * (1 - HEADROOM) // (CUDA_CONTEXT_BYTES + 1))


@pytest.mark.parametrize("trials, fraction", [(1, 1.0), (2, 0.5), (3, 0.3333), (4, 0.25), (6, 0.1666),
                                              (7, 0.1428), (8, 0.125)])
def test_gpu_fraction_lets_ray_place_that_many(trials, fraction):
    assert gpu_fraction(trials) == fraction
    assert gpu_fraction(trials) * trials <= 1.0 and gpu_fraction(trials) * (trials + 1) > 1.0
