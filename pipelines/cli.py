"""The `hpo` command line. Bad input: one `error:` line on stderr and exit status 2, nothing written."""
from __future__ import annotations

import argparse
import signal
import sys

from pipelines.errors import INPUT_ERRORS, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one `error:` line instead of usage text plus a message."""

    def error(self, message: str):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _number(kind):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
    parse.__name__ = kind.__name__
    return parse


def _gpus(text: str):
    """--gpus-per-trial: a number, or `auto` (measured: pipelines.gpu_packing)."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hpo", description="Distributed hyperparameter sweeps for PyTorch: "
                     "Ray Tune + Optuna + ASHA, recorded in MLflow.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("tasks", help="list the tasks, their default data and metrics")

    run = commands.add_parser("run", help="run a sweep")
    run.add_argument("task")
    run.add_argument("--trials", type=_number(int), default=20, help="trials to run (default 20)")
    run.add_argument("--max-epochs", type=_number(int), help="cap on a trial's epochs; ASHA's max_t")
    run.add_argument("--concurrency", type=_number(int), help="trials at once (default: as many as CPUs fit)")
    run.add_argument("--cpus-per-trial", type=_number(float), default=1.0, help="CPUs per trial (default 1)")
    run.add_argument("--gpus-per-trial", type=_gpus, default=0.0,
                     help="GPUs per trial, fractional to pack trials on a GPU, or auto: as many trials per "
                          "GPU as a measured trial's memory allows (default 0)")
    run.add_argument("--space", help="YAML file overriding params of the task's search space")
    run.add_argument("--data", help="your data: a CSV for the tabular tasks")
    run.add_argument("--target", help="the column of --data to predict")
    run.add_argument("--dataset", help="a named data set besides the default (regression: california_housing)")
    run.add_argument("--data-dir", help="where a downloadable data set is cached")
    run.add_argument("--name", help="the sweep's name (default TASK-<timestamp>)")
    run.add_argument("--seed", type=_number(int), default=0, help="seeds sampler, splits and trials (default 0)")
    run.add_argument("--time-budget", type=_number(float), help="seconds; then no new trials, running ones stop")
    run.add_argument("--max-failures", type=_number(int), default=1,
                     help="retries of a trial that raised (default 1); a diverged trial is not retried")
    run.add_argument("--search", default="tpe", help="tpe (default) or random")
    run.add_argument("--scheduler", default="asha", help="asha (default) or fifo")
    run.add_argument("--address", help="a Ray cluster to run on: auto or HOST:PORT (default: a local Ray)")
    run.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")
    run.add_argument("--storage", help="Ray Tune storage folder (default ./ray_results)")

    resume = commands.add_parser("resume", help="continue a sweep that was interrupted or crashed")
    resume.add_argument("name")
    resume.add_argument("--storage", help="Ray Tune storage folder the sweep ran in (default ./ray_results)")
    resume.add_argument("--tracking-uri", help="MLflow store (default: the one the sweep used)")
    resume.add_argument("--trials", type=_number(int), help="raise the sweep's trial budget to this many")

    best = commands.add_parser("best", help="the best trials of a sweep")
    best.add_argument("name")
    best.add_argument("--top", type=_number(int), default=5, help="how many trials (default 5)")
    best.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")
    add_serving_commands(commands)
    return parser


def add_serving_commands(commands) -> None:
    """ui, promote, predict, train: looking at a sweep's results and shipping its model."""
    ui = commands.add_parser("ui", help="the MLflow UI over the tracking store, with a link to the latest sweep")
    ui.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", type=_number(int), default=5000, help="port (default 5000)")
    ui.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")

    promote = commands.add_parser("promote", help="register a sweep's best model and point an alias at it")
    promote.add_argument("name")
    promote.add_argument("--model-name", help="registered model (default hpo-TASK)")
    promote.add_argument("--alias", default="champion", help="alias to move to the new version (default champion)")
    promote.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")

    predict = commands.add_parser("predict", help="predictions of a logged model for raw input, as CSV on stdout")
    predict.add_argument("model_uri", help="models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN_ID/model")
    predict.add_argument("--data", required=True,
                         help="raw input: a CSV of feature columns (tabular tasks), a CSV of series (rnn), an "
                              "image file or folder (cnn), a text file of prompts, one a line (bigram, transformer)")
    predict.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")

    train = commands.add_parser("train", help="one training run of a fixed config (e.g. best_config.yaml)")
    train.add_argument("task")
    train.add_argument("--config", required=True, help="YAML of param values, like a sweep's best_config.yaml")
    train.add_argument("--data", help="your data: a CSV for the tabular tasks")
    train.add_argument("--target", help="the column of --data to predict")
    train.add_argument("--dataset", help="a named data set besides the default")
    train.add_argument("--data-dir", help="where a downloadable data set is cached")
    train.add_argument("--seed", type=_number(int), default=0,
                       help="fixes the data splits, and training where the config has no seed (default 0)")
    train.add_argument("--name", help="the run's name (default TASK-train-<timestamp>)")
    train.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")


def cmd_tasks(args) -> int:
    from pipelines.progress import format_table
    from pipelines.registry import TASKS

    rows = [[name, r.task.default_data, f"{r.task.metric} ({r.task.mode})", ", ".join(r.task.metrics)]
            for name, r in TASKS.items()]
    print(format_table(["task", "default data", "objective", "also reported"], rows))
    return 0


def cmd_run(args) -> int:
    from pipelines.settings import SweepSettings
    from pipelines.sweep import run_sweep

    settings = SweepSettings(**{k: v for k, v in vars(args).items() if k != "command"})
    return conclude(run_sweep(settings))


def cmd_resume(args) -> int:
    from pipelines.sweep import resume_sweep

    return conclude(resume_sweep(args.name, args.storage, args.tracking_uri, args.trials))


def conclude(outcome) -> int:
    """Print a finished sweep's summary; the exit status says how it ended."""
    from pipelines.report import print_summary

    print_summary(outcome)
    if outcome.interrupted:
        print(f"error: interrupted; the sweep's state is saved: continue it with 'hpo resume {outcome.name}'",
              file=sys.stderr)
        return 130
    if outcome.best is None:
        print(f"error: every trial of sweep {outcome.name!r} failed; see the hpo.error tags of its runs",
              file=sys.stderr)
        return 1
    return 0


def cmd_best(args) -> int:
    from pipelines.report import print_leaderboard

    if args.top < 1:
        raise UsageError(f"The --top must be an integer > 0, got {args.top}.")
    print_leaderboard(args.name, args.top, args.tracking_uri)
    return 0


def cmd_ui(args) -> int:
    from pipelines.ui import run_ui

    return run_ui(args.host, args.port, args.tracking_uri)


def cmd_promote(args) -> int:
    from pipelines.promote import promote

    print(promote(args.name, args.model_name, args.alias, args.tracking_uri))
    return 0


def cmd_predict(args) -> int:
    from pipelines.serving import predict

    return predict(args.model_uri, args.data, args.tracking_uri)


def cmd_train(args) -> int:
    from pipelines.train import train_once

    return train_once(args.task, args.config, data=args.data, target=args.target, dataset=args.dataset,
                      data_dir=args.data_dir, seed=args.seed, tracking_uri=args.tracking_uri, name=args.name)


COMMANDS = {"tasks": cmd_tasks, "run": cmd_run, "resume": cmd_resume, "best": cmd_best, "ui": cmd_ui,
            "promote": cmd_promote, "predict": cmd_predict, "train": cmd_train}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except INPUT_ERRORS as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; a sweep that had started can be continued with 'hpo resume NAME'",
              file=sys.stderr)
        return 130
    finally:
        sys.stdout.flush()
        stop_ray()


def stop_ray() -> None:
    """End the local Ray this command started (if the sweep has not already), ignoring a late Ctrl-C:
    the sweep is already closed, and Ray's exit hook would otherwise print a traceback when interrupted."""
    sweep = sys.modules.get("pipelines.sweep")
    ending = sweep.end_ray_beside() if sweep is not None else None
    if ending is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        ending.join()


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
