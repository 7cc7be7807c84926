"""Bad input: exit status 2, one `error:` line naming the value, nothing written. No Ray is started:
every check runs before it."""
import os
import subprocess
import sys

import pytest

from pipelines.cli.commands import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "space.yaml").write_text("lr: {type: float, low: 0.1, high: 0.01}\n")
    (tmp_path / "short.txt").write_text("to be or not to be\n" * 20)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1") * 100)
    (tmp_path / "words.csv").write_text("a,b,label\n" + "".join(f"{i},x{i},{i % 2}\n" for i in range(30)))
    (tmp_path / "config.yaml").write_text("batch_size: 32\nepochs: 3\nlr: 0.01\noptimizer: Adam\nn_layers: 1\n"
                                          "n_units_l0: 8\nactivation: ReLU\ndropout: 0.0\nweight_decay: 0.0\n"
                                          "class_weight: none\nlr_schedule: constant\nnorm: none\nl1: 0.0\n"
                                          "momentum: 0.9\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "lr.yaml").write_text("lr: {type: float, low: 0.001, high: 0.1, log: true}\n")
    (tmp_path / "enqueue.yaml").write_text("- {lr: 0.01, n_layers: 1}\n- {lr: 5}\n")
    (tmp_path / "unknown.yaml").write_text("- {momentum: 0.9}\n")
    (tmp_path / "norm.yaml").write_text("norm: {type: categorical, choices: [group]}\n")
    (tmp_path / "schedule.yaml").write_text("lr_schedule: {type: categorical, choices: [linear]}\n")
    (tmp_path / "clip.yaml").write_text("grad_clip: {type: categorical, choices: [-1.0, 1.0]}\n")
    (tmp_path / "l1.yaml").write_text("l1: {type: float, low: -0.1, high: 0.1}\n")
    return tmp_path


CASES = [
    (["run", "nosuchtask"], "Unknown task 'nosuchtask'; choose one of binary, multiclass, regression"),
    (["run", "binary", "--trials", "0"], "--trials must be an integer > 0, got 0"),
    (["run", "binary", "--trials", "many"], "expected an integer, got 'many'"),
    (["run", "binary", "--max-epochs", "-3"], "--max-epochs must be an integer > 0, got -3"),
    (["run", "binary", "--cpus-per-trial", "0"], "--cpus-per-trial must be a number > 0"),
    (["run", "binary", "--gpus-per-trial", "-1"], "--gpus-per-trial must be a number >= 0"),
    (["run", "binary", "--gpus-per-trial", "1.5"], "above 1 must be a whole number"),
    (["run", "binary", "--gpus-per-trial", "lots"], "expected a number or auto, got 'lots'"),
    (["run", "binary", "--storage", "s3://bucket/hpo"], "--storage must be a folder, got the URI 's3://bucket/hpo'"),
    (["run", "binary", "--time-budget", "0"], "--time-budget must be a number > 0"),
    (["run", "binary", "--search", "bayes"], "--search must be one of tpe, random, grid, gp, cmaes, qmc, got 'bayes'"),
    (["run", "binary", "--search", "grid"], "A --search grid searches the params a --space file gives as choices"),
    (["run", "binary", "--search", "grid", "--space", "lr.yaml"],
     "A --search grid takes params with choices or int ranges with a step; 'lr' (float [0.001, 0.1] log) is "
     "continuous"),
    (["run", "binary", "--scheduler", "pbt"], "--scheduler must be one of asha, hyperband, median, fifo, got 'pbt'"),
    (["run", "binary", "--grace-period", "0"], "--grace-period must be an integer > 0, got 0"),
    (["run", "binary", "--reduction-factor", "1"], "--reduction-factor must be an integer >= 2, got 1"),
    (["run", "binary", "--scheduler", "median", "--reduction-factor", "2"],
     "--reduction-factor is for the asha and hyperband schedulers, not median"),
    (["run", "binary", "--scheduler", "fifo", "--grace-period", "3"], "--grace-period is for a scheduler"),
    (["run", "binary", "--patience", "-2"], "--patience must be an integer > 0, got -2"),
    (["run", "binary", "--seed", "-1"], "--seed must be an integer from 0 to 2147483647, got -1"),
    (["run", "binary", "--seed", "99999999999"], "--seed must be an integer from 0 to 2147483647"),
    (["train", "binary", "--config", "config.yaml", "--seed", "-3"], "--seed must be an integer from 0"),
    (["run", "binary", "--warm-start", "nosuch"], "No sweep named 'nosuch' to warm-start from"),
    (["run", "binary", "--enqueue", "list.yaml"], "--enqueue file 'list.yaml' must be a YAML list of configs"),
    (["run", "binary", "--enqueue", "enqueue.yaml"], "In --enqueue 'enqueue.yaml', config 2: 'lr' is 5, outside"),
    (["run", "binary", "--enqueue", "unknown.yaml"], "config 1: the task has no param(s) 'momentum'"),
    (["run", "binary", "--space", "norm.yaml"], "The 'norm' of the space must be one of none, batch, layer"),
    (["run", "binary", "--space", "schedule.yaml"],
     "The 'lr_schedule' of the space must be one of constant, cosine, step, plateau, onecycle, got 'linear'"),
    (["run", "rnn", "--space", "clip.yaml"], "The 'grad_clip' of the space must be >= 0.0, got -1.0"),
    (["run", "binary", "--space", "l1.yaml"], "The 'l1' of the space must be >= 0.0, got -0.1"),
    (["run", "binary", "--name", "a/b"], "--name must be letters, digits"),
    (["run", "binary", "--space", "space.yaml"], "'low' of param 'lr' must be <= its 'high'"),
    (["run", "binary", "--space", "missing.yaml"], "does not exist"),
    (["run", "binary", "--data", "missing.csv", "--target", "y"], "'missing.csv' does not exist"),
    (["run", "binary", "--data", "words.csv", "--target", "label"],
     "No column of the table is one a model can use: 'a': an identifier: the row numbers 0 to 29; 'b': an identifier"),
    (["run", "binary", "--data", "words.csv", "--target", "lable", "--drop", "c,a"],
     "the --target 'lable' is not one of its columns; the --drop column(s) 'c' are not among its columns"),
    (["run", "binary", "--data", "words.csv", "--target", "label", "--drop", "label"], "--drop names the --target"),
    (["run", "binary", "--drop", "a"], "--drop names columns of --data; give --data FILE too"),
    (["run", "binary", "--data", "words.csv", "--target", "label", "--drop", "a,,b"],
     "--drop must be column names separated by commas"),
    (["run", "binary", "--data", "words.csv"], "needs --target COL"),
    (["run", "binary", "--target", "label"], "give --data FILE too"),
    (["run", "transformer", "--data", "short.txt"], "has 380 characters; the transformer task needs at least"),
    (["run", "bigram", "--data", "latin1.txt"], "'latin1.txt' is not UTF-8 text"),
    (["run", "binary", "--tracking-uri", "ftp://host/x"], "unsupported scheme 'ftp'"),
    (["run", "binary", "--tracking-uri", "sqlite:////no/such/dir/m.db"], "'/no/such/dir' does not exist"),
    (["run", "binary", "--tracking-uri", "http://127.0.0.1:9"], "cannot be reached"),
    (["run", "binary", "--storage", "/proc/forbidden"], "cannot be written"),
    (["run", "binary", "--storage", "words.csv/results"], "cannot be written"),
    (["run", "regression", "--dataset", "boston"], "must be one of diabetes, california_housing"),
    (["run", "rnn", "--data", "words.csv", "--target", "price"], "'price' is not a column"),
    (["run", "rnn", "--data", "words.csv", "--target", "b"], "series 'b' of 'words.csv' must be numeric"),
    (["run", "cnn", "--data", "words.csv"], "'words.csv' does not exist or is not a folder"),
    (["run", "cnn", "--dataset", "svhn"], "must be one of digits, mnist, fashion_mnist, cifar10"),
    (["run", "binary", "--bogus"], "unrecognized arguments: --bogus"),
    (["run", "binary", "--cv", "1"], "--cv must be 0 (the single validation split) or a number of folds >= 2, got 1"),
    (["run", "binary", "--cv", "-2"], "--cv must be an integer >= 0, got -2"),
    (["run", "multiclass", "--cv", "50"], "--cv 50 asks for more folds than train+val has rows of class"),
    (["run", "rnn", "--cv", "3"], "The rnn task has no cross-validation: --cv must be 0 for it, got 3"),
    (["run", "binary", "--ensemble", "-1"], "--ensemble must be an integer >= 0, got -1"),
    (["run", "bigram", "--ensemble", "3"], "The bigram task cannot average models: --ensemble must be 0 or 1"),
    (["run", "binary", "--metric", "val_r2"], "--metric must be a metric the binary task reports: val_loss, val_acc"),
    (["run", "regression", "--metric", "accuracy"], "reports: val_loss, val_rmse, val_mae, val_r2; got 'accuracy'"),
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
    (["train", "binary", "--config", "config.yaml", "--metric", "val_rmse"], "--metric must be a metric the binary"),
    (["train", "binary", "--config", "missing.yaml"], "'missing.yaml' does not exist"),
    (["train", "binary", "--config", "list.yaml"], "must map param names to values"),
    (["train", "binary", "--config", "config.yaml"], "'momentum' that this task does not know"),
    (["launch"], "invalid choice: 'launch'"),
    ([], "the following arguments are required: command"),
]


@pytest.mark.parametrize("argv, fragment", CASES, ids=[" ".join(c[0]) or "empty" for c in CASES])
def test_bad_input_is_one_error_line_and_exit_2(workdir, capsys, argv, fragment):
    before = sorted(p.name for p in workdir.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err
    assert sorted(p.name for p in workdir.iterdir()) == before  # no mlflow.db, no ray_results


def test_an_existing_sweep_name_is_refused(workdir, capsys):
    (workdir / "ray_results" / "old").mkdir(parents=True)
    assert main(["run", "binary", "--name", "old"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "hpo resume old" in err


def test_the_installed_command_prints_no_traceback(workdir):
    hpo = os.path.join(os.path.dirname(sys.executable), "hpo")
    done = subprocess.run([hpo, "run", "binary", "--space", "space.yaml"], cwd=workdir,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


HEAVY = {"torch", "ray", "mlflow", "sklearn"}  # seconds each to import


def imports_of(argv, cwd=None):
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipelines.cli.commands", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": ROOT})
    return done, {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}


def test_the_task_list_answers_without_importing_torch_or_ray():
    done, imported = imports_of(["tasks"])
    assert done.returncode == 0 and done.stdout.splitlines()[2].split()[:4] == ["binary", "built", "in", "scikit-learn"]
    assert len(done.stdout.splitlines()) == 2 + 7 + 1 and not imported & HEAVY, imported & HEAVY


def test_help_lists_the_tasks_and_examples_without_importing_torch_or_ray():
    done, imported = imports_of(["run", "--help"])
    assert done.returncode == 0 and "one of binary, multiclass, regression" in done.stdout
    assert "examples:" in done.stdout and "hpo run cnn --data photos/" in done.stdout
    assert not imported & HEAVY, imported & HEAVY


def test_bad_flags_and_missing_data_answer_before_torch_or_ray_load(tmp_path):
    for argv in (["run", "binary", "--trials", "0"], ["run", "binary", "--data", "missing.csv", "--target", "y"]):
        done, imported = imports_of(argv, cwd=tmp_path)
        assert done.returncode == 2 and "\nerror: " in done.stderr and not imported & HEAVY, argv
