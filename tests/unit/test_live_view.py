"""The live line: counts that add up, a retried trial not counted done, the time left, one name per trial."""
import io
import time
from dataclasses import replace
from types import SimpleNamespace

from pipelines.engine.results import TrialRecord
from pipelines.reporting.live_view import LiveView, duration


def trial(trial_id, status="RUNNING", final=True):
    return SimpleNamespace(trial_id=trial_id, status=status, config={"epochs": 40},
                           last_result={"final": final, "epoch": 3, "best_val_loss": 0.5})


def view(total=4, **kwargs):
    return LiveView(total, ("val_acc",), {"a": 0, "b": 1, "c": 2, "d": 3}.get, stream=io.StringIO(), **kwargs)


def test_counts_add_up_even_when_tune_still_shows_ended_trials_running():
    live = view()
    trials = [trial(t) for t in "abcd"]
    live.on_step_end(0, trials)
    assert "trials 0/4 done" in live.line() and "4 running" in live.line()
    for t in trials[:3]:  # ended between two steps: the running count is from the step before
        live.on_trial_complete(0, trials, t)
    assert "trials 3/4 done" in live.line() and "1 running" in live.line()


def test_a_trial_retried_after_an_error_is_not_done():
    live = view()
    failing = trial("a")
    live.on_trial_error(0, [failing], failing)
    assert "trials 1/4 done" in live.line()
    live.on_trial_start(0, [failing], failing)
    assert "trials 0/4 done" in live.line()


def test_time_left_from_the_rate_so_far_and_the_time_budget():
    live = view()
    trials = [trial(t) for t in "abcd"]
    assert "left" not in live.line()  # nothing finished yet: no estimate
    live.started = time.monotonic() - 60
    for t in trials[:2]:
        live.on_trial_complete(0, trials, t)
    assert "~1m00s left" in live.line()  # 2 of 4 in a minute
    budgeted = view(time_budget=90)
    budgeted.started = time.monotonic() - 60
    assert "~30s left" in budgeted.line()  # none finished yet, but the budget ends in 30 s


def test_the_best_so_far_is_named_like_everywhere_else():
    live = view()
    live.on_trial_result(0, [], trial("c"), {"best_val_loss": 0.25, "best_val_acc": 0.875})
    assert "best val_loss 0.25 (trial-002, val_acc 0.875)" in live.line()


def test_the_line_moves_with_the_running_trials_epochs():
    live = view()
    long, other = trial("a"), trial("b")
    live.on_trial_result(0, [], long, {"epoch": 7})
    live.on_trial_result(0, [], other, {"epoch": 2})
    assert "(epochs 7/40, 2/40)" in live.line()
    live.on_trial_result(0, [], long, {"epoch": 8})
    live.on_trial_complete(0, [], other)
    assert "(epochs 8/40)" in live.line()


def test_a_long_epoch_shows_how_far_into_it_a_trial_is():
    live = view()
    slow = trial("a")
    slow.last_result = {}  # a new trial: Tune has no result of it yet
    live.on_trial_start(0, [], slow)
    assert "(epochs 0/40)" in live.line()
    live.epochs["a"] = replace(live.epochs["a"], since=time.monotonic() - 65)
    assert "(epochs 0/40 +1m05s)" in live.line()  # no epoch timed yet: the time into the first
    live.on_trial_result(0, [], slow, {"epoch": 1})
    assert live.epochs["a"].epoch_seconds >= 65
    live.epochs["a"] = replace(live.epochs["a"], since=time.monotonic() - 26, epoch_seconds=65)
    assert "(epochs 1.4/40)" in live.line()   # 26 s into an epoch that took 65 s last time
    live.epochs["a"] = replace(live.epochs["a"], since=time.monotonic() - 200)
    assert "(epochs 1.9/40)" in live.line()   # overdue: never shown as done before it reports
    live.epochs["a"] = replace(live.epochs["a"], done=40, since=time.monotonic() - 30)
    assert "(epochs 40/40)" in live.line()    # its last epoch reported: no fraction past the end


def test_a_trial_resumed_from_its_checkpoint_counts_on_from_its_epoch():
    live = view()
    resumed = trial("a")  # its last result says epoch 3
    live.on_trial_start(0, [], resumed)
    assert "(epochs 3/40)" in live.line()
    live.epochs["a"] = replace(live.epochs["a"], since=time.monotonic() - 30)
    live.on_trial_result(0, [], resumed, {"epoch": 4})
    assert 30 <= live.epochs["a"].epoch_seconds < 40  # one epoch's time, not a quarter of it


def test_a_resumed_sweep_counts_the_trials_it_finished_before_and_its_best():
    live = view(total=6)
    earlier = [trial(t, "TERMINATED") for t in "abc"] + [trial("d", "ERROR")]
    for i, finished in enumerate(earlier[:3]):
        finished.last_result = {"final": True, "epoch": 9, "best_val_loss": 0.3 + i / 10}
    running = [trial(t) for t in "ef"]
    live.on_step_end(0, earlier + running)
    assert "trials 4/6 done (3 completed, 0 stopped early, 1 failed), 2 running" in live.line()
    assert "best val_loss 0.3 (trial-000" in live.line() and "epochs" not in live.line()
    assert live.time_left(5.0) is None  # no trial of this run has finished: no rate yet
    live.on_trial_complete(0, earlier + running, running[0])
    live.on_step_end(1, earlier + running)
    assert "trials 5/6 done" in live.line() and live.time_left(5.0) == 5.0  # this run's rate: one in 5 s


def test_trials_kept_from_the_study_after_a_crash_count_as_done_before():
    live = view(total=4)
    kept = [TrialRecord(7, "x1", "completed", None, 9, 0.2, {"val_acc": 0.97}, {}),
            TrialRecord(8, "x2", "early_stopped", None, 3, 0.4, {}, {})]
    live.count_done_before(kept)
    live.count_done_before(kept)  # counted once, however often told
    live.on_step_end(0, [trial("a", "TERMINATED"), trial("b")])
    assert "trials 3/4 done (2 completed, 1 stopped early, 0 failed), 1 running" in live.line()
    assert "best val_loss 0.2 (trial-007, val_acc 0.97)" in live.line()
    assert live.done_before == 3


def test_durations_read_like_a_clock():
    assert [duration(s) for s in (45, 190, 3720)] == ["45s", "3m10s", "1h02m"]
