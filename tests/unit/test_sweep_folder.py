"""A sweep's folder (pipelines/engine/sweep_folder.py), without Ray: claimed once, locked while held, its
settings written whole, and each saved file checked before a resume touches anything."""
import json
import subprocess
import sys

import optuna
import pytest
import ray.cloudpickle as cloudpickle

from pipelines.engine import sweep_folder
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


def test_the_study_file_is_checked_for_damage_and_for_the_study(claimed):
    sweep_folder.write_config(claimed, {"task": "binary", "name": "s", "trials": 4, "seed": 0})
    path = claimed / "optuna.db"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="another", storage=f"sqlite:///{path}")
    assert not sweep_folder.study_is_usable(path, "s")
    optuna.create_study(study_name="s", storage=f"sqlite:///{path}")
    assert sweep_folder.study_is_usable(path, "s")
    path.write_bytes(path.read_bytes()[:2048])
    with pytest.raises(UsageError, match="not a sound Optuna study"):
        sweep_folder.study_is_usable(path, "s")


KILLED_MID_WRITE = """
import os, signal, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA cache_size=1")  # the transaction spills into the file before its commit
connection.execute("BEGIN")
for i in range(2000):
    connection.execute("INSERT INTO studies (study_name) VALUES (?)", ("filler-%d-" % i + "x" * 400,))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_study_whose_writer_was_killed_mid_transaction_is_rolled_back_and_usable(claimed):
    path = claimed / "optuna.db"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="s", storage=f"sqlite:///{path}")
    subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(path)], check=False)
    assert (claimed / "optuna.db-journal").exists()  # the hot journal kill -9 leaves
    assert sweep_folder.study_is_usable(path, "s")
    assert [s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{path}")] == ["s"]


def test_tune_state_without_its_search_state_is_a_sweep_not_started_and_without_the_searcher_s_refused(claimed):
    sweep_folder.write_config(claimed, {"task": "binary", "name": "s", "trials": 4, "seed": 0})
    (claimed / "experiment_state-2026-12-01_00-00-00.json").write_text(json.dumps({"trial_data": []}))
    assert not sweep_folder.read_saved(claimed).started  # killed between the two writes of Tune's first save
    state = {"counter": 0, "total_samples": 4, "finished": False, "experiment": None}
    (claimed / "search_gen_state-2026-12-01_00-00-00.json").write_bytes(cloudpickle.dumps(state))
    with pytest.raises(UsageError, match="searcher-state-\\*.pkl' cannot be used .Tune saved its trials"):
        sweep_folder.read_saved(claimed)
