"""A sweep's Optuna study on disk: Optuna's journal file `optuna.journal`, an append-only log of the
study's changes, one JSON record a line.

A write is one appended line under Optuna's lock file (`optuna.journal.lock`), a fifth of what an SQLite
transaction cost the driver per trial (docs/benchmarks.md); readers take no lock. A process killed as it
wrote leaves at most a torn last line, which no reader counts, and that lock: `hpo resume`, which holds
the sweep's folder alone (sweep_folder.claim), checks the file, then cuts the one and removes the other.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

STUDY_FILE = "optuna.journal"
LOCK_SUFFIX = ".lock"          # Optuna's lock file beside the journal, while a write is under way
RECORD_START = b'{"op_code":'  # how every record Optuna writes begins


class DamagedStudy(ValueError):
    """The file is not a journal Optuna wrote, or lacks what the sweep's saved state knows of it."""


def storage(path: Path) -> JournalStorage:
    """The study's storage (the file is made where there is none)."""
    return JournalStorage(JournalFileBackend(str(path)))


def load(name: str, path: Path) -> optuna.Study:
    """A study that exists, to read (the report, a warm start)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=storage(path))


def torn_tail(content: bytes) -> int:
    """How many bytes follow the journal's last whole line: a record a killed writer left half-written.
    DamagedStudy where they are not the start of a record."""
    tail = content.rpartition(b"\n")[2]
    if tail and not (tail.startswith(RECORD_START) or RECORD_START.startswith(tail)):
        raise DamagedStudy("its last line is not a record of Optuna's journal")
    return len(tail)


def check_records(path: Path) -> None:
    """DamagedStudy where a whole line of the journal is not a record of Optuna's, or its end is not a torn one.
    (Optuna's replay skips a bad last line in silence, and fails only once a line follows it.)"""
    content = path.read_bytes()
    whole = content[:len(content) - torn_tail(content)]
    for number, line in enumerate(whole.splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or "op_code" not in record:
            raise DamagedStudy(f"line {number} is not a record of Optuna's journal")


def holds_study(path: Path, name: str, saved_numbers: dict | None = None) -> bool:
    """Whether the journal at `path` holds the study `name` (False: no file, or no such study). With the
    searcher's saved state (internals.read_searcher_state), the study must hold every trial it names,
    finished where the state holds it finished: a journal cut short lost them. DamagedStudy otherwise."""
    if not path.exists():
        return False
    check_records(path)
    try:
        found = storage(path)  # reads only: the file exists, and replaying writes nothing
        study_id = found.get_study_id_from_name(name)
    except KeyError:
        return False
    except Exception as exc:  # a replay of records that do not fit together raises what they lead it to
        raise DamagedStudy(f"its records do not replay: {type(exc).__name__}") from None
    if saved_numbers:
        trials = {t.number: t for t in found.get_all_trials(study_id, deepcopy=False)}
        running = set(saved_numbers["live"].values())
        for number in saved_numbers["numbers"].values():
            if number not in trials:
                raise DamagedStudy(f"it lacks trial {number}, which Tune's saved state knows: cut short?")
            if number not in running and trials[number].state == TrialState.RUNNING:
                raise DamagedStudy(f"trial {number} ended in Tune's saved state, not in the study: cut short?")
    return True


def mend(path: Path) -> None:
    """Cut a torn last line and remove a lock left by a killed writer. Only for a process that holds the
    sweep's folder (no other writes the study), after holds_study found the file sound."""
    if path.exists():
        tail = torn_tail(path.read_bytes())
        if tail:
            with open(path, "r+b") as journal:
                journal.truncate(path.stat().st_size - tail)
                os.fsync(journal.fileno())
    lock = Path(str(path) + LOCK_SUFFIX)
    if lock.is_symlink() or lock.exists():
        lock.unlink()
