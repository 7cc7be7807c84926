"""What every task module provides: its contract with the sweep engine."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # annotations only: the engine reads tasks' cards and requests without importing torch
    from torch import nn


@dataclass(frozen=True)
class DataRequest:
    """What the user asked for on the command line; a task's loader turns it into its data."""
    data: str | None = None       # --data: a file or folder of the user's
    target: str | None = None     # --target: the column to predict in a CSV
    dataset: str | None = None    # --dataset: a named data set other than the default
    data_dir: str | None = None   # --data-dir: where a downloadable data set lives or is cached
    drop: tuple[str, ...] = ()    # --drop: columns of a table to leave out
    seed: int = 0                 # fixes the splits


@dataclass(frozen=True)
class Task:
    name: str
    default_data: str                                   # what a sweep uses without --data
    metrics: tuple[str, ...]                            # reported every epoch besides val_loss
    load_data: Callable[[DataRequest], Any]             # raises DataError on bad input
    build_model: Callable[[dict, Any], nn.Module]
    train: Callable[[dict, Any, Any], None]             # (config, data, TrialIO): the trial's body
    evaluate: Callable[[nn.Module, Any, str], dict]     # metrics of a model on "val" or "test"
    metric: str = "val_loss"                            # the default objective (--metric picks another)
    # Serving (the logged model, `hpo predict`): make_predictor(model, data, config) returns a picklable
    # object, free of Ray and open files, holding the model on the CPU in eval mode and the preprocessing
    # that `data` learnt (scaler, class labels, vocabulary, window length...), with
    #   predict(raw) -> pandas.DataFrame with a `prediction` column, and
    #   example() -> a small raw input (for the model's signature and input example).
    # read_raw(path) turns the file or folder given to `hpo predict --data` into that raw input
    # (raises DataError on bad input).
    make_predictor: Callable[[nn.Module, Any, dict], Any] | None = None
    read_raw: Callable[[str], Any] | None = None
    # Extra results of the best model on the sweep's parent run:
    # summarize_best(model, data, config) -> {"metrics": {name: float}, "texts": {"file.txt": str}}
    summarize_best: Callable[[nn.Module, Any, dict], dict] | None = None
    # Untuned models fitted on train+val (trainables.baselines): baselines(data) -> {name: {"test_acc": ...}}.
    # The parent run logs each as baseline_<name>_<metric>, and the best of them as baseline_<metric>.
    baselines: Callable[[Any], dict] | None = None
    # Averaging models (the top-K ensemble): outputs(model, data, split) -> np.ndarray of class probabilities
    # or predictions, and score(split, outputs, data) -> the metrics evaluate gives. The task's predictor
    # then has outputs(raw) and labels(outputs, raw) too (trainables.ensemble).
    outputs: Callable[[nn.Module, Any, str], Any] | None = None
    score: Callable[[str, Any, Any], dict] | None = None
    # The refit of the best config: the data with train+val as its training split (scalers fitted on it).
    merge_validation: Callable[[Any], Any] | None = None
    # --cv K: cross_validate(data, k, seed) -> K datas of the task's type (trainables.folds); its train
    # function then trains a model per fold (trainables.loop.fit). Raises DataError when K cannot be cut.
    cross_validate: Callable[[Any, int, int], list] | None = None
    # Folds without --cv on up to pipelines.engine.prepare.CV_DEFAULT_MAX_ROWS train+val rows; 0: the single
    # split (K trainings per trial cost K times the time).
    default_folds: int = 0
    # A task from outside the package carries its search space: space(hpo.Space) -> config dict, like
    # search_spaces/NAME.py's define, and first_trial: the params of a sweep's first trial, if any.
    space: Callable | None = None
    first_trial: dict | None = None
    # Where it was found, as `hpo run` takes it again (pipelines.task_sources); "" for the built-in tasks.
    source: str = ""


def served_strings(raw, column: str) -> list[str]:
    """The strings a served model is given (image references, prompts), as a list. MLflow hands a list
    to predict() as a one-column DataFrame, so a DataFrame (its `column`, else its first column), a
    Series, a list or one string all work."""
    if isinstance(raw, str):
        return [raw]
    if hasattr(raw, "columns"):  # a pandas DataFrame
        raw = raw[column] if column in raw.columns else raw.iloc[:, 0]
    return [str(item) for item in (raw.tolist() if hasattr(raw, "tolist") else list(raw))]
