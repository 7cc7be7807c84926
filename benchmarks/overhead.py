"""Whole-process wall time of a sweep next to plain in-process Optuna doing the same trials.

    python -m benchmarks.overhead [--trials 20] [--repeats 3]

Runs are interleaved (plain, hpo asha, hpo fifo, plain, ...) so that the machine's noise hits them
alike; the table gives medians and the ratio to plain Optuna.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(command: list[str], cwd: str) -> tuple[float, str]:
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": ROOT}  # each run starts in an empty folder of its own
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return time.monotonic() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="binary")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    variants = {
        "plain Optuna (TPE, in-process, 1 thread)": [sys.executable, "-m", "benchmarks.plain_optuna",
                                                      "--task", args.task, "--trials", str(args.trials)],
        "hpo run (TPE + ASHA, 2 at a time)": [os.path.join(BIN, "hpo"), "run", args.task, "--trials", str(args.trials)],
        "hpo run --scheduler fifo": [os.path.join(BIN, "hpo"), "run", args.task, "--trials", str(args.trials),
                                     "--scheduler", "fifo"],
    }
    times = {name: [] for name in variants}
    notes = {}
    for repeat in range(args.repeats):
        for name, command in variants.items():
            with tempfile.TemporaryDirectory() as folder:
                seconds, out = timed(command, folder)
            times[name].append(seconds)
            best = re.search(r"best: .*", out) or re.search(r"best val_loss .*", out)
            notes[name] = best.group(0) if best else ""
            print(f"[{repeat + 1}/{args.repeats}] {name}: {seconds:.1f}s", file=sys.stderr)

    baseline = statistics.median(times[next(iter(variants))])
    print(f"| {args.trials} trials of {args.task} | median wall time (s) | runs (s) | vs plain |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"| {name} | {median:.1f} | {', '.join(f'{r:.1f}' for r in runs)} | {median / baseline:.2f}x |")
    print()
    for name, note in notes.items():
        print(f"- {name}: {note}")


if __name__ == "__main__":
    main()
