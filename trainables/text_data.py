"""Character corpora for the language-model tasks: the default text or a user's, split and encoded.

The default corpus is the text of CPython's documentation topics (`pydoc_data.topics`, ~465k characters,
shipped with every CPython), its topics joined in name order. A user's `--data FILE.txt` is any UTF-8
text. The vocabulary is the set of characters of the whole text.

Splits: the first 90% of the text is the training split; its tail (the last 10%) is cut in two halves,
the validation split (first half) and the held-out test split (second half). Contiguous pieces, never
shuffled, so no window of validation or test text was seen in training.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from pipelines.errors import DataError

TRAIN_FRACTION = 0.9   # the rest, the text's tail, is halved into validation and test
DEFAULT_SOURCE = "pydoc_data.topics"


@dataclass
class TextData:
    train: torch.Tensor        # character ids (int64), in text order
    val: torch.Tensor
    test: torch.Tensor
    chars: list[str]           # the vocabulary: character of each id
    source: str = ""           # where the text came from, for the run's lineage
    fingerprint: str = ""      # sha256 prefix of the text

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def split(self, name: str) -> torch.Tensor:
        """The ids of the 'train', 'val' or 'test' split."""
        return getattr(self, name)


def default_text() -> str:
    from pydoc_data.topics import topics

    return "".join(topics[name] for name in sorted(topics))


def read_text(path: str | Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The --data file '{path}' does not exist or is not a file.")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"The --data file '{path}' is not UTF-8 text (byte {exc.start} cannot be decoded); "
                        "give a plain text file.") from None


def min_chars(window: int) -> int:
    """The shortest text whose validation and test splits each hold `window` + 1 characters."""
    tail_half = (1 - TRAIN_FRACTION) / 2
    return int((window + 1) / tail_half) + 2


def encode(text: str, chars: list[str]) -> torch.Tensor:
    index = {c: i for i, c in enumerate(chars)}
    return torch.tensor([index[c] for c in text], dtype=torch.long)


def load_text(data: str | None, *, window: int, task: str) -> TextData:
    """The default corpus, or the text file `data`; its splits must each hold a `window`-long context."""
    if data is not None:
        text, source = read_text(data), str(Path(data).resolve())
    else:
        text, source = default_text(), DEFAULT_SOURCE
    needed = min_chars(window)
    if len(text) < needed:
        raise DataError(f"The --data file '{data}' has {len(text)} characters; the {task} task needs at least "
                        f"{needed} (its validation and test pieces, 5% each, must hold {window + 1}).")
    chars = sorted(set(text))
    ids = encode(text, chars)
    n_train = int(len(ids) * TRAIN_FRACTION)
    n_val = (len(ids) - n_train) // 2
    return TextData(train=ids[:n_train], val=ids[n_train:n_train + n_val], test=ids[n_train + n_val:],
                    chars=chars, source=source,
                    fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


def random_windows(ids: torch.Tensor, batch_size: int, context: int, generator: torch.Generator):
    """`batch_size` windows of `context` characters at random places, and the same shifted by one."""
    starts = torch.randint(0, len(ids) - context, (batch_size,), generator=generator)
    offsets = starts[:, None] + torch.arange(context + 1)
    windows = ids[offsets]
    return windows[:, :-1], windows[:, 1:]


def window_batches(ids: torch.Tensor, *, batch_size: int, context: int, steps: int):
    """A batch source for trainables.loop.fit: `steps` batches of random windows per epoch."""
    def batches(generator: torch.Generator):
        for _ in range(steps):
            yield random_windows(ids, batch_size, context, generator)
    return batches
