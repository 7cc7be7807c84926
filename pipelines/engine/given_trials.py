"""The trials a sweep starts from besides its own search: configs to run first (`--enqueue FILE.yaml`) and
the finished trials of earlier sweeps (`--warm-start NAME[,NAME]`), told to the new study before its first
suggestion without being run again. Both are checked before anything is written."""
from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.errors import SpaceError, UsageError
from search_spaces.fixed import fixed_config
from search_spaces.given_configs import distributions_of
from search_spaces.space import check_space
from search_spaces.yaml_space import read_yaml_file

WARM_START_ATTR = "hpo.warm_start"   # user attribute of a told trial: the sweep it came from


def enqueued_configs(path: str, define, overrides, caps) -> tuple[dict, ...]:
    """The configs of an --enqueue file: a YAML list of mappings of param values (a param left out is
    searched as usual); each value must fit the sweep's space."""
    document = read_yaml_file(path, "--enqueue")
    if not isinstance(document, list) or not document or not all(isinstance(c, dict) for c in document):
        raise UsageError(f"The --enqueue file '{path}' must be a YAML list of configs (mappings of param "
                         "values), e.g. '- {lr: 0.01, n_layers: 1}'.")
    for number, config in enumerate(document, 1):
        try:
            distributions_of(define, config, overrides=overrides, caps=caps, partial=True)
        except SpaceError as exc:
            raise UsageError(f"In --enqueue '{path}', config {number}: {exc}.") from None
    return tuple(document)


def warm_start_trials(names: str, storage: str, task: str, metric: str, define, overrides, caps) -> tuple:
    """The completed trials of earlier sweeps of the same task and objective in `storage` whose params fit
    this sweep's space, as Optuna FrozenTrials to add to the new study (with their source's name)."""
    import optuna

    from pipelines.engine import study_file

    known = set(check_space(define).params)  # every param the task has (its config has derived keys too)
    found = []
    for name in (n.strip() for n in names.split(",")):
        folder = Path(storage) / name
        config_file, journal = folder / "sweep_config.yaml", folder / study_file.STUDY_FILE
        if not config_file.is_file() or not journal.is_file():
            raise UsageError(f"No sweep named {name!r} to warm-start from in '{storage}' (no sweep_config.yaml "
                             f"and {study_file.STUDY_FILE} there); give --storage DIR where it ran.")
        saved = yaml.safe_load(config_file.read_text()) or {}
        if saved.get("task") != task or (saved.get("metric") or "val_loss") != metric:
            raise UsageError(f"The sweep {name!r} tuned {saved.get('task')} for {saved.get('metric') or 'val_loss'}; "
                             f"a warm start needs a sweep of {task} for {metric}.")
        study = study_file.load(name, journal)
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if WARM_START_ATTR in trial.user_attrs:
                continue  # told to that sweep from another: its own source is named, or will be
            try:
                # A grid sweep's trials hold only the grid's params: the rest ran at the task's defaults.
                params = {k: v for k, v in fixed_config(define, trial.params).items() if k in known}
                distributions = distributions_of(define, params, overrides=overrides, caps=caps)
            except SpaceError:
                continue  # outside this sweep's space
            found.append(optuna.trial.create_trial(
                params=params, distributions=distributions, value=trial.value,
                intermediate_values=trial.intermediate_values,
                user_attrs={**trial.user_attrs, WARM_START_ATTR: name}))
    return tuple(found)
