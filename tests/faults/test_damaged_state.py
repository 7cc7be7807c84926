"""A finished sweep whose saved files were damaged or deleted, then `hpo resume --trials` for more: a file
that cannot be used is one `error:` naming it, with the sweep's records exactly as they were; what can be
recovered (Tune's tuner.pkl, the Optuna study, a trial's checkpoint) is, and the sweep completes."""
import shutil

import pytest

from tests.faults.sweeps import QUICK, check_every_trial_once, fingerprint, hpo, store_rows

BUDGET = 3


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("damaged")
    done = hpo(folder, "run", *QUICK, "--trials", str(BUDGET), "--name", "base")
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, folder / "ray_results" / "base", f"sqlite:///{folder / 'mlflow.db'}"


def garbage(path):
    path.write_bytes(b"\x00\x01 not what it was \xff" * 10)


def empty(path):
    path.write_bytes(b"")


def without_budget(path):
    path.write_text("task: binary\nname: base\n")


def truncated(path):
    path.write_bytes(path.read_bytes()[:4096])


REFUSED = [
    ("sweep_config.yaml", garbage, "not readable YAML"),
    ("sweep_config.yaml", empty, "empty, or not a mapping"),
    ("sweep_config.yaml", without_budget, "its 'trials' is missing"),
    ("optuna.journal", truncated, "not a sound Optuna study"),
    ("optuna.journal", garbage, "not a sound Optuna study"),
    ("experiment_state-*.json", truncated, "not Tune's saved trials"),
    ("search_gen_state-*.json", garbage, "not Tune's saved search state"),
]


@pytest.mark.parametrize("pattern, damage, said", REFUSED, ids=[f"{p}-{d.__name__}" for p, d, _ in REFUSED])
def test_a_damaged_file_is_one_error_naming_it_and_nothing_changes(finished, pattern, damage, said):
    folder, sweep_dir, tracking = finished
    path = sorted(sweep_dir.glob(pattern))[-1]
    kept = path.read_bytes()
    damage(path)
    try:
        files, rows = fingerprint(sweep_dir, folder / "mlartifacts"), store_rows(tracking)
        done = hpo(folder, "resume", "base", "--trials", str(BUDGET + 1), timeout=120)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith(f"error: The sweep's file '{path}' cannot be used ({said}")
        assert len(done.stderr.strip().splitlines()) == 1 and "Nothing was changed." in done.stderr
        assert fingerprint(sweep_dir, folder / "mlartifacts") == files and store_rows(tracking) == rows
    finally:
        path.write_bytes(kept)


def test_what_can_be_recovered_is_and_the_sweep_goes_on(finished):
    """Runs last in this module: it changes the finished sweep."""
    folder, sweep_dir, tracking = finished
    empty(sweep_dir / "tuner.pkl")                 # written anew from the settings
    (sweep_dir / "optuna.journal").unlink()        # rebuilt from the MLflow runs
    best = open(sweep_dir / "best_config.yaml").read()
    assert best
    for checkpoint in sweep_dir.glob("trial-000_*/checkpoint_*"):  # the linear first trial's weights
        shutil.rmtree(checkpoint)
    done = hpo(folder, "resume", "base", "--trials", str(BUDGET + 2))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "optuna.journal was missing: the study was rebuilt from 3 MLflow runs" in done.stdout
    assert "checkpoints missing: trial-000" in done.stdout
    check_every_trial_once(tracking, sweep_dir, "base", BUDGET + 2)
