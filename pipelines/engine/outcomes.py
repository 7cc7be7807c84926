"""How a trial's results read: its name, its outcome, the epochs a report carries, an error's last line.

The driver-side rooms (the searcher, the MLflow logger, the live view, the summary) share these words.
"""
from __future__ import annotations


def trial_label(number: int | None, trial_id: str) -> str:
    """How a trial is named everywhere (MLflow run, Tune folder, tables): its Optuna number, else Ray's id."""
    return f"trial-{number:03d}" if number is not None else trial_id


def outcome_of(result: dict | None, errored: bool = False) -> str:
    """completed (ended by itself), early_stopped (stopped from outside first) or failed."""
    if errored or (result and result.get("diverged")):
        return "failed"
    return "completed" if result and result.get("final") else "early_stopped"


def epochs_of(result: dict) -> list[dict]:
    """The per-epoch results a report carries (one for a report that was not batched)."""
    return result.get("history") or [result]


def last_line(text: str) -> str:
    """The last non-empty line of an error text: the exception and its message."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"
