"""--space files: parsing, validation against the task's params, and arbitrary YAML."""
import optuna
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.errors import SpaceError
from pipelines.registry import TASKS
from search_spaces.space import ParamSpec, Space, check_space
from search_spaces.yaml_space import load_space_file, parse_space

GOOD = """
batch_size: {type: categorical, choices: [16, 32, 64, 128]}
epochs:     {type: int, low: 5, high: 50}
n_layers:   {type: int, low: 1, high: 3}
lr:         {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
optimizer:  {type: categorical, choices: [SGD, Adam, AdamW, RMSprop]}
"""


def write(tmp_path, text):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


def test_design_example_loads_and_fits_every_tabular_task(tmp_path):
    overrides = load_space_file(write(tmp_path, GOOD))
    assert overrides["lr"] == ParamSpec("float", 1e-4, 1e-1, log=True)
    assert overrides["batch_size"].choices == (16, 32, 64, 128)
    for name in ("binary", "multiclass", "regression"):
        check_space(TASKS[name].define_space, overrides)


def test_plain_1e_minus_4_is_read_as_a_number(tmp_path):
    # PyYAML reads 1e-4 (no dot) as a string; users write it that way all the time.
    assert load_space_file(write(tmp_path, "lr: {type: float, low: 1e-4, high: 1e-1, log: true}"))["lr"].low == 1e-4


@pytest.mark.parametrize("text, fragment", [
    ("lr: {type: float, low: 0.1, high: 0.01}", "'low' of param 'lr' must be <= its 'high'"),
    ("lr: {type: float, low: 0, high: 0.1, log: true}", "must be > 0"),
    ("lr: {type: gaussian, low: 0, high: 1}", "must be one of int, float, categorical"),
    ("lr: {type: float, low: 0.1}", "needs 'high'"),
    ("lr: {type: float, low: 0.01, high: 0.1, lg: true}", "unknown key(s) lg"),
    ("epochs: {type: int, low: 1.5, high: 5}", "whole number"),
    ("lr: {type: float, low: abc, high: 1}", "finite number"),
    ("lr: {type: float, low: .nan, high: 1}", "finite number"),
    ("lr: {type: float, low: 0.01, high: 0.1, log: yes please}", "true or false"),
    ("lr: {type: float, low: 0.01, high: 0.1, step: 0.01, log: true}", "both 'step' and 'log"),
    ("optimizer: {type: categorical, choices: []}", "non-empty list"),
    ("optimizer: {type: categorical, choices: [Adam, Adam]}", "must not repeat"),
    ("optimizer: {type: categorical, choices: [[1, 2]]}", "strings, numbers"),
    ("lr: 0.01", "must be a mapping"),
    ("- lr", "non-empty mapping"),
    ("", "non-empty mapping"),
    ("lr: {type: float, low: [", "not valid YAML"),
])
def test_bad_files_raise_one_clear_error(tmp_path, text, fragment):
    with pytest.raises(SpaceError) as caught:
        load_space_file(write(tmp_path, text))
    assert fragment in str(caught.value)
    assert str(tmp_path / "space.yaml") in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(SpaceError, match="does not exist"):
        load_space_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text, fragment", [
    ("learning_rate: {type: float, low: 0.01, high: 0.1}", "'learning_rate' that this task does not know"),
    ("optimizer: {type: categorical, choices: [Adam, SparseAdam]}", "must be one of"),
    ("optimizer: {type: categorical, choices: [Adamm]}", "must be one of"),
    ("activation: {type: categorical, choices: [GELU]}", "must be one of ReLU, Tanh, Sigmoid"),
    ("epochs: {type: float, low: 1, high: 5}", "must be of type int or categorical"),
    ("epochs: {type: int, low: 0, high: 5}", "'epochs' of the space must be >= 1"),
    ("batch_size: {type: categorical, choices: [16, 32.5]}", "choices like"),
    ("batch_size: {type: categorical, choices: [0, 16]}", ">= 1"),
    ("lr: {type: float, low: -1, high: 0.1}", "The 'lr' of the space must be > 0, got -1"),
    ("lr: {type: categorical, choices: [fast]}", "must have float choices"),
    ("dropout: {type: float, low: 0.5, high: 1.0}", "<= 0.95"),
    ("n_layers: {type: int, low: 1, high: 50}", "<= 8"),
    ("optimizer: {type: int, low: 1, high: 2}", "must be of type categorical"),
])
def test_overrides_are_checked_against_the_task(text, fragment):
    with pytest.raises(SpaceError) as caught:
        check_space(TASKS["binary"].define_space, parse_space(yaml.safe_load(text)))
    assert fragment in str(caught.value)


def test_widths_of_extra_layers_are_known_when_n_layers_grows():
    overrides = parse_space(yaml.safe_load(
        "n_layers: {type: int, low: 4, high: 5}\nn_units_l4: {type: int, low: 2, high: 4}"))
    summary = check_space(TASKS["binary"].define_space, overrides)
    assert summary.largest["n_layers"] == 5 and summary.largest["n_units_l4"] == 4


def test_max_epochs_caps_the_epochs_range():
    summary = check_space(TASKS["binary"].define_space, {}, caps={"epochs": 3})
    assert summary.largest["epochs"] == 3
    summary = check_space(TASKS["binary"].define_space,
                          parse_space({"epochs": {"type": "categorical", "choices": [2, 10, 40]}}), caps={"epochs": 12})
    assert summary.largest["epochs"] == 10


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                         st.text(max_size=8), st.sampled_from(["int", "float", "categorical", "low", "high"]))
yaml_values = st.recursive(yaml_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(["type", "low", "high", "log", "step",
                                                                     "choices"])), children, max_size=5)),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["lr", "epochs", "batch_size", "optimizer", "n_layers", "dropout", "x"]),
                       yaml_values, max_size=4))
def test_arbitrary_yaml_loads_a_valid_space_or_raises_space_error(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("h") / "space.yaml"
    path.write_text(yaml.safe_dump(document))
    try:
        overrides = load_space_file(path)
        check_space(TASKS["binary"].define_space, overrides)
    except SpaceError:
        return
    # A space that passed the checks must be one Optuna can sample from.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    config = TASKS["binary"].define_space(Space(study.ask(), overrides))
    assert config["epochs"] >= 1 and config["lr"] > 0
