"""`hpo train --config`: a fixed config is checked against the task's space like a --space file."""
import pytest
import yaml

from pipelines.engine.train_once import load_config
from pipelines.errors import UsageError
from pipelines.registry import TASKS

GOOD = {"batch_size": 32, "epochs": 4, "lr": 0.01, "optimizer": "Adam", "n_layers": 2, "n_units_l0": 16,
        "n_units_l1": 8, "activation": "Tanh", "dropout": 0.1, "weight_decay": 1.0e-4,
        "class_weight": "none", "lr_schedule": "constant", "norm": "none", "l1": 0.0, "seed": 7}


def write(tmp_path, config) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config) if not isinstance(config, str) else config)
    return str(path)


def test_a_complete_config_comes_back_as_the_space_builds_it(tmp_path):
    config = load_config(write(tmp_path, GOOD), TASKS["binary"].define_space)
    assert config == GOOD and isinstance(config["epochs"], int)


@pytest.mark.parametrize("change, message", [
    ({"colour": "red"}, "'colour' that this task does not know"),
    ({"n_units_l2": 8}, "'n_units_l2' that this task does not know"),   # n_layers is 2
    ({"epochs": "ten"}, "'epochs'.*int choices"),
    ({"epochs": 2.5}, "'epochs'.*int choices"),
    ({"optimizer": "Nesterov"}, "'optimizer'.*must be one of"),
    ({"lr": -1.0}, "'lr'.*must be > 0"),
    ({"dropout": None}, "'dropout'"),
])
def test_bad_values_are_refused_naming_the_param(tmp_path, change, message):
    with pytest.raises(UsageError, match=message):
        load_config(write(tmp_path, {**GOOD, **change}), TASKS["binary"].define_space)


def test_a_missing_param_takes_the_default_and_a_bad_file_is_refused(tmp_path):
    # A config written before the task had lr_schedule, norm, l1 and class_weight still trains: as it did.
    older = {k: v for k, v in GOOD.items() if k not in ("lr_schedule", "norm", "l1", "class_weight", "activation")}
    config = load_config(write(tmp_path, older), TASKS["binary"].define_space)
    assert config == {**GOOD, "activation": "ReLU"}
    with pytest.raises(UsageError, match="must map param names"):
        load_config(write(tmp_path, "- just\n- a list\n"), TASKS["binary"].define_space)
    with pytest.raises(UsageError, match="does not exist"):
        load_config(str(tmp_path / "nope.yaml"), TASKS["binary"].define_space)
