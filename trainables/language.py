"""What the character language models (bigram, transformer) share: training on random windows,
validation in nats per character, text generation, and serving (prompts in, generated text out).

A model here maps character ids (batch, time) to next-character logits (batch, time, vocab) and has a
`window`: the longest input it takes (a transformer's context length).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from torch import nn

from pipelines.errors import DataError
from trainables.loop import Member, fit, prepare_trial
from trainables.task import served_strings
from trainables.text_data import TextData, encode, window_batches

# An "epoch" of a language model is this many training characters (steps x windows x context) on random
# windows of the training split, not a pass over it: ASHA's rungs and --max-epochs then compare configs
# after the same amount of text whatever their batch and context, on a 100 kB text as on a 1 GB one.
CHARS_PER_EPOCH = 2 ** 17
# Validation and test score every character of their split, up to this many; a longer split is scored
# on a fixed (seeded, the same for every trial) set of its windows of about that many characters.
MAX_EVAL_CHARS = 65536
EVAL_SEED = 0
EVAL_LOGITS = 2 ** 22       # logits computed at once while scoring (bounds memory for large vocabularies)
GENERATE_CHARS = 200        # characters a prediction generates after its prompt
SAMPLE_CHARS = 500          # characters of the sample logged on the sweep's parent run
SAMPLE_PROMPT_CHARS = 40    # the sample's prompt: the first characters of the validation split
SAMPLE_SEED = 0


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy in nats per character."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def eval_windows(ids: torch.Tensor, window: int) -> list[torch.Tensor]:
    """Windows of window+1 characters overlapping by one, so that every character but the first is
    predicted exactly once; a split over MAX_EVAL_CHARS keeps a seeded fixed subset of them."""
    starts = list(range(0, len(ids) - 1, window))
    if len(ids) > MAX_EVAL_CHARS:
        keep = max(1, MAX_EVAL_CHARS // window)
        order = torch.randperm(len(starts), generator=torch.Generator().manual_seed(EVAL_SEED))
        starts = sorted(starts[i] for i in order[:keep].tolist())
    return [ids[s:s + window + 1] for s in starts]


@torch.inference_mode()
def evaluate(model: nn.Module, data: TextData, split_name: str) -> dict:
    """`{split}_loss` in nats per character and `{split}_ppl`, its exponential."""
    model.eval()
    windows = eval_windows(data.split(split_name), model.window)
    full = [w for w in windows if len(w) == model.window + 1]
    per_group = max(1, EVAL_LOGITS // (model.window * data.vocab_size))
    groups = [torch.stack(full[i:i + per_group]) for i in range(0, len(full), per_group)]
    groups += [w[None] for w in windows if len(w) != model.window + 1]  # the split's short last piece
    total, count = 0.0, 0
    for group in groups:
        logits = model(group[:, :-1])
        total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), group[:, 1:].reshape(-1),
                                             reduction="sum").item()
        count += group[:, 1:].numel()
    loss = total / count
    return {f"{split_name}_loss": loss, f"{split_name}_ppl": math.exp(min(loss, 700.0))}


def steps_per_epoch(batch_size: int, context: int) -> int:
    """Optimisation steps of batch_size windows of `context` characters in an epoch of CHARS_PER_EPOCH."""
    return max(1, round(CHARS_PER_EPOCH / (batch_size * context)))


def make_train(build_model: Callable[[dict, TextData], nn.Module], context_of: Callable[[dict], int]):
    """A task's train function: seed, build, then fit on random windows of `context_of(config)` chars."""
    def train(config: dict, data: TextData, io) -> None:
        model, data, optimizer = prepare_trial(build_model, config, data, io)
        batch_size, context = int(config["batch_size"]), context_of(config)
        batches = window_batches(data.train, batch_size=batch_size, context=context,
                                 steps=steps_per_epoch(batch_size, context))
        fit([Member(model, optimizer, batches, lambda m: evaluate(m, data, "val"),
                    clip=float(config.get("grad_clip", 0.0)) or None)], lm_loss, config=config, io=io)
    return train


@torch.inference_mode()
def generate(model: nn.Module, prompt: torch.Tensor, n_chars: int, generator: torch.Generator) -> torch.Tensor:
    """`n_chars` character ids sampled one at a time after the prompt's ids (temperature 1)."""
    model.eval()
    ids = prompt.clone()
    for _ in range(n_chars):
        logits = model(ids[-model.window:][None])[0, -1]
        next_id = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)
        ids = torch.cat([ids, next_id])
    return ids[len(prompt):]


class TextPredictor:
    """Serving: a prompt string -> the text the model generates after it (GENERATE_CHARS characters,
    sampled with a generator seeded by SAMPLE_SEED for every prompt, so the same prompt gives the same
    text). A prompt with a character outside the training text's vocabulary is refused with a DataError
    naming it; an empty prompt starts from a newline (when the vocabulary has one)."""

    def __init__(self, model: nn.Module, chars: list[str], example_prompt: str, n_chars: int = GENERATE_CHARS):
        self.model = model.cpu().eval()
        self.chars = list(chars)
        self.window = model.window
        self.example_prompt = example_prompt
        self.n_chars = n_chars

    def encode_prompt(self, prompt: str, number: int) -> torch.Tensor:
        prompt = prompt or "\n"
        unknown = sorted(set(prompt) - set(self.chars))
        if unknown:
            raise DataError(f"Prompt {number} has character(s) {', '.join(map(repr, unknown))} that the model's "
                            f"vocabulary (the {len(self.chars)} characters of its training text) lacks.")
        return encode(prompt, self.chars)

    def continue_text(self, prompt: str, number: int = 1) -> str:
        ids = generate(self.model, self.encode_prompt(prompt, number), self.n_chars,
                       torch.Generator().manual_seed(SAMPLE_SEED))
        return "".join(self.chars[i] for i in ids.tolist())

    def predict(self, raw):
        """raw: prompts (a list, or the one-column DataFrame MLflow makes of it); one row per prompt."""
        prompts = served_strings(raw, "prompt")
        return pd.DataFrame({"prompt": prompts,
                             "prediction": [self.continue_text(p, n) for n, p in enumerate(prompts, 1)]})

    def example(self) -> list[str]:
        return [self.example_prompt]


def sample_prompt(data: TextData) -> str:
    """A fixed prompt in the model's vocabulary: the first characters of the validation split."""
    return "".join(data.chars[i] for i in data.val[:SAMPLE_PROMPT_CHARS].tolist())


def make_predictor(model: nn.Module, data: TextData, config: dict) -> TextPredictor:
    return TextPredictor(model, data.chars, sample_prompt(data))


def read_raw(path: str) -> list[str]:
    """The prompts of a text file for `hpo predict --data`: one prompt per non-blank line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The --data file '{path}' does not exist or is not a file.")
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataError(f"The --data file '{path}' is not UTF-8 text; give one prompt per line.") from None
    prompts = [line for line in lines if line.strip()]
    if not prompts:
        raise DataError(f"The --data file '{path}' has no prompts; give one prompt per line.")
    return prompts


def summarize_best(model: nn.Module, data: TextData, config: dict) -> dict:
    """A sample of generated text for the parent run: a fixed prompt (the validation split's first
    characters) and what the best model writes after it."""
    prompt = sample_prompt(data)
    text = TextPredictor(model, data.chars, prompt, n_chars=SAMPLE_CHARS).continue_text(prompt)
    return {"texts": {"sample.txt": f"{prompt}{text}\n"}}
