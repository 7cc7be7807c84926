"""Tune's trial folders are named like the trials' MLflow runs, by a namer small enough to be saved with
every trial (no Ray)."""
import pickle
from types import SimpleNamespace

from pipelines.engine.searcher import TrialFolderName


def test_the_folder_of_a_trial_carries_its_optuna_number_from_its_seed():
    name = TrialFolderName(sweep_seed=100)
    assert name(SimpleNamespace(trial_id="ab12", config={"seed": 107, "lr": 0.1})) == "trial-007_ab12"
    assert name(SimpleNamespace(trial_id="ab12", config={"lr": 0.1})) == "trial_ab12"  # no seed: Ray's id only
    assert len(pickle.dumps(name)) < 200
