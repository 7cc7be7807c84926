"""The tables the terminal, leaderboard.csv and the report show: values at a trial's best epoch, floats short."""
from pipelines.reporting.tables import leaderboard_table, shown
from trainables.metrics import Objective


def test_floats_are_shown_short_also_when_mlflow_kept_them_as_strings():
    assert [shown(v) for v in ("0.014610481054746523", "1e-05", "32", "Adam", None, 0.97123)] == \
        ["0.01461", "1e-05", "32", "Adam", "", "0.9712"]
    # names that float() would take, or that only look like numbers, stay as they are
    assert [shown(v) for v in ("3e456_00002", "trial-1e5", "v1.2", "nan", "inf", "1_000")] == \
        ["3e456_00002", "trial-1e5", "v1.2", "nan", "inf", "1_000"]


def test_the_leaderboard_shows_each_trials_metrics_at_its_best_epoch():
    rows = [{"trial": "trial-008", "status": "completed", "best_val_loss": 0.1, "val_loss": 0.3, "val_acc": 0.9884,
             "best_val_acc": 1.0, "params": {"lr": "0.014610481054746523"}}]
    headers, table = leaderboard_table(rows)
    assert headers == ["trial", "status", "best val_loss", "val_acc", "lr"]
    assert table == [["trial-008", "completed", 0.1, 1.0, "0.014610481054746523"]]
    headers, table = leaderboard_table(rows, objective=Objective("val_acc"))
    assert headers == ["trial", "status", "best val_acc", "val_loss", "lr"]
    assert table[0][2] == 1.0
