"""Quality of the best trial of a sweep of the cnn and rnn tasks on their default data.

    python -m benchmarks.seq_quality [--trials 16] [--time-budget 360] [--seed 0]

cnn (digits): held-out test accuracy of the best trial (an SVC scores 0.97-0.99 on digits).
rnn (noisy sine): test MSE of the best trial in the series' units, against the noise variance (the
floor of any predictor), the noise actually drawn on the test targets, and the naive last-value baseline.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sweep(task: str, args, extra: list[str]) -> tuple[dict, float]:
    """Run `hpo run TASK` in an empty folder; the parent run's metrics and the wall time."""
    from mlflow.tracking import MlflowClient

    with tempfile.TemporaryDirectory() as folder:
        command = [os.path.join(BIN, "hpo"), "run", task, "--trials", str(args.trials), "--time-budget",
                   str(args.time_budget), "--seed", str(args.seed), "--name", f"bench-{task}", *extra]
        started = time.monotonic()
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": ROOT})
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr[-2000:]}")
        client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
        experiment = client.get_experiment_by_name(task).experiment_id
        parent = client.search_runs([experiment], filter_string="tags.`hpo.role` = 'sweep'")[0]
        print(done.stdout[done.stdout.find("best:"):].split("\n\n")[0], file=sys.stderr)
        return parent.data.metrics, seconds


def realised_test_noise() -> float:
    """The mean squared noise on the test targets of the default sine: the floor on this very split."""
    from trainables.series_data import SINE_STEP, load_series, noisy_sine

    data = load_series(None, None, None)
    start, end = data.target_range("test")
    noise = noisy_sine() - np.sin(SINE_STEP * np.arange(len(data.values)))
    return float(np.mean(noise[start:end] ** 2))


def main() -> None:
    from trainables.series_data import SINE_NOISE_VARIANCE

    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--time-budget", type=float, default=360)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default="cnn,rnn")
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    if "cnn" in tasks:
        metrics, seconds = sweep("cnn", args, ["--max-epochs", "20"])
        print(f"cnn digits: {args.trials} trials in {seconds:.0f} s; best trial test_acc {metrics['test_acc']:.4f} "
              f"(val_acc {metrics['best_val_acc']:.4f}, test_loss {metrics['test_loss']:.4f})")
    if "rnn" in tasks:
        metrics, seconds = sweep("rnn", args, ["--max-epochs", "30"])
        mse, baseline = metrics["test_rmse"] ** 2, metrics["baseline_test_rmse"] ** 2
        floor = realised_test_noise()
        print(f"rnn noisy sine: {args.trials} trials in {seconds:.0f} s; best trial test MSE {mse:.5f} = "
              f"{mse / SINE_NOISE_VARIANCE:.2f}x the noise variance {SINE_NOISE_VARIANCE:.4f} "
              f"({mse / floor:.2f}x the noise drawn on the test targets, {floor:.5f}); "
              f"last-value baseline {baseline:.5f}")


if __name__ == "__main__":
    main()
