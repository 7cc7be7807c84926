"""One Optuna define-by-run space per task, plus loading a user's YAML overrides (`--space`)."""
