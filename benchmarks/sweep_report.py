"""How long the sweep report of a finished sweep takes to draw and write (not to upload).

    python -m benchmarks.sweep_report NAME [--storage DIR] [--tracking-uri URI] [--repeats N]

Runs pipelines.reporting.sweep_report.write_report on the sweep, in a fresh process once the imports are done,
`repeats` times into temporary folders, and prints each wall time and the median.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--storage", default="ray_results")
    parser.add_argument("--tracking-uri")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import matplotlib
    import optuna.visualization.matplotlib  # noqa: F401 - imports are not the report's cost in a sweep

    from pipelines.engine.results import SweepOutcome
    from pipelines.engine.schedulers import (
        ASHA_GRACE_EPOCHS,
        ASHA_REDUCTION_FACTOR,
        rung_epochs,
    )
    from pipelines.reporting.sweep_report import write_report
    from pipelines.tracking.runs import find_sweep
    from pipelines.tracking.store import client_for, resolve_tracking_uri

    matplotlib.use("Agg")
    client = client_for(resolve_tracking_uri(args.tracking_uri))
    parent = find_sweep(client, args.name)
    outcome = SweepOutcome(args.name, parent.data.tags["hpo.task"], Path(args.storage).resolve() / args.name,
                           "", parent.info.run_id, parent.info.experiment_id)
    rungs = rung_epochs(ASHA_GRACE_EPOCHS, ASHA_REDUCTION_FACTOR, int(parent.data.params["max_epochs"]))
    times = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            write_report(Path(folder), client, outcome, rungs)
            times.append(time.perf_counter() - started)
    trials = len(client.search_runs([parent.info.experiment_id],
                                    filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"))
    print(f"{args.name}: {trials} trials, report in " + ", ".join(f"{t:.2f}" for t in times)
          + f" s; median {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
