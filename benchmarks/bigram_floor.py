"""The count-based bigram cross-entropy of a text's splits: what a bigram sweep is measured against.

    python -m benchmarks.bigram_floor --data ../shared/data/tinyshakespeare.txt

Splits and vocabulary are the bigram task's own (trainables/text_data.py: the first 90% trains, the
tail is halved into val and test). Counts come from the training split; P(b | a) = count(a, b) / count(a).
A pair of val that never occurs in training has probability 0 under those counts (infinite loss), so
the script says how many there are and reports:
  - `seen pairs only`: the counts' cross-entropy over the val pairs seen in training;
  - `add-k`: counts + k for every pair (k = 0.01, 0.1, 1), over all val pairs;
  - `oracle`: counts of the val split itself, on the val split: no bigram table can do better there.
"""
from __future__ import annotations

import argparse

import torch

from trainables.text_data import load_text


def pair_counts(ids: torch.Tensor, vocab: int) -> torch.Tensor:
    return torch.bincount(ids[:-1] * vocab + ids[1:], minlength=vocab * vocab).view(vocab, vocab).double()


def cross_entropy(counts: torch.Tensor, ids: torch.Tensor) -> float:
    """Nats per character of the pairs of `ids` under the row-normalised `counts`."""
    probs = counts / counts.sum(dim=1, keepdim=True).clamp_min(1e-300)
    return -probs[ids[:-1], ids[1:]].log().mean().item()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a text file (default: the bigram task's default corpus)")
    args = parser.parse_args(argv)
    data = load_text(args.data, window=1, task="bigram")
    vocab = data.vocab_size
    train = pair_counts(data.train, vocab)
    print(f"text: {data.source} ({len(data.train)} / {len(data.val)} / {len(data.test)} train/val/test chars, "
          f"vocabulary {vocab})")
    print(f"train split, counts of train (in-sample floor): {cross_entropy(train, data.train):.4f}")
    for split in ("val", "test"):
        ids = data.split(split)
        seen = train[ids[:-1], ids[1:]] > 0
        probs = train / train.sum(dim=1, keepdim=True).clamp_min(1e-300)
        seen_loss = -probs[ids[:-1], ids[1:]][seen].log().mean().item()
        print(f"{split}: {int((~seen).sum())} of {len(ids) - 1} pairs unseen in train; "
              f"seen pairs only {seen_loss:.4f}; " +
              "; ".join(f"add-{k} {cross_entropy(train + k, ids):.4f}" for k in (0.01, 0.1, 1.0)) +
              f"; oracle {cross_entropy(pair_counts(ids, vocab), ids):.4f}")


if __name__ == "__main__":
    main()
