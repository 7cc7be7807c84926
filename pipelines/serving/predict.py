"""`hpo predict`: a logged model's predictions for raw input, as CSV."""
from __future__ import annotations

import sys
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException

from pipelines import registry
from pipelines.errors import DataError, UsageError
from pipelines.serving.model import LEFT_OUT_KEY, TASK_KEY, TEXT_NUMBERS_KEY
from pipelines.task_sources import guarded
from pipelines.tracking.store import client_for, resolve_tracking_uri
from trainables.preprocessing import text_of


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
    raw = guarded(task, "read_raw", task.read_raw, data_path)
    metadata = model.metadata.metadata or {}
    raw = conform(raw, model.metadata.get_input_schema(), metadata.get(LEFT_OUT_KEY, []),
                  metadata.get(TEXT_NUMBERS_KEY, []))
    guarded(task, "predictor", model.predict, raw).to_csv(out, index=False)
    return 0


def conform(raw, schema, left_out=(), text_numbers=()):
    """Table input with the model's columns, each of the type its signature says: MLflow itself would drop
    extra columns silently, refuse whole numbers for doubles and numbers or an empty column for text. In a
    column of `text_numbers` (numbers written as text in training) a cell that is not a number is empty."""
    if not isinstance(raw, pd.DataFrame) or schema is None or not schema.has_input_names():
        return raw
    wanted, given = schema.input_names(), [str(c) for c in raw.columns]
    required = [s.name for s in schema.inputs if s.required]
    missing = [c for c in required if c not in given]
    extra = [c for c in given if c not in wanted and c not in left_out]
    if missing or extra:
        problems = ([f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"unknown column(s) {', '.join(map(repr, extra))}"] if extra else [])
        raise DataError(f"The --data has {' and '.join(problems)}; the model takes the columns "
                        f"{', '.join(wanted)}.")
    raw = raw.set_axis(given, axis=1)[[c for c in wanted if c in given]]
    not_numbers = []
    for spec in schema.inputs:
        if spec.name not in raw.columns:
            continue
        kind, column = getattr(spec.type, "name", str(spec.type)), raw[spec.name]
        if kind == "string":
            raw[spec.name] = column.map(text_of).astype(object)
        elif kind in ("double", "float"):
            numbers = pd.to_numeric(column, errors="coerce")
            if (numbers.isna() & column.notna()).any() and spec.name not in text_numbers:
                not_numbers.append(spec.name)
            raw[spec.name] = numbers.astype("float64")
    if not_numbers:
        raise DataError(f"The --data has values that are not numbers in column(s) {', '.join(map(repr, not_numbers))}.")
    return raw
