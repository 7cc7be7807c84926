"""A sweep's folder (pipelines/engine/sweep_folder.py), without Ray: claimed once, locked while held, its
settings written whole, and each saved file checked before a resume touches anything."""
import json
import os
import subprocess
import sys

import optuna
import pytest
import ray.cloudpickle as cloudpickle

from pipelines.engine import study_file, sweep_folder
from pipelines.errors import UsageError


@pytest.fixture
def claimed(tmp_path):
    folder = tmp_path / "ray_results" / "s"
    sweep_folder.claim(folder)
    yield folder
    sweep_folder.release(folder)


def test_a_name_is_claimed_once_and_its_lock_refuses_a_second_holder(claimed):
    with pytest.raises(UsageError, match="A sweep named 's' already exists"):
        sweep_folder.claim(claimed)
    with pytest.raises(UsageError, match=r"is running in process \d+"):
        sweep_folder.hold(claimed)  # flock: a second open of the file conflicts, in this process too
    sweep_folder.release(claimed)
    sweep_folder.hold(claimed)      # released: it can be taken again


def test_a_holder_names_itself_in_the_lock_only_when_told(claimed):
    lock = claimed / sweep_folder.LOCK_FILE
    sweep_folder.release(claimed)
    lock.write_text("process 1\n")  # the sweep that crashed
    sweep_folder.hold(claimed)       # a resume that may still refuse: the file as it was
    assert lock.read_text() == "process 1\n"
    sweep_folder.name_holder(claimed)
    assert lock.read_text() == f"process {os.getpid()}\n"


def test_settings_are_written_whole_and_read_back(claimed):
    sweep_folder.write_config(claimed, {"task": "binary", "name": "s", "trials": 4, "seed": 0})
    assert not list(claimed.glob("*.partial"))
    saved = sweep_folder.read_saved(claimed)
    assert saved.config["trials"] == 4 and not saved.started and not saved.has_study


@pytest.mark.parametrize("text, said", [
    ("", "empty, or not a mapping"),
    ("task: [unclosed", "not readable YAML"),
    ("task: binary\nname: s\nseed: 0\n", "its 'trials' is missing"),
    ("task: binary\nname: other\ntrials: 4\nseed: 0\n", "the settings of the sweep 'other'"),
])
def test_damaged_settings_are_refused_naming_the_file(claimed, text, said):
    (claimed / "sweep_config.yaml").write_text(text)
    with pytest.raises(UsageError, match=said) as refused:
        sweep_folder.read_saved(claimed)
    assert str(claimed / "sweep_config.yaml") in str(refused.value) and "Nothing was changed" in str(refused.value)


def test_a_folder_without_settings_says_none_of_it_ran(claimed):
    with pytest.raises(UsageError, match="none of it ran"):
        sweep_folder.read_saved(claimed)


def told_study(path, name="s", trials=3):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=name, storage=study_file.storage(path))
    for _ in range(trials):
        trial = study.ask()
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        trial.report(0.5, 1)
        study.tell(trial, 0.4)
    return study


def test_the_study_file_is_checked_for_damage_and_for_the_study(claimed):
    sweep_folder.write_config(claimed, {"task": "binary", "name": "s", "trials": 4, "seed": 0})
    path = claimed / study_file.STUDY_FILE
    assert not sweep_folder.study_is_usable(path, "s") and not path.exists()  # looked at, not made
    told_study(path, "another", trials=1)
    assert not sweep_folder.study_is_usable(path, "s")
    told_study(path, "s")
    assert sweep_folder.study_is_usable(path, "s")
    whole = path.read_bytes()
    for damage in (b"\x00\x01 not what it was \xff" * 10, whole.replace(b"\n", b"\n#\n", 1), whole + b"[1]\n"):
        path.write_bytes(damage)
        with pytest.raises(UsageError, match="not a sound Optuna study"):
            sweep_folder.study_is_usable(path, "s")
        assert path.read_bytes() == damage  # refused, not touched


def test_a_journal_cut_short_lacks_trials_the_saved_state_knows(claimed):
    path = claimed / study_file.STUDY_FILE
    told_study(path)
    lines = path.read_bytes().splitlines(keepends=True)
    saved = {"numbers": {"a": 0, "b": 1, "c": 2}, "live": {}}
    assert sweep_folder.study_is_usable(path, "s", saved)
    last_made = max(i for i, line in enumerate(lines) if line.startswith(b'{"op_code":4,'))  # trial 2 made
    path.write_bytes(b"".join(lines[:last_made]))
    with pytest.raises(UsageError, match="lacks trial 2"):
        sweep_folder.study_is_usable(path, "s", saved)
    path.write_bytes(b"".join(lines[:-1]))  # trial 2 made, its end lost
    with pytest.raises(UsageError, match="trial 2 ended in Tune's saved state, not in the study"):
        sweep_folder.study_is_usable(path, "s", saved)
    assert sweep_folder.study_is_usable(path, "s", {"numbers": saved["numbers"], "live": {"c": 2}})  # still running


KILLED_MID_WRITE = """
import os, signal, sys
from optuna.storages.journal import JournalFileSymlinkLock
JournalFileSymlinkLock(sys.argv[1]).acquire()  # Optuna's lock, as a write takes it
with open(sys.argv[1], "ab") as journal:
    journal.write(b'{"op_code":4,"worker_id":"w","study_id":0,"datet')
    journal.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_journal_whose_writer_was_killed_mid_write_is_mended_and_goes_on(claimed):
    path = claimed / study_file.STUDY_FILE
    told_study(path)
    subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(path)], check=False)
    lock = claimed / (study_file.STUDY_FILE + study_file.LOCK_SUFFIX)
    assert lock.is_symlink() and not path.read_bytes().endswith(b"\n")  # the stale lock and the torn record
    assert sweep_folder.study_is_usable(path, "s", {"numbers": {"a": 0, "b": 1, "c": 2}, "live": {}})
    study_file.mend(path)
    assert not lock.is_symlink() and path.read_bytes().endswith(b"\n")
    study = study_file.load("s", path)
    study.tell(study.ask(), 0.3)  # without the stale lock's 30 s wait; the new record after the last whole one
    assert [t.state.name for t in study_file.load("s", path).trials] == ["COMPLETE"] * 4


def test_tune_state_without_its_search_state_is_a_sweep_not_started_and_without_the_searcher_s_refused(claimed):
    sweep_folder.write_config(claimed, {"task": "binary", "name": "s", "trials": 4, "seed": 0})
    (claimed / "experiment_state-2026-12-01_00-00-00.json").write_text(json.dumps({"trial_data": []}))
    assert not sweep_folder.read_saved(claimed).started  # killed between the two writes of Tune's first save
    state = {"counter": 0, "total_samples": 4, "finished": False, "experiment": None}
    (claimed / "search_gen_state-2026-12-01_00-00-00.json").write_bytes(cloudpickle.dumps(state))
    with pytest.raises(UsageError, match="searcher-state-\\*.pkl' cannot be used .Tune saved its trials"):
        sweep_folder.read_saved(claimed)
