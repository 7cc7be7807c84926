"""Each task's card: its default data and the metrics it reports, importable without torch so that
`hpo tasks` answers at once. A task module builds its Task from its card: Task(**card("binary"), ...)."""
from __future__ import annotations

from trainables.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS

TEXT = "CPython documentation topics (pydoc_data.topics, ~465k chars)"  # the language models' default text

CARDS = {
    "binary": ("scikit-learn breast cancer (569 rows, 30 features)", CLASSIFICATION_METRICS),
    "multiclass": ("scikit-learn iris (150 rows, 4 features, 3 classes)", CLASSIFICATION_METRICS),
    "regression": ("scikit-learn diabetes (442 rows, 10 features)", REGRESSION_METRICS),
    "rnn": ("generated noisy sine (2000 steps, noise variance 0.01)", ("val_rmse",)),
    "cnn": ("scikit-learn digits (1797 images, 8x8, 10 classes)", CLASSIFICATION_METRICS),
    "bigram": (TEXT, ("val_ppl",)),
    "transformer": (TEXT, ("val_ppl",)),
}


def card(name: str) -> dict:
    """The Task fields of a task's card: name, default_data, metrics (all report val_loss, the default
    objective, besides these)."""
    default_data, metrics = CARDS[name]
    return {"name": name, "default_data": default_data, "metrics": metrics}
