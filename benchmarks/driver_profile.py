"""Where the `hpo` driver spends its time mid-sweep: py-spy samples of the driver process, aggregated.

    python -m benchmarks.driver_profile [--trials 400] [--after 150] [--seconds 30]

Starts `hpo run binary --scheduler fifo` with one-epoch trials of a tiny MLP (the scale benchmark's),
waits until --after trials have started, records the driver with py-spy for --seconds, then stops the
sweep with Ctrl-C (its state saved, as a user's would be). Prints each function's share of the
samples whose stack holds it (inclusive), for the functions of Tune, Optuna, MLflow, JSON and this
project below Tune's loop. This is how the quadratic experiment-state save of docs/benchmarks.md (scale) was found.
"""
from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import HPO, ROOT, SINGLE_MODEL, fixed_space, machine, parser
from benchmarks.scale import TINY

PY_SPY = str(Path(sys.executable).parent / "py-spy")


def frame_name(frame: str) -> str:
    """'TuneController.step (ray/tune/execution/tune_controller.py:683)' -> 'TuneController.step (ray/tune/...py)'."""
    function, _, where = frame.partition(" (")
    return f"{function} ({where.rsplit(':', 1)[0]})" if where else function


def inclusive_shares(raw_lines) -> tuple[int, collections.Counter]:
    """py-spy's raw format ('frame;frame;... count' per stack) -> total samples, samples per function
    (a function counted once per stack, however deep its recursion)."""
    total, shares = 0, collections.Counter()
    for line in raw_lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack:
            continue
        total += int(count)
        for name in {frame_name(f) for f in stack.split(";")}:
            shares[name] += int(count)
    return total, shares


def started_trials(folder: Path) -> int:
    return sum(1 for _ in folder.glob("ray_results/*/trial-*"))


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--trials", type=int, default=400)
    p.add_argument("--after", type=int, default=150, help="trials started before the recording begins")
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        space = str(fixed_space(Path(folder) / "tiny.yaml", TINY))
        with open(Path(folder) / "sweep.log", "w") as log:
            sweep = subprocess.Popen([HPO, "run", "binary", "--trials", str(args.trials), "--scheduler", "fifo",
                                      "--space", space, *SINGLE_MODEL], cwd=folder, stdout=log, stderr=log,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            while started_trials(Path(folder)) < args.after:
                if sweep.poll() is not None:
                    raise SystemExit(f"the sweep ended first:\n{(Path(folder) / 'sweep.log').read_text()[-3000:]}")
                time.sleep(1)
            print(f"driver_profile: {args.after} trials started; recording {args.seconds} s", file=sys.stderr)
            raw = Path(folder) / "profile.txt"
            subprocess.run([PY_SPY, "record", "--pid", str(sweep.pid), "--duration", str(args.seconds),
                            "--format", "raw", "--nonblocking", "--output", str(raw)],
                           check=True, capture_output=True)
            reached = started_trials(Path(folder))
        finally:
            sweep.send_signal(signal.SIGINT)  # a graceful stop: Ray ends with the driver
            sweep.wait(timeout=120)
        total, shares = inclusive_shares(raw.read_text().splitlines())
    ours = ("ray/tune", "optuna", "mlflow", "pipelines/", "trainables/", "json/", "cloudpickle")
    # The chain from `hpo`'s main down to Tune's loop is in every sample of the main thread: one row for it.
    loop = next((c for n, c in shares.items() if n.startswith("TuneController.step ")), total)
    rows = [("TuneController.step (Tune's loop, and all below it)", loop)]
    rows += [(name, count) for name, count in shares.most_common()
             if count < loop and any(o in name for o in ours)][:args.top]
    print(f"driver_profile: `hpo run binary --trials {args.trials}`, trials {args.after} to {reached}, "
          f"{total} samples over {args.seconds} s; {machine()}\n")
    print("| share of driver samples | function (inclusive) |\n|---|---|")
    for name, count in rows:
        print(f"| {100 * count / total:.0f}% | `{name}` |")


if __name__ == "__main__":
    main()
