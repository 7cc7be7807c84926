"""A sweep folder moved or copied, then resumed with more trials: it writes only into the folder and the
store it is given. A copy that would write into the original's records is refused, nothing changed; a
moved folder goes on where it is now."""
import shutil

from tests.faults.sweeps import QUICK, check_every_trial_once, fingerprint, hpo, runs, store_rows

BUDGET = 3


def test_a_copy_never_touches_the_original_and_a_moved_folder_goes_on_in_place(tmp_path):
    original = tmp_path / "original"
    original.mkdir()
    done = hpo(original, "run", *QUICK, "--trials", str(BUDGET), "--name", "wander")
    assert done.returncode == 0, done.stdout + done.stderr
    tracking = f"sqlite:///{original / 'mlflow.db'}"
    files, rows = fingerprint(original), store_rows(tracking)

    # The whole working folder copied: its store's artifact folder is still the original's.
    whole = tmp_path / "whole-copy"
    shutil.copytree(original, whole)
    copied_store = f"sqlite:///{whole / 'mlflow.db'}"
    refused = hpo(whole, "resume", "wander", "--trials", str(BUDGET + 1), "--tracking-uri", copied_store)
    assert refused.returncode == 2 and "keeps this sweep's artifacts in" in refused.stderr, refused.stderr
    assert fingerprint(original) == files and store_rows(tracking) == rows

    # The sweep folder alone copied, resumed with the original's store: it would write into its runs.
    alone = tmp_path / "folder-copy" / "ray_results"
    shutil.copytree(original / "ray_results" / "wander", alone / "wander")
    refused = hpo(tmp_path, "resume", "wander", "--trials", str(BUDGET + 1), "--storage", str(alone),
                  "--tracking-uri", tracking)
    assert refused.returncode == 2 and "is a copy of the sweep in" in refused.stderr, refused.stderr
    assert fingerprint(original) == files and store_rows(tracking) == rows

    # The sweep folder moved: it goes on where it is now, with the store it ran with.
    moved = tmp_path / "moved" / "ray_results"
    moved.mkdir(parents=True)
    shutil.move(original / "ray_results" / "wander", moved / "wander")
    done = hpo(tmp_path, "resume", "wander", "--trials", str(BUDGET + 2), "--storage", str(moved))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (original / "ray_results" / "wander").exists()
    check_every_trial_once(tracking, moved / "wander", "wander", BUDGET + 2)
    parents, _ = runs(tracking, "wander")
    assert parents[0].data.tags["hpo.storage"] == str(moved / "wander")
