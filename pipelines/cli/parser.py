"""The `hpo` argument parser: every command and flag, with their help. Parsing imports nothing heavy."""
from __future__ import annotations

import argparse

from pipelines.errors import UsageError
from pipelines.registry import TASK_NAMES

DATA_HELP = ("your data: a table, CSV, TSV or Parquet (binary, multiclass, regression: text columns and empty "
             "cells welcome; rnn: the --target column is the series), a folder "
             "with one subfolder of images per class (cnn), a text file (bigram, transformer)")
DATASET_HELP = ("a named data set besides the default: california_housing (regression); mnist, fashion_mnist, "
                "cifar10 (cnn)")
DROP_HELP = "columns of a --data table to leave out, comma-separated: COL[,COL]"
METRIC_HELP = ("the validation metric trials are ranked by, e.g. val_f1, val_auc, val_rmse (default val_loss; "
               "higher is better for acc, precision, recall, f1, auc, r2); `hpo tasks` lists each task's")
RUN_EXAMPLES = """examples:
  hpo run binary                                    20 trials on scikit-learn's breast cancer set
  hpo run multiclass --data t.csv --target species  your table: text, numbers, dates and empty cells alike
  hpo run regression --metric val_r2 --trials 40    rank trials by R^2 instead of the loss
  hpo run cnn --data photos/ --cv 3                 one subfolder of images per class, 3-fold CV
  hpo run transformer --data book.txt --time-budget 900
  hpo run rnn --data prices.csv --target close      one series, in file order

`hpo tasks` lists each task's default data and metrics."""


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
    """--gpus-per-trial: a number, or `auto` (measured: pipelines.engine.gpu_packing)."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}") from None

TASK_HELP = (f"one of {', '.join(TASK_NAMES)}; a task file of yours (path/to/my_task.py, or FILE.py:NAME); "
             "an importable package.module:NAME; or an installed package's task")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hpo", description="Distributed hyperparameter sweeps for PyTorch: "
                     "Ray Tune + Optuna + ASHA, recorded in MLflow.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("tasks", help="list the tasks, where each comes from, their default data and metrics")

    run = commands.add_parser("run", help="run a sweep", epilog=RUN_EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("task", help=TASK_HELP)
    run.add_argument("--trials", type=_number(int), help="trials to run (default 20; a grid: every combination)")
    run.add_argument("--max-epochs", type=_number(int), help="cap on a trial's epochs; ASHA's max_t")
    run.add_argument("--concurrency", type=_number(int), help="trials at once (default: as many as CPUs fit)")
    run.add_argument("--cpus-per-trial", type=_number(float), default=1.0, help="CPUs per trial (default 1)")
    run.add_argument("--gpus-per-trial", type=_gpus, default=0.0,
                     help="GPUs per trial, fractional to pack trials on a GPU, or auto: as many trials per "
                          "GPU as a measured trial's memory allows (default 0)")
    run.add_argument("--space", help="YAML file overriding params of the task's search space")
    run.add_argument("--data", help=DATA_HELP)
    run.add_argument("--target", help="the column of --data to predict")
    run.add_argument("--drop", help=DROP_HELP)
    run.add_argument("--dataset", help=DATASET_HELP)
    run.add_argument("--data-dir", help="where a downloadable data set is cached")
    run.add_argument("--name", help="the sweep's name (default TASK-<timestamp>)")
    run.add_argument("--seed", type=_number(int), default=0, help="seeds sampler, splits and trials (default 0)")
    run.add_argument("--time-budget", type=_number(float), help="seconds; then no new trials, running ones stop")
    run.add_argument("--max-failures", type=_number(int), default=1,
                     help="retries of a trial that raised (default 1); a diverged trial is not retried")
    run.add_argument("--search", default="tpe",
                     help="Optuna's sampler: tpe (default), random, grid (every combination of the --space file's "
                          "choices; other params at the task's defaults), gp, cmaes or qmc")
    run.add_argument("--scheduler", default="asha",
                     help="Ray's early stopping: asha (default), hyperband (ASHA with 3 brackets), median (the "
                          "median stopping rule) or fifo (none)")
    run.add_argument("--grace-period", type=_number(int),
                     help="epochs every trial runs before the scheduler may stop it (default 6)")
    run.add_argument("--reduction-factor", type=_number(int),
                     help="asha, hyperband: 1/this of the trials go on at each rung (default 3)")
    run.add_argument("--patience", type=_number(int),
                     help="epochs without improvement of the objective before a trial ends itself (default 10)")
    run.add_argument("--warm-start", metavar="NAME[,NAME]",
                     help="earlier sweeps of the task (same --storage) whose finished trials the search starts from")
    run.add_argument("--enqueue", metavar="FILE.yaml",
                     help="a YAML list of configs (all or some of the params) the sweep runs first")
    run.add_argument("--cv", type=_number(int),
                     help="K-fold cross-validation of each trial on train+val (K >= 2; 0: the single validation "
                          "split; default 5 folds for the tabular tasks on up to 5,000 train+val rows; cnn takes it "
                          "too, off by default)")
    run.add_argument("--metric", help=METRIC_HELP)
    run.add_argument("--ensemble", type=_number(int),
                     help="average the K best trials' models into one candidate for the final model (0: none; "
                          "default 3 for the tasks that can average models: binary, multiclass, regression, cnn)")
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
                         help="raw input: a table of feature columns, CSV, TSV or Parquet (tabular tasks), a CSV of "
                              "series (rnn), an image file or folder (cnn), a text file of prompts, one a line "
                              "(bigram, transformer)")
    predict.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")

    check = commands.add_parser("check-task", help="try a task of yours against the contract a sweep needs")
    check.add_argument("task", help="a task file (path/to/my_task.py or FILE.py:NAME) or package.module:NAME")
    check.add_argument("--data", help=DATA_HELP)
    check.add_argument("--target", help="the column of --data to predict")

    train = commands.add_parser("train", help="one training run of a fixed config (e.g. best_config.yaml)")
    train.add_argument("task", help=TASK_HELP)
    train.add_argument("--config", required=True, help="YAML of param values, like a sweep's best_config.yaml")
    train.add_argument("--data", help=DATA_HELP)
    train.add_argument("--target", help="the column of --data to predict")
    train.add_argument("--drop", help=DROP_HELP)
    train.add_argument("--metric", help=METRIC_HELP)
    train.add_argument("--dataset", help=DATASET_HELP)
    train.add_argument("--data-dir", help="where a downloadable data set is cached")
    train.add_argument("--seed", type=_number(int), default=0,
                       help="fixes the data splits, and training where the config has no seed (default 0)")
    train.add_argument("--name", help="the run's name (default TASK-train-<timestamp>)")
    train.add_argument("--tracking-uri", help="MLflow store (default $MLFLOW_TRACKING_URI or ./mlflow.db)")
