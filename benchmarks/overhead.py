"""Whole-process wall time of `hpo run --scheduler fifo` next to plain in-process Optuna doing the same trials.

    python -m benchmarks.overhead [--trials 20 40] [--repeats 2] [--task binary] [--before /path/to/checkout]

Every trial gets the same small config (a --space file whose ranges are single values, see
benchmarks.common.FIXED_CONFIG), so both sides do identical work. Each run starts in an empty folder
(a new MLflow SQLite store and Ray storage). Runs are interleaved (plain, hpo, [hpo before], plain, ...)
so that the shared machine's noise hits them alike; the table gives medians and ratios to plain.
--before runs the same `hpo` from another checkout (e.g. main before a change) as one more variant.
"""
import re
import sys
import tempfile
from pathlib import Path

from benchmarks.common import HPO, SINGLE_MODEL, fixed_space, machine, median, parser, runs, table, timed


def variants(task: str, trials: int, space: str, before: str | None) -> dict:
    hpo = [HPO, "run", task, "--trials", str(trials), "--scheduler", "fifo", "--space", space, *SINGLE_MODEL]
    found = {"plain Optuna (in-process, 1 thread, sequential)":
             ([sys.executable, "-m", "benchmarks.plain_optuna", "--task", task, "--trials", str(trials),
               "--space", space], None),
             "hpo run --scheduler fifo": (hpo, None)}
    if before:
        found[f"hpo run --scheduler fifo, from {before}"] = (hpo, before)
    return found


def main() -> None:
    p = parser(__doc__, task="binary", repeats=2)
    p.add_argument("--trials", type=int, nargs="+", default=[20, 40])
    p.add_argument("--before", help="another checkout whose `hpo` runs as one more variant")
    args = p.parse_args()
    print(f"overhead: {machine()}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as spaces:
        space = str(fixed_space(Path(spaces) / "space.yaml"))
        rows = []
        for trials in args.trials:
            compared = variants(args.task, trials, space, args.before)
            times = {name: [] for name in compared}
            for repeat in range(args.repeats):
                for name, (command, root) in compared.items():
                    with tempfile.TemporaryDirectory() as folder:
                        seconds, out = timed(command, folder, root=root)
                    times[name].append(seconds)
                    best = re.search(r"best val_loss [0-9.]+", out) or re.search(r"best: .*", out)
                    print(f"[{repeat + 1}/{args.repeats}] {trials} trials, {name}: {seconds:.1f}s "
                          f"{best.group(0) if best else ''}", file=sys.stderr)
            plain = median(next(iter(times.values())))
            rows += [[trials, name, f"{median(t):.1f}", runs(t), f"{median(t) / plain:.2f}x",
                      f"{(median(t) - plain) / trials:.2f}"] for name, t in times.items()]
    print(f"overhead of {args.task}, fixed config, {args.repeats} interleaved repeats; {machine()}\n")
    print(table(["trials", "variant", "median wall (s)", "runs (s)", "vs plain", "extra s per trial"], rows))


if __name__ == "__main__":
    main()
