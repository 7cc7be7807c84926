"""What a sweep's Optuna study costs the driver per trial, by storage: the writes a trial makes
(ask, the binary task's default space suggested, one intermediate value per epoch, tell), timed alone.

    python -m benchmarks.study_storage [--trials 40] [--epochs 10] [--repeats 3]

Variants, interleaved per repeat, each in a new folder: Optuna's journal file as `hpo run` opens
`optuna.journal` (`study_file.storage`), SQLite as `hpo run` opened `optuna.db` until 2026-12-04 (a 300 s
busy timeout), SQLite with write-ahead logging and `synchronous=NORMAL`, and in-memory storage (plain
Optuna's default: no file).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import optuna
from sqlalchemy import event

from benchmarks.common import machine, median, parser, table
from pipelines.engine import study_file
from pipelines.engine.searcher import make_sampler
from search_spaces.binary import define
from search_spaces.space import Space


def journal_as_hpo(folder: Path):
    return study_file.storage(folder / study_file.STUDY_FILE)


def sqlite_as_hpo_was(folder: Path):
    return optuna.storages.RDBStorage(f"sqlite:///{folder / 'optuna.db'}",
                                      engine_kwargs={"connect_args": {"timeout": 300.0}})


def sqlite_wal(folder: Path):
    storage = sqlite_as_hpo_was(folder)

    def pragmas(connection, _record):
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
    event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # connections made from now on get the pragmas
    return storage


def in_memory(_folder: Path):
    return optuna.storages.InMemoryStorage()


VARIANTS = {"journal file, as hpo opens optuna.journal": journal_as_hpo,
            "SQLite, as hpo opened optuna.db until 2026-12-04": sqlite_as_hpo_was,
            "SQLite, WAL + synchronous=NORMAL": sqlite_wal,
            "in memory (plain Optuna)": in_memory}


def one_run(make_storage, trials: int, epochs: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        storage = make_storage(Path(folder))
        study = optuna.create_study(study_name="s", storage=storage, sampler=make_sampler("tpe", 0, trials),
                                    load_if_exists=True)
        started = time.perf_counter()
        for _ in range(trials):
            trial = study.ask()
            define(Space(trial, {}))
            for epoch in range(1, epochs + 1):
                trial.report(1.0 / epoch, epoch)
            study.tell(trial, 1.0 / epochs)
        return time.perf_counter() - started


def main() -> None:
    p = parser(__doc__, trials=40, repeats=3)
    p.add_argument("--epochs", type=int, default=10)
    args = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"study_storage: {machine()}")
    seconds = {name: [] for name in VARIANTS}
    for _ in range(args.repeats):
        for name, make_storage in VARIANTS.items():
            seconds[name].append(one_run(make_storage, args.trials, args.epochs))
    plain = median(seconds["in memory (plain Optuna)"])
    rows = [[name, f"{median(s):.2f}", ", ".join(f"{x:.2f}" for x in s), f"{median(s) / args.trials * 1000:.0f}",
             f"{median(s) / plain:.1f}x"] for name, s in seconds.items()]
    print(f"\n{args.trials} trials of {args.epochs} epochs, TPE, the binary task's default space, "
          f"{args.repeats} interleaved repeats; end: {machine()}\n")
    print(table(["storage", "median s", "runs (s)", "ms per trial", "vs in memory"], rows))


if __name__ == "__main__":
    main()
