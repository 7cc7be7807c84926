"""The code's shape: rooms with a docstring each, small modules, no import cycle (imports inside functions
count), Ray's, Optuna's and MLflow's private attributes only in an internals module."""
import ast
import dataclasses
import re
from pathlib import Path

import pytest

from pipelines import errors
from pipelines.engine.settings import SweepSettings, check_settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipelines", "search_spaces", "trainables")
MODULES = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
           for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
PRIVATE = re.compile(r"(?<![\w.])(?!self\.|cls\.)(?:[A-Za-z_]\w*|\S*[\)\]])\.(_[a-z]\w*)\b")


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def test_no_import_cycle_between_the_projects_modules():
    graph = {name: imports_of(path) - {name} for name, path in MODULES.items()}
    done, on_path = set(), []

    def visit(name):
        if name in on_path:
            pytest.fail("import cycle: " + " -> ".join(on_path[on_path.index(name):] + [name]))
        if name in done:
            return
        on_path.append(name)
        for target in graph[name]:
            visit(target)
        on_path.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_no_module_over_300_lines():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 300}
    assert not long


def test_every_room_says_its_job_in_its_docstring():
    rooms = [p for p in (ROOT / "pipelines").iterdir() if (p / "__init__.py").is_file()]
    assert {p.name for p in rooms} >= {"engine", "tracking", "reporting", "serving", "cli"}
    assert all(ast.get_docstring(ast.parse((p / "__init__.py").read_text())) for p in [ROOT / "pipelines", *rooms])


def test_private_attributes_of_other_objects_only_in_an_internals_module():
    uses = [f"{path.relative_to(ROOT)}:{i}" for path in MODULES.values() if "internals" not in path.name
            for i, line in enumerate(path.read_text().splitlines(), 1)
            if any(not m.group(1).startswith("__") for m in PRIVATE.finditer(line.split("#")[0]))]
    assert not uses


def test_every_input_error_is_one_type_the_cli_catches():
    assert all(issubclass(e, errors.InputError) for e in (errors.UsageError, errors.SpaceError, errors.DataError))


def test_settings_are_resolved_into_a_new_frozen_object(tmp_path):
    given = SweepSettings("binary", storage=str(tmp_path / "runs"))
    resolved = check_settings(given)
    assert given.name is None and resolved.name.startswith("binary-")
    assert resolved.storage == str((tmp_path / "runs").resolve())
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.trials = 5
