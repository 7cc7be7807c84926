"""`hpo promote`: the best model of a sweep becomes a new version of a registered model, the alias
moves to it, and the version carries its lineage as tags. Earlier versions stay where they are."""
from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from mlflow.exceptions import MlflowException

from pipelines.errors import UsageError
from pipelines.serving.model import code_version
from pipelines.tracking.runs import best_trial_name, find_sweep
from pipelines.tracking.store import client_for, resolve_tracking_uri

DEFAULT_ALIAS = "champion"
# MLflow's rules, checked before anything is registered: letters, digits, '_' and '-'; 'latest' and
# version-like aliases (v1, V12) are its own.
ALIAS_PATTERN = re.compile(r"^[\w-]{1,255}$")
RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def check_alias(alias: str) -> None:
    if not ALIAS_PATTERN.match(alias) or RESERVED_ALIAS.match(alias):
        raise UsageError(f"The --alias must be letters, digits, '_' or '-' and not 'latest' or like 'v1' "
                         f"(MLflow's own), got {alias!r}.")


def check_model_name(model_name: str) -> None:
    if not model_name.strip() or any(c in model_name for c in "/:'"):
        raise UsageError(f"The --model-name must be non-empty, without '/', ':' or quotes, got {model_name!r}.")


def default_model_name(task: str) -> str:
    return f"hpo-{task}"


def best_model(client, parent):
    """The model a finished sweep logged on its parent run (the newest, if a resume logged another)."""
    models = client.search_logged_models([parent.info.experiment_id],
                                         filter_string=f"source_run_id = '{parent.info.run_id}'")
    if not models:
        raise UsageError(f"The sweep {parent.info.run_name!r} has no best model (status "
                         f"{parent.data.tags.get('hpo.status', 'unknown')}); only a sweep with a finished "
                         "trial can be promoted.")
    return max(models, key=lambda m: m.creation_timestamp)


def lineage(client, parent) -> dict[str, str]:
    """Where the model came from: sweep, trial, its config and seed, code version, data fingerprint."""
    tags, params = parent.data.tags, parent.data.params
    trial_id = tags.get("hpo.best_trial_id", "")
    with tempfile.TemporaryDirectory() as folder:
        config = yaml.safe_load(Path(client.download_artifacts(parent.info.run_id, "best_config.yaml", folder))
                                .read_text())
    # The code that trained it, recorded when the sweep ended; else (an older sweep) this checkout's.
    code = {k: tags[f"hpo.{k}"] for k in ("git_commit", "package_version") if f"hpo.{k}" in tags} or code_version()
    found = {"hpo.sweep": parent.info.run_name, "hpo.sweep_run_id": parent.info.run_id, "hpo.task": tags["hpo.task"],
             "hpo.trial": best_trial_name(parent), "hpo.trial_id": trial_id,
             "hpo.config": json.dumps(config, sort_keys=True), "hpo.seed": str(config.get("seed", "")),
             "hpo.data_fingerprint": params.get("data_fingerprint", ""),
             "hpo.data_source": params.get("data_source", ""), "hpo.final_model": tags.get("hpo.final_model", "best"),
             **{f"hpo.{k}": v for k, v in code.items()}}
    found.update({f"hpo.{k}": f"{v:.6g}" for k, v in parent.data.metrics.items() if k.startswith(("best_", "test_"))})
    return found


@dataclass(frozen=True)
class Promoted:
    model_name: str
    version: str
    alias: str
    tracking_uri: str

    @property
    def uri(self) -> str:
        return f"models:/{self.model_name}@{self.alias}"


def promote(name: str, model_name: str | None, alias: str, tracking_uri: str | None) -> Promoted:
    """Register the sweep's best model as a new version and point `alias` at it."""
    check_alias(alias)
    if model_name is not None:
        check_model_name(model_name)
    tracking_uri = resolve_tracking_uri(tracking_uri)
    client = client_for(tracking_uri)
    parent = find_sweep(client, name)
    model = best_model(client, parent)
    model_name = model_name or default_model_name(parent.data.tags["hpo.task"])
    tags = lineage(client, parent)
    try:
        if not client.search_registered_models(filter_string=f"name = '{model_name}'"):
            client.create_registered_model(model_name, description="Promoted by hpo promote: the best models "
                                           "of hyperparameter sweeps, with their lineage as version tags.")
        version = client.create_model_version(
            model_name, source=model.artifact_location, run_id=parent.info.run_id, tags=tags,
            model_id=model.model_id, description=f"Best trial {tags['hpo.trial']} of sweep {name}.")
        client.set_registered_model_alias(model_name, alias, version.version)
    except MlflowException as exc:
        raise UsageError(f"Cannot promote sweep {name!r} as model {model_name!r} with alias {alias!r}: "
                         f"{exc.message}") from None
    return Promoted(model_name, str(version.version), alias, tracking_uri)
