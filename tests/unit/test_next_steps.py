"""The commands printed after a sweep and a promotion: pasteable from the folder the sweep ran in."""
import shlex

from pipelines.reporting.next_steps import after_promote, after_sweep, resume_command, uri_flag


def test_the_store_is_named_only_when_a_new_shell_would_not_find_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/other.db")  # a new shell will not have it
    assert uri_flag(f"sqlite:///{tmp_path}/mlflow.db") == ""
    assert shlex.split(uri_flag("sqlite:///a b/m.db")) == ["--tracking-uri", "sqlite:///a b/m.db"]


def test_printed_commands_split_back_into_their_words(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    predict, serve = after_promote("models:/my model@champion", "sqlite:///a b/m.db")
    words = shlex.split(predict.split(":", 1)[1])
    assert words[1:3] == ["predict", "models:/my model@champion"]
    assert words[-2:] == ["--tracking-uri", "sqlite:///a b/m.db"]
    assert "MLFLOW_TRACKING_URI=" in serve and "models serve -m 'models:/my model@champion'" in serve
    lines = after_sweep("s1", "http://tracker:5000/", "3", "binary")
    assert lines[0] == "MLflow:      http://tracker:5000/#/experiments/3/runs (experiment 'binary', parent run 's1')"


def test_resume_names_the_storage_only_when_it_is_not_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resume_command("s1", tmp_path / "ray_results" / "s1").endswith(" resume s1")
    words = shlex.split(resume_command("s1", tmp_path / "elsewhere" / "s1"))
    assert words[-2:] == ["--storage", str(tmp_path / "elsewhere")]
