"""`hpo predict`: a logged model's predictions for raw input, as CSV."""
from __future__ import annotations

import sys
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException

from pipelines import registry
from pipelines.errors import DataError, UsageError
from pipelines.serving.model import TASK_KEY
from pipelines.tracking.store import client_for, resolve_tracking_uri


def load_model(model_uri: str):
    """A pyfunc model by URI (models:/NAME@ALIAS, runs:/ID/model, a path); UsageError if it is not one."""
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        message = " ".join(str(exc).split())[:300]
        raise UsageError(f"Cannot load the model {model_uri!r}: {message}") from None


def predict(model_uri: str, data_path: str, tracking_uri: str | None, out=sys.stdout) -> int:
    """`hpo predict`: the predictions for the raw input in `data_path`, as CSV on `out`."""
    if not Path(data_path).exists():
        raise UsageError(f"The --data '{data_path}' does not exist.")
    client_for(resolve_tracking_uri(tracking_uri))  # also sets the URI that models:/ and runs:/ resolve in
    model = load_model(model_uri)
    task_name = (model.metadata.metadata or {}).get(TASK_KEY)
    if task_name is None:
        raise UsageError(f"The model {model_uri!r} is not an hpo model that predicts from raw input; "
                         "hpo predict serves the models of tasks with serving hooks.")
    task = registry.get(task_name).task
    raw = task.read_raw(data_path)
    check_columns(raw, model.metadata.get_input_schema())
    model.predict(raw).to_csv(out, index=False)
    return 0


def check_columns(raw, schema) -> None:
    """Table input must have exactly the model's columns: MLflow itself would drop extra ones silently."""
    if not isinstance(raw, pd.DataFrame) or schema is None or not schema.has_input_names():
        return
    wanted, given = schema.input_names(), [str(c) for c in raw.columns]
    missing, extra = [c for c in wanted if c not in given], [c for c in given if c not in wanted]
    if missing or extra:
        problems = ([f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"unknown column(s) {', '.join(map(repr, extra))}"] if extra else [])
        raise DataError(f"The --data has {' and '.join(problems)}; the model takes exactly the columns "
                        f"{', '.join(wanted)}.")
