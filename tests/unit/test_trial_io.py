"""Which of a trial's reports carry a checkpoint: the last, ASHA's rung epochs, and one at least every
CHECKPOINT_SECONDS; the others only metrics (batched every REPORT_SECONDS). No Ray: the base class's
send is replaced by a recorder."""
import pytest

from pipelines.engine import trial
from trainables.reporting import RayTuneIO


@pytest.fixture
def sent(monkeypatch):
    reports = []
    monkeypatch.setattr(RayTuneIO, "report", lambda self, metrics, state: reports.append((metrics, state)))
    clock = {"now": 0.0}
    monkeypatch.setattr(trial.time, "monotonic", lambda: clock["now"])
    return reports, clock


def epoch(number, final=False):
    return {"epoch": number, "val_loss": 1.0 / number, "final": final}


def test_checkpoints_at_rungs_and_the_end_only_when_epochs_are_fast(sent):
    reports, clock = sent
    io = trial.BatchedTuneIO(frozenset({2, 6}), {"node_id": "n"})
    for number in range(1, 9):
        clock["now"] += 0.1
        io.report(epoch(number, final=number == 8), {"epoch": number})
    assert [(m["epoch"], s is not None) for m, s in reports] == [(2, True), (6, True), (8, True)]
    assert [e["epoch"] for e in reports[1][0]["history"]] == [3, 4, 5, 6]


def test_slow_epochs_report_every_few_seconds_and_checkpoint_every_half_minute(sent):
    reports, clock = sent
    io = trial.BatchedTuneIO(frozenset(), {})
    for number in range(1, 41):
        clock["now"] += trial.REPORT_SECONDS
        io.report(epoch(number, final=number == 40), {"epoch": number})
    assert len(reports) == 40  # every epoch took REPORT_SECONDS: each is reported
    checkpointed = [m["epoch"] for m, s in reports if s is not None]
    every = int(trial.CHECKPOINT_SECONDS / trial.REPORT_SECONDS)
    assert checkpointed == [every, 2 * every, 40]
