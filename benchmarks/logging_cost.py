"""MLflow time per reported result: batched (our TrialLogger) against a call per metric.

    python -m benchmarks.logging_cost [--results 200] [--repeats 5]

One SQLite store in a temporary folder, one run per variant and repeat, interleaved. A "result" is
one epoch of a binary trial: train_loss, val_loss, best_val_loss, val_acc.
- per metric: `client.log_metric` for each of the four (what `mlflow.log_metric` in a trial does);
- one log_batch per result: the four in one call;
- TrialLogger: pipelines.tracking.trial_logger.TrialLogger fed through its Tune callback methods, which buffers
  the metrics and sends them with log_batch every FLUSH_SECONDS (here: once per `--flush-every`
  results, and when the trial ends).
Nothing else runs: no Ray, no training; the time is MLflow's and SQLite's.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from benchmarks.common import machine, median, parser, table

METRICS = ("train_loss", "val_loss", "best_val_loss", "val_acc")


def result(epoch: int) -> dict:
    return {"epoch": epoch, "train_loss": 1 / epoch, "val_loss": 1.1 / epoch, "best_val_loss": 1.1 / epoch,
            "val_acc": 1 - 1 / (epoch + 1)}


def per_metric(client, experiment, parent, n: int, flush_every: int) -> None:
    run_id = client.create_run(experiment).info.run_id
    for epoch in range(1, n + 1):
        for name in METRICS:
            client.log_metric(run_id, name, result(epoch)[name], step=epoch)
    client.set_terminated(run_id)


def batch_per_result(client, experiment, parent, n: int, flush_every: int) -> None:
    from mlflow.entities import Metric

    run_id = client.create_run(experiment).info.run_id
    for epoch in range(1, n + 1):
        stamp = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, result(epoch)[k], stamp, epoch) for k in METRICS])
    client.set_terminated(run_id)


def trial_logger(client, experiment, parent, n: int, flush_every: int) -> None:
    from pipelines.tracking.trial_logger import TrialLogger

    logger = TrialLogger(client, experiment, parent, "bench", "binary", ("val_acc",), lambda trial_id: 0)
    trial = SimpleNamespace(trial_id=f"t{time.monotonic_ns()}", config={"lr": 0.01}, last_result={"final": True})
    logger.on_trial_start(0, [], trial)
    for epoch in range(1, n + 1):
        logger.on_trial_result(0, [], trial, result(epoch))
        if epoch % flush_every == 0:
            logger.flush()
    logger.on_trial_complete(0, [], trial)


VARIANTS = {"client.log_metric per metric": per_metric, "one log_batch per result": batch_per_result,
            "TrialLogger (buffered log_batch)": trial_logger}


def main() -> None:
    p = parser(__doc__, repeats=5)
    p.add_argument("--results", type=int, default=200, help="results (epochs) per run")
    p.add_argument("--flush-every", type=int, default=20, help="results between TrialLogger's flushes")
    args = p.parse_args()
    from pipelines.engine.ray_session import configure_environment
    from pipelines.tracking.store import client_for, experiment_id

    configure_environment()
    print(f"logging cost: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        uri = f"sqlite:///{Path(folder) / 'mlflow.db'}"
        client = client_for(uri)
        experiment = experiment_id(client, "bench", uri)
        parent = client.create_run(experiment).info.run_id
        times = {name: [] for name in VARIANTS}
        for _ in range(args.repeats):
            for name, variant in VARIANTS.items():
                started = time.perf_counter()
                variant(client, experiment, parent, args.results, args.flush_every)
                times[name].append((time.perf_counter() - started) / args.results)
    base = median(times[next(iter(VARIANTS))])
    rows = [[name, f"{median(t) * 1e3:.2f}", f"{median(t) / len(METRICS) * 1e3:.2f}", f"{base / median(t):.1f}x"]
            for name, t in times.items()]
    print(f"{args.results} results of {len(METRICS)} metrics per run, {args.repeats} interleaved repeats\n")
    print(table(["variant", "ms per result (median)", "ms per metric", "faster than per-metric"], rows))
    print(f"\nend: {machine()}")


if __name__ == "__main__":
    main()
