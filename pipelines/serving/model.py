"""The model a sweep or `hpo train` logs: a pyfunc model that predicts from raw input.

A task with serving hooks (Task.make_predictor) gets an `mlflow.pyfunc` model that predicts from raw
input: a PythonModel holding the task's predictor (weights and preprocessing), with a signature and an
input example from the predictor's example(). It is pickled with cloudpickle, and the project's own
packages travel with it as `code_paths`, so that `mlflow models serve` and a fresh Python can import
the predictor's classes without this project installed. A task without the hooks gets the plain
`mlflow.pytorch` model, and `hpo predict` says it is not available for it.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import mlflow
import mlflow.pyfunc
import mlflow.pytorch
import torch
from mlflow.models import infer_signature

MODEL_NAME = "model"                 # artifact name of the logged model on its run
TASK_KEY = "hpo_task"                # the model's metadata: which task's read_raw reads its input (as
                                     # `hpo run` takes it: a task file's path, say)
LEFT_OUT_KEY = "hpo_left_out"        # ... the columns of the training table the model ignores
TEXT_NUMBERS_KEY = "hpo_text_numbers"  # ... and its columns of numbers written as text (stray text: empty)
PROJECT = Path(__file__).resolve().parents[2]  # the checkout: pipelines/serving/model.py
CODE_PACKAGES = ("pipelines", "trainables", "search_spaces", "hpo")
REQUIREMENTS = ("mlflow", "torch", "numpy", "pandas", "scikit-learn", "cloudpickle")


# Artifacts download quietly: `hpo predict` writes its CSV on stdout, and the rest only print results.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

# MLflow suggests type hints on predict() for its own input validation (the signature does that here),
# through a warning filter of its own that a caller's filters cannot quiet: its words go nowhere.
with contextlib.redirect_stderr(io.StringIO()):

    class TaskModel(mlflow.pyfunc.PythonModel):
        """A pyfunc model around a task's predictor: raw input in, a DataFrame with `prediction` out."""

        def __init__(self, predictor):
            self.predictor = predictor

        def predict(self, context, model_input, params=None):
            return self.predictor.predict(model_input)


def requirements() -> list[str]:
    """Pinned to what trained the model; a local build suffix (torch's +cpu) is not on the index."""
    return [f"{name}=={version(name).split('+')[0]}" for name in REQUIREMENTS]


def code_version() -> dict[str, str]:
    """The project's version and, where it runs from a git checkout, the commit (+dirty if edited)."""
    found = {}
    try:
        found["package_version"] = version("hpo-pipeline")
    except PackageNotFoundError:
        pass
    try:
        git = ["git", "-C", str(PROJECT)]
        commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            found["git_commit"] = commit.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass  # no git here: the package version is what is known
    return found


def loose_types(signature, columns) -> None:
    """Columns of numbers written as text take text or numbers (the predictor reads either): MLflow's
    schema would refuse one of the two whatever type it says."""
    from mlflow.types.schema import AnyType, ColSpec

    specs = signature.inputs.inputs
    for i, spec in enumerate(specs):
        if spec.name in columns:
            specs[i] = ColSpec(AnyType(), spec.name, required=spec.required)


def log_model(task, model, data, config: dict, run_id: str, predictor=None):
    """Log the run's model: pyfunc from raw input where the task can serve (the task's predictor of
    `model`, or `predictor` when given: an ensemble's, say), else plain pytorch."""
    with mlflow.start_run(run_id=run_id):
        if task.make_predictor is None:
            # pickle, not torch.export: every task's model can be saved that way, sequence models
            # included; MLflow warns about pickle on every save, which says nothing new here.
            logging.getLogger("mlflow.pytorch").setLevel(logging.ERROR)
            return mlflow.pytorch.log_model(model, name=MODEL_NAME, serialization_format="pickle",
                                            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"])
        # The pickled python_model (not models-from-code): the predictor's state is the model, and
        # its classes are imported from the code_paths copy; MLflow's warning about that says nothing new.
        logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
        predictor = predictor or task.make_predictor(model, data, config)
        example = predictor.example()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hints about integer columns and type hints: not for a user here
            signature = infer_signature(example, predictor.predict(example))
            loose_types(signature, getattr(predictor, "text_numbers", []))
            return mlflow.pyfunc.log_model(
                name=MODEL_NAME, python_model=TaskModel(predictor), signature=signature, input_example=example,
                code_paths=[str(PROJECT / p) for p in CODE_PACKAGES], pip_requirements=requirements(),
                metadata={TASK_KEY: task.source or task.name, LEFT_OUT_KEY: list(getattr(predictor, "left_out", [])),
                          TEXT_NUMBERS_KEY: list(getattr(predictor, "text_numbers", []))})
