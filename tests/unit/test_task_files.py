"""Task files of a user's: how a reference is read, what a mistake in one says, and the contract check of
the examples (in-process, no Ray)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import registry, task_sources
from pipelines.engine.task_check import check_task
from pipelines.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]

GOOD_PARTS = '''
import hpo
from torch import nn
def load(request):
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    return x, (x[:, 0] > 0).astype(int)
def space(s):
    return {"width": s.int("width", 4, 8, default=4), "epochs": s.int("epochs", 2, 3, default=2)}
'''


def hpo_cli(*argv, cwd):
    return subprocess.run([sys.executable, "-m", "pipelines.cli.commands", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_references_are_kept_as_absolute_paths_and_named_by_their_stem(tmp_path):
    assert task_sources.canonical("my_task.py") == str(Path("my_task.py").resolve())
    assert task_sources.canonical("dir/t.py:FAST") == f"{Path('dir/t.py').resolve()}:FAST"
    assert task_sources.canonical("pkg.mod:TASK") == "pkg.mod:TASK" == registry.canonical("pkg.mod:TASK")
    assert registry.canonical("binary") == "binary"
    assert task_sources.canonical("t.py:TASK") == task_sources.canonical("t.py")  # TASK is a file's default
    assert [task_sources.short_name(r) for r in ("a/b/waves.py", "t.py:FAST", "pkg.mod:MINE", "my task (2).py")] \
        == ["waves", "t", "MINE", "my-task-2"]  # each fit for a sweep's name
    with pytest.raises(UsageError, match="does not exist"):
        registry.check(str(tmp_path / "missing.py"))
    with pytest.raises(UsageError, match="Unknown task 'nosuch'.*a task file"):
        registry.check("nosuch")


@pytest.mark.parametrize("body, says", [
    ("import no_such_module_here\n", r"cannot be loaded \(mine.py, line 1\): ModuleNotFoundError"),
    ("x = 1\n", r"defines no 'TASK'"),
    ("TASK = 3\n", r"has a int as its 'TASK'"),
    (GOOD_PARTS + "TASK = hpo.table_task('t', load=load, build_model=lambda c, i, o: 1 / 0, kind='classification',"
     " space=space)\n", r"The t task's build_model raised \(mine.py, line 11\): ZeroDivisionError"),
    (GOOD_PARTS + "def boom(request):\n    raise RuntimeError('no rows today')\n"
     "TASK = hpo.table_task('t', load=boom, build_model=lambda c, i, o: nn.Linear(i, o), kind='regression',"
     " space=space)\n", r"load_data raised \(mine.py, line 12\): RuntimeError: no rows today"),
    (GOOD_PARTS + "TASK = hpo.table_task('binary', load=load, build_model=lambda c, i, o: nn.Linear(i, o),"
     " kind='classification', space=space)\n", r"named 'binary', as a built-in task is"),
])
@pytest.mark.parametrize("command", ["run", "train"])
def test_a_mistake_in_a_task_file_is_one_error_line_and_nothing_is_written(tmp_path, body, says, command):
    (tmp_path / "mine.py").write_text(body)
    (tmp_path / "config.yaml").write_text("width: 4\nepochs: 2\n")
    given = ["--trials", "1"] if command == "run" else ["--config", "config.yaml"]
    done = hpo_cli(command, "mine.py", *given, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.search(says, done.stderr), done.stderr
    assert not (tmp_path / "ray_results").exists() and not (tmp_path / "mlflow.db").exists()


def test_check_task_passes_the_examples_and_names_what_a_task_lacks(tmp_path):
    lines = []
    for example in ("signal_shapes.py", "count_symbols.py"):
        assert check_task(str(ROOT / "examples" / example), echo=lines.append) == 0, lines
    (tmp_path / "lazy.py").write_text(GOOD_PARTS + (
        "from trainables.task import Task\n"
        "TASK = hpo.Task(name='lazy', default_data='', metrics=(), load_data=lambda r: None,\n"
        "    build_model=lambda c, d: nn.Linear(1, 1), train=lambda c, d, io: None,\n"
        "    evaluate=lambda m, d, s: {}, space=space)\n"))
    lines.clear()
    assert check_task(str(tmp_path / "lazy.py"), echo=lines.append) == 1
    assert any("PROBLEM  a one-epoch trial and its report" in line and "made no report" in line for line in lines)


def test_an_installed_packages_task_is_listed_and_found_by_its_entry_point(tmp_path):
    package = tmp_path / "waves_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text((ROOT / "examples" / "signal_shapes.py").read_text())
    info = tmp_path / "waves_pkg-1.0.dist-info"  # what pip leaves of an installed package's entry points
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: waves-pkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hpo.tasks]\nwaves = waves_pkg.tasks:TASK\n"
                                           "broken = no_such_package_here.tasks:TASK\nbinary = waves_pkg.tasks:TASK\n")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    listed = subprocess.run([sys.executable, "-m", "pipelines.cli.commands", "tasks"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("waves ")]
    assert "package waves-pkg (waves_pkg.tasks:TASK)" in row and "600 generated noisy waves" in row
    [broken] = [line for line in listed.stdout.splitlines() if line.startswith("broken ")]
    assert "cannot load: The task 'broken' cannot be imported: ModuleNotFoundError" in broken
    assert "not usable: a built-in task has this name" in listed.stdout
    checked = subprocess.run([sys.executable, "-m", "pipelines.cli.commands", "check-task", "waves"],
                             capture_output=True, text=True, timeout=120, env=env)
    assert checked.returncode == 0 and "the task meets the contract" in checked.stdout, checked.stdout
