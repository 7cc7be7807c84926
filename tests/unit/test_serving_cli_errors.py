"""Bad input to ui, promote, predict and train: exit 2, one `error:` line, nothing written."""
import pytest

from pipelines.cli import main


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "config.yaml").write_text("batch_size: 32\nepochs: 3\nlr: 0.01\noptimizer: Adam\nn_layers: 1\n"
                                          "n_units_l0: 8\nactivation: ReLU\ndropout: 0.0\nweight_decay: 0.0\n"
                                          "momentum: 0.9\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    return tmp_path


CASES = [
    (["ui", "--port", "0"], "--port must be between 1 and 65535, got 0"),
    (["ui", "--port", "many"], "expected an integer, got 'many'"),
    (["ui", "--tracking-uri", "ftp://host/x"], "unsupported scheme 'ftp'"),
    (["promote", "s1", "--alias", "latest"], "--alias must be letters"),
    (["promote", "s1", "--alias", "v2"], "--alias must be letters"),
    (["promote", "s1", "--model-name", "a/b"], "--model-name must be non-empty, without '/'"),
    (["predict", "models:/m@champion", "--data", "missing.csv"], "--data 'missing.csv' does not exist"),
    (["predict", "models:/m@champion"], "the following arguments are required: --data"),
    (["train", "nosuchtask", "--config", "config.yaml"], "Unknown task 'nosuchtask'"),
    (["train", "binary"], "the following arguments are required: --config"),
    (["train", "binary", "--config", "missing.yaml"], "'missing.yaml' does not exist"),
    (["train", "binary", "--config", "list.yaml"], "must map param names to values"),
    (["train", "binary", "--config", "config.yaml"], "'momentum' that this task does not know"),
]


@pytest.mark.parametrize("argv, fragment", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_error_line_and_exit_2(workdir, capsys, argv, fragment):
    before = sorted(p.name for p in workdir.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err
    assert sorted(p.name for p in workdir.iterdir()) == before  # no mlflow.db
