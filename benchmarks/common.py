"""What the benchmarks share: argument parsing, running a command and timing it, the machine's
state, fixed-config space files, markdown tables and plots.

This machine is shared, so every benchmark interleaves the variants it compares and reports medians
and ratios, with the load average at the start and the end of the run.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HPO = str(Path(sys.executable).parent / "hpo")
RESULTS = ROOT / "docs" / "benchmarks"   # plots and raw results
# hpo flags for the same work as plain Optuna: one model per trial (no cross-validation), and a final model
# that is the best trial's (no refit, no ensemble to score).
SINGLE_MODEL = ["--cv", "0", "--ensemble", "0"]

# One small config of the classification MLP tasks: overhead, scale and throughput use it.
FIXED_CONFIG = {"batch_size": 32, "epochs": 10, "lr": 1e-3, "optimizer": "Adam", "n_layers": 2,
                "n_units_l0": 64, "n_units_l1": 32, "activation": "ReLU", "dropout": 0.0, "weight_decay": 1e-5,
                "class_weight": "none", "lr_schedule": "constant", "norm": "none", "l1": 0.0}


def parser(doc: str, **defaults) -> argparse.ArgumentParser:
    """An argument parser with the options most benchmarks take, their defaults given per benchmark."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    if "task" in defaults:
        p.add_argument("--task", default=defaults["task"])
    if "trials" in defaults:
        p.add_argument("--trials", type=int, default=defaults["trials"])
    if "repeats" in defaults:
        p.add_argument("--repeats", type=int, default=defaults["repeats"])
    if "seed" in defaults:
        p.add_argument("--seed", type=int, default=defaults["seed"])
    return p


def timed(command: list[str], cwd: str | Path, check: bool = True, root: str | None = None) -> tuple[float, str]:
    """Whole-process wall time of `command` run in `cwd` with this checkout's packages first
    (or those of `root`, another checkout)."""
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(root or ROOT)}
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr[-3000:]}")
    return time.monotonic() - started, done.stdout


def machine() -> str:
    """One line: when, where, and how busy the machine was (the others' tests share it)."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
            f"{os.cpu_count()} CPUs, load average {load}")


def fixed_space(path: Path, config: dict = FIXED_CONFIG) -> Path:
    """A --space file whose ranges are single values: every trial gets `config`."""
    import yaml

    # One choice each: categorical overrides are accepted for params of every kind.
    space = {name: {"type": "categorical", "choices": [value]} for name, value in config.items()}
    path.write_text(yaml.safe_dump(space, sort_keys=False))
    return path


def load_space(path: str | None) -> dict:
    """The overrides of a --space file, as the sweep reads them (empty without a file)."""
    from search_spaces.yaml_space import load_space_file

    return load_space_file(path) if path else {}


def table(headers: list[str], rows: list[list]) -> str:
    def cell(value):
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def runs(values) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def plot_file(name: str) -> Path:
    """A PNG path in docs/benchmarks/, with matplotlib set to draw without a display."""
    import matplotlib

    matplotlib.use("Agg")
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / name
