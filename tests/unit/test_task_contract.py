"""Every registered task keeps the contract the sweep engine relies on."""
import math

import optuna
import pytest
import torch

from pipelines.registry import TASKS
from search_spaces.space import Space
from trainables.catalog import card
from trainables.device import CPU, Device
from trainables.reporting import MemoryIO
from trainables.task import DataRequest

# The real spaces, shrunk to a quick run: every param a task does not have is ignored.
SMALL = {"epochs": 2, "batch_size": 32, "context_length": 32, "n_layers": 1, "n_heads": 2, "head_width": 8,
         "ff_width": 64}


@pytest.fixture
def one_thread():
    """One torch thread, as a trial of a sweep has: on a busy 2-core machine two are several times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# The mixed-precision path a GPU trial takes (autocast, bfloat16), run on the CPU, which supports it.
BFLOAT16_ON_CPU = Device(torch.device("cpu"), "cpu", torch.bfloat16)


@pytest.mark.parametrize("device", [CPU, BFLOAT16_ON_CPU], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("name", sorted(TASKS))
def test_short_training_reports_the_task_metrics(name, device, one_thread):
    registered = TASKS[name]
    task = registered.task
    assert task.name == name and task.metric == "val_loss"
    assert {k: getattr(task, k) for k in card(name)} == card(name)  # what `hpo tasks` lists of it
    data = task.load_data(DataRequest(seed=0))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    config = registered.define_space(Space(study.ask(), caps=SMALL))
    config["seed"] = 0
    io = MemoryIO(device=device)
    task.train(config, data, io)
    assert len(io.results) <= 2
    for result in io.results:
        assert {"epoch", "val_loss", "best_val_loss", "final", *task.metrics} <= set(result)
        assert all(math.isfinite(result[m]) for m in ("val_loss", *task.metrics))
    model = task.build_model(config, data)
    model.load_state_dict(io.state["best_models"][0])
    test = task.evaluate(model, data, "test")
    assert set(test) == {"test_loss"} | {m.replace("val_", "test_") for m in task.metrics}
