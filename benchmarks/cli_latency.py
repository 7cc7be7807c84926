"""How long the `hpo` command takes to answer when it has nothing to run: help, the task list, bad input.

    python -m benchmarks.cli_latency [--repeats 5] [--before CHECKOUT]

Each command is the installed `hpo` in an empty folder, whole-process wall time, interleaved, median of
the repeats; --before times another checkout's code the same way, interleaved. These are what a person
waits for before any sweep starts.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.common import HPO, ROOT, machine, median, parser, runs, table, timed

COMMANDS = {
    "hpo --help": ["--help"],
    "hpo run --help": ["run", "--help"],
    "hpo tasks": ["tasks"],
    "a bad flag (--trials 0)": ["run", "binary", "--trials", "0"],
    "a missing --data file": ["run", "binary", "--data", "missing.csv", "--target", "y"],
    "a CSV with too few rows": ["run", "binary", "--data", "short.csv", "--target", "y"],
}


def main() -> None:
    p = parser(__doc__, repeats=5)
    p.add_argument("--before", help="another checkout, timed the same way (interleaved)")
    args = p.parse_args()
    print(f"cli_latency: {machine()}", file=sys.stderr)
    variants = {"now": ROOT, **({"before": Path(args.before).resolve()} if args.before else {})}
    seconds: dict[tuple[str, str], list[float]] = {(n, v): [] for n in COMMANDS for v in variants}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "short.csv").write_text("x,y\n1,0\n2,1\n")
        for _ in range(args.repeats):
            for name, argv in COMMANDS.items():
                for variant, root in variants.items():
                    seconds[name, variant].append(timed([HPO, *argv], folder, check=False, root=str(root))[0])
    print(f"hpo start-up, median of {args.repeats}; {machine()}\n")
    print(table(["command", "code", "median (s)", "runs (s)"],
                [[n, v, f"{median(s):.2f}", runs(s)] for (n, v), s in seconds.items()]))


if __name__ == "__main__":
    main()
