"""Many trials of trivial work: seconds of overhead per trial, and the driver's memory over the sweep.

    python -m benchmarks.scale [--trials 1000] [--small 50]

Every trial is one epoch of a tiny MLP (8 hidden units) on breast cancer, through
`hpo run binary --scheduler fifo --space <single values>`. The marginal cost of a trial is the slope
between a sweep of --small trials and one of --trials trials (fixed start-up costs cancel out);
plain in-process Optuna doing the same trials gives the same slope for the work itself. The driver's
resident memory (the `hpo` process, psutil, every 0.5 s) is reported as the floor (median over the
second tenth of the sweep, after start-up) and the peak of the last tenth: Ray's release test for
10,000 trials allows 28% over the floor.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.common import (
    FIXED_CONFIG,
    HPO,
    ROOT,
    SINGLE_MODEL,
    fixed_space,
    machine,
    median,
    parser,
    plot_file,
    table,
    timed,
)

TINY = {**FIXED_CONFIG, "epochs": 1, "n_layers": 1, "n_units_l0": 8}
TINY.pop("n_units_l1")


def sweep_with_memory(command: list[str], cwd: str) -> tuple[float, list[tuple[float, float]]]:
    """Wall time of the command and [seconds, RSS MiB] samples of its process."""
    started = time.monotonic()
    # Its progress goes to a file: a pipe nobody reads while the sweep runs fills up (64 KiB, a few hundred
    # trials of progress lines) and blocks the sweep's next write for good.
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors, text=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        watched, samples = psutil.Process(process.pid), []
        while process.poll() is None:
            try:
                samples.append((time.monotonic() - started, watched.memory_info().rss / 2 ** 20))
            except psutil.NoSuchProcess:
                break
            time.sleep(0.5)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{errors.read()[-3000:]}")
    return time.monotonic() - started, samples


def seconds_per_trial_by_tenth(folder: str) -> list[float]:
    """Seconds between trial starts in each tenth of the sweep (the trial runs' MLflow start times): a
    flat row is a linear sweep; a rising one means the driver's per-trial work grows with the trials."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{Path(folder) / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("binary").experiment_id
    starts = sorted(r.info.start_time / 1000 for r in client.search_runs([experiment], max_results=50000)
                    if r.data.tags.get("hpo.role") == "trial")
    tenth = len(starts) // 10
    if tenth < 2:
        return []  # too few trials to tell
    return [(starts[(i + 1) * tenth - 1] - starts[i * tenth]) / (tenth - 1) for i in range(10)]


def floor_and_peak(samples: list[tuple[float, float]]) -> tuple[float, float]:
    n = len(samples)
    floor = median([rss for _, rss in samples[n // 10: max(n // 5, n // 10 + 1)]])
    peak = max(rss for _, rss in samples[-max(1, n // 10):])
    return floor, peak


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--small", type=int, default=50, help="trials of the short sweep (for the slope)")
    args = p.parse_args()
    print(f"scale: {machine()}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as spaces:
        space = str(fixed_space(Path(spaces) / "tiny.yaml", TINY))
        walls, plain, memory = {}, {}, None
        for n in (args.small, args.trials):
            with tempfile.TemporaryDirectory() as folder:
                walls[n], samples = sweep_with_memory(
                    [HPO, "run", "binary", "--trials", str(n), "--scheduler", "fifo", "--space", space, *SINGLE_MODEL],
                    folder)
                by_tenth = seconds_per_trial_by_tenth(folder)
            with tempfile.TemporaryDirectory() as folder:
                plain[n], _ = timed([sys.executable, "-m", "benchmarks.plain_optuna", "--trials", str(n),
                                     "--space", space], folder)
            print(f"{n} trials: hpo {walls[n]:.1f}s, plain {plain[n]:.1f}s", file=sys.stderr)
            memory = samples
    hpo_slope = (walls[args.trials] - walls[args.small]) / (args.trials - args.small)
    plain_slope = (plain[args.trials] - plain[args.small]) / (args.trials - args.small)
    floor, peak = floor_and_peak(memory)
    print(f"scale: {args.small} and {args.trials} trials of 1 epoch, tiny MLP; {machine()}\n")
    print(table(["variant", f"wall, {args.small} trials (s)", f"wall, {args.trials} trials (s)",
                 "marginal s per trial"],
                [["hpo run --scheduler fifo (2 at a time)", f"{walls[args.small]:.1f}", f"{walls[args.trials]:.1f}",
                  f"{hpo_slope:.3f}"],
                 ["plain Optuna (in-process)", f"{plain[args.small]:.1f}", f"{plain[args.trials]:.1f}",
                  f"{plain_slope:.3f}"]]))
    print(f"\nseconds per trial in each tenth of the {args.trials}-trial sweep (from the trial runs' start "
          f"times): {', '.join(f'{x:.2f}' for x in by_tenth)}")
    print(f"\ndriver RSS over the {args.trials}-trial sweep: floor {floor:.0f} MiB, peak of the last tenth "
          f"{peak:.0f} MiB: {100 * (peak / floor - 1):+.0f}% (Ray's release test allows +28%)")

    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot([t for t, _ in memory], [rss for _, rss in memory])
    axes.set_xlabel("seconds since `hpo run` started")
    axes.set_ylabel("driver RSS (MiB)")
    axes.set_title(f"hpo run, {args.trials} one-epoch trials")
    figure.tight_layout()
    figure.savefig(plot_file(f"scale_rss_{args.trials}.png"), dpi=100)


if __name__ == "__main__":
    main()
