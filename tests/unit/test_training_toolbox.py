"""Learning-rate schedules, batch and layer norm, the L1 penalty, gradient clipping and patience."""
import math

import optuna
import pytest
import torch
from torch import nn

from trainables.device import CPU, Precision
from trainables.loop import l1_penalty, shuffled_batches
from trainables.lr_schedules import SCHEDULES, LrSchedule
from trainables.mlp import build_mlp


def lrs(name: str, epochs: int = 9, values=None, **extra) -> list[float]:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = LrSchedule(optimizer, {"lr_schedule": name, "epochs": epochs, **extra})
    seen = []
    for epoch in range(epochs):
        seen.append(optimizer.param_groups[0]["lr"])
        schedule.epoch_end(values[epoch] if values else 1.0)
    return seen


def test_each_schedule_moves_the_lr_as_its_name_says():
    assert lrs("constant") == [0.1] * 9
    cosine = lrs("cosine", warmup_epochs=2)
    assert cosine[0] == pytest.approx(0.01) and cosine[2] == pytest.approx(0.1) and cosine[-1] < 0.01
    assert lrs("step")[:4] == pytest.approx([0.1, 0.1, 0.1, 0.01])
    plateau = lrs("plateau", values=[1.0] * 9)   # no improvement after the first epoch
    assert plateau[4] == pytest.approx(0.1) and plateau[5] == pytest.approx(0.05)
    onecycle = lrs("onecycle")
    assert max(onecycle) == pytest.approx(0.1, rel=0.05) and onecycle[0] < 0.01 and onecycle[-1] < onecycle[4]
    assert set(SCHEDULES) == {"constant", "cosine", "step", "plateau", "onecycle"}


def test_a_schedule_continues_from_its_saved_state():
    def optimizer():
        return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    first, second = optimizer(), optimizer()
    a = LrSchedule(first, {"lr_schedule": "cosine", "epochs": 10})
    for _ in range(4):
        a.epoch_end(1.0)
    b = LrSchedule(second, {"lr_schedule": "cosine", "epochs": 10})
    b.load_state_dict(a.state_dict())
    second.param_groups[0]["lr"] = first.param_groups[0]["lr"]  # the optimizer's own state holds its lr
    a.epoch_end(1.0), b.epoch_end(1.0)
    assert first.param_groups[0]["lr"] == pytest.approx(second.param_groups[0]["lr"])


@pytest.mark.parametrize("norm, kind", [("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)])
def test_norms_sit_before_each_activation(norm, kind):
    model = build_mlp(5, 2, [8, 4], norm=norm)
    assert [type(m) for m in model] == [nn.Linear, kind, nn.ReLU, nn.Linear, kind, nn.ReLU, nn.Linear]
    assert [type(m) for m in build_mlp(5, 2, [8])] == [nn.Linear, nn.ReLU, nn.Linear]


def test_a_last_batch_of_one_row_is_left_out_for_batch_norm():
    x, y = torch.zeros(33, 2), torch.zeros(33)
    sizes = [len(b) for b, _ in shuffled_batches(x, y, 16, torch.Generator().manual_seed(0), skip_single_row=True)]
    assert sizes == [16, 16]
    assert [len(b) for b, _ in shuffled_batches(x, y, 16, torch.Generator())] == [16, 16, 1]  # without batch norm
    assert [len(b) for b, _ in shuffled_batches(x[:1], y[:1], 16, torch.Generator(), True)] == [1]  # a lone row


def test_the_l1_penalty_weighs_the_weight_matrices_only():
    model = build_mlp(3, 1, [4])
    penalty = l1_penalty(model, 0.01)
    expected = 0.01 * sum(p.abs().sum() for p in model.parameters() if p.dim() > 1)
    assert penalty().item() == pytest.approx(expected.item()) and l1_penalty(model, 0.0) is None


def test_gradient_clipping_caps_the_norm_before_the_step():
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    loss = (model(torch.full((8, 4), 100.0)) ** 2).mean()
    Precision(CPU).backward_step(loss, optimizer, clip=1.0)
    norm = math.sqrt(sum(float(p.grad.norm()) ** 2 for p in model.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("task_name, extra", [
    ("binary", {"lr_schedule": "onecycle", "norm": "batch", "l1": 1e-4}),
    ("regression", {"lr_schedule": "plateau", "norm": "layer", "l1": 0.0}),
    ("rnn", {"lr_schedule": "cosine", "warmup_epochs": 1, "grad_clip": 0.5}),
])
def test_a_trial_trains_and_checkpoints_with_the_toolbox(task_name, extra):
    from pipelines.registry import TASKS
    from search_spaces.space import Space
    from trainables.reporting import MemoryIO
    from trainables.task import DataRequest

    registered = TASKS[task_name]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    config = {**registered.define_space(Space(study.ask())), "epochs": 6, **extra}
    data = registered.task.load_data(DataRequest(seed=0))
    io = MemoryIO()
    registered.task.train(config, data, io)
    assert io.results and math.isfinite(io.results[-1]["val_loss"])
    assert len(io.state["schedules"]) == (0 if config["lr_schedule"] == "constant" else 1)


def test_a_refit_keeps_the_length_of_its_trials_schedule():
    assert lrs("cosine", epochs=4, schedule_epochs=8)[-1] > 0.05  # halfway down an 8-epoch cosine, not at 0
