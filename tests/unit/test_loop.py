"""The shared epoch loop: reports, patience, checkpoint round trip, divergence."""
import math

import pytest

from trainables import binary
from trainables.loop import PATIENCE
from trainables.metrics import Objective
from trainables.reporting import MemoryIO
from trainables.task import DataRequest

CONFIG = {"batch_size": 32, "epochs": 6, "lr": 0.01, "optimizer": "Adam", "n_layers": 1, "n_units_l0": 16,
          "activation": "ReLU", "dropout": 0.0, "weight_decay": 0.0, "seed": 3}


@pytest.fixture(scope="module")
def data():
    return binary.load_data(DataRequest(seed=0))


def test_one_report_per_epoch_with_final_on_the_last(data):
    io = MemoryIO()
    binary.TASK.train(CONFIG, data, io)
    assert [r["epoch"] for r in io.results] == list(range(1, 7))
    assert [r["final"] for r in io.results] == [False] * 5 + [True]
    assert {"train_loss", "val_loss", "val_acc", "best_val_loss"} <= set(io.results[0])
    assert io.results[-1]["best_val_loss"] == min(r["val_loss"] for r in io.results)
    assert io.results[-1]["val_acc"] > 0.9


def test_the_best_epoch_follows_the_objective_and_reports_its_other_metrics(data):
    io = MemoryIO(objective=Objective("val_f1"))
    binary.TASK.train({**CONFIG, "epochs": 12, "lr": 0.05}, data, io)
    last = io.results[-1]
    best = max(io.results, key=lambda r: r["val_f1"])  # the first epoch of the highest F1
    assert last["best_epoch"] == best["epoch"] and last["best_val_f1"] == best["val_f1"]
    assert last["best_val_loss"] == best["val_loss"] and last["best_val_acc"] == best["val_acc"]
    assert last["best_epoch"] != min(io.results, key=lambda r: r["val_loss"])["epoch"]  # not val_loss's best


def test_a_checkpoint_saved_before_the_objective_existed_goes_on(data):
    crashed = MemoryIO()
    binary.TASK.train({**CONFIG, "epochs": 3}, data, crashed)
    progress = crashed.state["progress"]
    best = progress.pop("best_score")
    del progress["best"]
    progress["best_val_loss"] = best  # how the loop kept it before --metric
    progress["last_report"]["final"] = False  # as if it had been cut short after epoch 3 of 6
    resumed = MemoryIO(state=crashed.state)
    binary.TASK.train(CONFIG, data, resumed)
    assert [r["epoch"] for r in resumed.results] == [4, 5, 6]
    assert resumed.results[-1]["best_val_loss"] <= best


def test_patience_ends_a_trial_that_stops_improving(data):
    io = MemoryIO()
    binary.TASK.train({**CONFIG, "epochs": 200, "lr": 0.05}, data, io)
    assert len(io.results) < 200 and io.results[-1]["final"]
    best_epoch = min(io.results, key=lambda r: r["val_loss"])["epoch"]
    assert len(io.results) - best_epoch >= PATIENCE - 1


class Crash(Exception):
    pass


class CrashingIO(MemoryIO):
    """Keeps the state of each report like a checkpoint, then dies after `after` reports."""

    def __init__(self, after):
        super().__init__()
        self.after = after

    def report(self, metrics, state):
        super().report(metrics, state)
        if len(self.results) == self.after:
            raise Crash


def test_resuming_from_a_checkpoint_matches_an_uninterrupted_run(data):
    whole = MemoryIO()
    binary.TASK.train(CONFIG, data, whole)

    crashed = CrashingIO(after=3)
    with pytest.raises(Crash):
        binary.TASK.train(CONFIG, data, crashed)
    resumed = MemoryIO(state=crashed.state)
    binary.TASK.train(CONFIG, data, resumed)
    assert [r["epoch"] for r in resumed.results] == [4, 5, 6]
    assert resumed.results[-1]["val_loss"] == pytest.approx(whole.results[-1]["val_loss"], rel=1e-5)


def test_a_trial_resumed_after_its_end_reports_its_end_again(data):
    done = MemoryIO()
    binary.TASK.train(CONFIG, data, done)
    again = MemoryIO(state=done.state)
    binary.TASK.train(CONFIG, data, again)
    assert again.results == [done.results[-1]] and again.results[0]["final"]


def test_best_weights_are_kept_in_the_checkpoint(data):
    io = MemoryIO()
    binary.TASK.train(CONFIG, data, io)
    model = binary.build_model(CONFIG, data)
    model.load_state_dict(io.state["best_models"][0])
    assert binary.evaluate(model, data, "val")["val_loss"] == pytest.approx(io.results[-1]["best_val_loss"], rel=1e-5)


def test_a_diverging_trial_ends_at_once_and_says_why(data):
    io = MemoryIO()
    binary.TASK.train({**CONFIG, "optimizer": "SGD", "lr": 1e6, "epochs": 20}, data, io)
    last = io.results[-1]
    assert len(io.results) < 20 and last["final"] and last["val_loss"] == math.inf
    assert "became nan" in last["diverged"] and "lr=1000000.0" in last["diverged"]


def test_train_loss_is_the_mean_over_rows_with_a_short_last_batch(data):
    import torch

    from trainables.device import CPU, Precision
    from trainables.loop import shuffled_batches, train_steps

    torch.manual_seed(0)
    model = binary.build_model(CONFIG, data)
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # the weights stay put: the epoch's loss is known
    loss_fn = binary.make_loss(CONFIG, data)
    assert len(data.x_train) % 32 != 0
    batches = shuffled_batches(data.x_train, data.y_train, 32, torch.Generator().manual_seed(0))
    reported = train_steps(model, frozen, loss_fn, batches, Precision(CPU))
    with torch.no_grad():
        expected = loss_fn(model(data.x_train), data.y_train).item()
    assert reported == pytest.approx(expected, rel=1e-5)
