"""Reading a sweep's results from Tune's Result objects (no Ray): one record per trial, the best trial by the
objective's best value in its last checkpoint; and the epochs at which ASHA compares trials."""
import math

import pytest
from ray.tune import Checkpoint, Result

from pipelines.engine.results import checkpointed_best, collect_trials, ranked_results, without_weights
from pipelines.engine.schedulers import report_epochs, rung_epochs
from pipelines.engine.settings import SweepSettings
from trainables.metrics import Objective
from trainables.reporting import STATE_FILE

LOSS = Objective()


@pytest.fixture
def checkpoints(tmp_path):
    def make(name, deleted=False):
        (tmp_path / name).mkdir()
        if not deleted:
            (tmp_path / name / STATE_FILE).write_bytes(b"weights")
        return Checkpoint.from_directory(str(tmp_path / name))
    return make


def result(trial_id, best, checkpoint, *, final=True, error=None, saved_best=None, **metrics):
    metrics = {"trial_id": trial_id, "epoch": 3, "best_val_loss": best, "final": final, **metrics}
    saved = [(checkpoint, {**metrics, "best_val_loss": best if saved_best is None else saved_best})]
    return Result(metrics=metrics, checkpoint=checkpoint, error=error, path=f"/tmp/trial-000_{trial_id}",
                  best_checkpoints=saved if checkpoint else None)


def test_results_rank_by_checkpointed_loss_and_leave_out_trials_that_failed_or_have_no_weights(checkpoints):
    results = [result("a", 0.5, checkpoints("a")),
               result("b", 0.1, checkpoints("b"), diverged="val_loss is nan"),   # failed
               result("c", 0.2, checkpoints("c"), error=RuntimeError("boom")),   # failed
               result("d", 0.3, checkpoints("d"), final=False),                  # stopped early: still a candidate
               result("e", 0.05, None),                                          # no checkpoint to load
               result("f", math.nan, checkpoints("f")),
               result("g", 0.01, checkpoints("g", deleted=True))]                # its checkpoint deleted since
    assert [r.metrics["trial_id"] for r in ranked_results(results, LOSS)] == ["d", "a"]
    assert without_weights(results) == ["g"]


def test_a_metric_to_maximise_ranks_the_highest_first(checkpoints):
    results = [result(name, 0.0, checkpoints(name), best_val_f1=f1) for name, f1 in (("a", 0.7), ("b", 0.9), ("c", 0.8))]
    assert [r.metrics["trial_id"] for r in ranked_results(results, Objective("val_f1"))] == ["b", "c", "a"]
    assert [r.metrics["trial_id"] for r in ranked_results(results, LOSS)] == ["a", "b", "c"]  # all tie on 0.0


def test_a_trial_is_judged_by_the_weights_its_last_checkpoint_holds(checkpoints):
    cut_short = result("a", 0.1, checkpoints("a"), saved_best=0.6)  # reported 0.1 after its last checkpoint
    assert checkpointed_best(cut_short, LOSS) == 0.6
    assert ranked_results([cut_short, result("b", 0.4, checkpoints("b"))], LOSS)[0].metrics["trial_id"] == "b"


def test_nothing_ranks_when_every_trial_failed(checkpoints):
    assert ranked_results([result("a", 0.5, checkpoints("a"), error=ValueError("x"))], LOSS) == []
    assert ranked_results([], LOSS) == []


def test_collected_trials_carry_number_status_error_and_the_task_metrics_at_the_best_epoch(checkpoints):
    results = [result("a", 0.5, checkpoints("a"), val_acc=0.9, best_val_acc=0.95, val_loss=0.6),
               Result(metrics={}, checkpoint=None, error=RuntimeError("line one\nValueError: bad lr\n"),
                      path="/tmp/trial-001_b"),
               Result(metrics={}, checkpoint=None, error=None, path="/tmp/trial_c")]  # never started
    records = collect_trials(results, {"a": 0, "b": 1}.get, ("val_acc",))
    assert [(r.trial_id, r.number, r.status) for r in records] == [("a", 0, "completed"), ("b", 1, "failed")]
    assert records[0].metrics == {"val_acc": 0.95} and records[0].epochs == 3 and records[0].best == 0.5
    assert records[1].error == "ValueError: bad lr" and math.isnan(records[1].best)
    by_acc = collect_trials(results[:1], {"a": 0}.get, ("val_acc",), Objective("val_acc"))
    assert by_acc[0].best == 0.95


@pytest.mark.parametrize("grace, factor, max_t, rungs", [
    (2, 3, 50, (2, 6, 18)), (2, 3, 18, (2, 6)), (2, 3, 2, ()), (1, 2, 9, (1, 2, 4, 8))])
def test_asha_compares_trials_at_grace_times_powers_of_the_reduction_factor(grace, factor, max_t, rungs):
    assert rung_epochs(grace, factor, max_t) == rungs


def test_trials_report_at_the_rungs_of_asha_and_nowhere_special_without_it():
    assert report_epochs(SweepSettings("binary"), 50) == (6, 18)
    assert report_epochs(SweepSettings("binary", scheduler="fifo"), 50) == ()
    assert report_epochs(SweepSettings("binary"), 1) == ()  # grace capped at max_epochs
