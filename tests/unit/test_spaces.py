"""The default spaces: define-by-run through Optuna's FixedTrial and a short in-memory study."""
import optuna
import pytest

from pipelines.registry import TASKS
from search_spaces.space import Space, check_space
from trainables.optimizers import DENSE_OPTIMIZERS

COMMON = {"batch_size", "epochs", "n_layers", "lr", "optimizer", "activation", "dropout", "weight_decay"}


@pytest.mark.parametrize("name", ["binary", "multiclass", "regression"])
def test_space_has_the_design_dimensions(name):
    params = check_space(TASKS[name].define_space).params
    assert COMMON <= set(params)
    assert params["lr"].log and params["lr"].low > 0
    assert set(params["optimizer"].choices) == set(DENSE_OPTIMIZERS)
    # Unequal classes: the classifiers' losses weigh every row the same, or the classes balanced.
    if name != "regression":
        assert params["class_weight"].choices == ("none", "balanced")


def test_fixed_trial_gives_a_conditional_width_per_layer():
    values = {"batch_size": 32, "epochs": 7, "lr": 0.01, "optimizer": "Adam", "n_layers": 2,
              "n_units_l0": 64, "n_units_l1": 16, "activation": "Tanh", "dropout": 0.1, "weight_decay": 1e-4,
              "class_weight": "balanced", "lr_schedule": "constant", "norm": "none", "l1": 0.0}
    config = TASKS["binary"].define_space(Space(optuna.trial.FixedTrial(values)))
    assert config == values
    assert "n_units_l2" not in config


def test_regression_adds_its_loss():
    assert TASKS["regression"].define_space(Space(optuna.trial.FixedTrial({
        "batch_size": 32, "epochs": 7, "lr": 0.01, "optimizer": "Adam", "n_layers": 1, "n_units_l0": 8,
        "activation": "ReLU", "dropout": 0.0, "weight_decay": 1e-4, "loss": "L1", "lr_schedule": "constant",
        "norm": "none", "l1": 0.0})))["loss"] == "L1"


def test_short_study_samples_inside_the_ranges():
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1, n_startup_trials=3))

    def objective(trial):
        config = TASKS["multiclass"].define_space(Space(trial))
        assert 5 <= config["epochs"] <= 50 and 1e-4 <= config["lr"] <= 1e-1
        assert len([k for k in config if k.startswith("n_units_l")]) == config["n_layers"]
        return config["lr"]

    study.optimize(objective, n_trials=12)
    assert len(study.trials) == 12


def test_override_and_cap_reach_the_sampled_values():
    from search_spaces.space import ParamSpec

    overrides = {"optimizer": ParamSpec("categorical", choices=("SGD",)), "epochs": ParamSpec("int", 10, 40)}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(10):
        config = TASKS["binary"].define_space(Space(study.ask(), overrides, caps={"epochs": 12}))
        assert config["optimizer"] == "SGD" and 10 <= config["epochs"] <= 12


def test_a_space_file_opens_the_schedules_norms_l1_and_clipping_that_the_default_keeps_at_todays():
    from search_spaces.yaml_space import parse_space

    default = check_space(TASKS["binary"].define_space).params
    assert (default["lr_schedule"].choices, default["norm"].choices, (default["l1"].low, default["l1"].high)) == (
        ("constant",), ("none",), (0.0, 0.0))
    wider = parse_space({"lr_schedule": {"type": "categorical", "choices": ["cosine"]},
                         "norm": {"type": "categorical", "choices": ["batch", "layer"]},
                         "l1": {"type": "float", "low": 0.0, "high": 1e-3}})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    config = TASKS["binary"].define_space(Space(study.ask(), wider))
    assert config["lr_schedule"] == "cosine" and 0 <= config["warmup_epochs"] <= 5
    assert config["norm"] in ("batch", "layer") and 0 < config["l1"] <= 1e-3
    clip = parse_space({"grad_clip": {"type": "categorical", "choices": [0.5, 1.0]}})
    other = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    assert TASKS["rnn"].define_space(Space(other.ask(), clip))["grad_clip"] in (0.5, 1.0)
