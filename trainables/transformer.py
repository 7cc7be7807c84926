"""transformer: a causal character-level transformer language model (pre-norm decoder blocks).

Default data: the text of CPython's documentation topics; or any UTF-8 text with --data FILE.txt
(splits in trainables/text_data.py). Reports val_loss in nats per character and val_ppl; after a
sweep, sample.txt on the parent run holds text the best model generated from a fixed prompt.
Inputs are batch-first (batch, time); every position attends only to itself and earlier positions.
"""
import torch
from torch import nn

from trainables import baselines, language
from trainables.catalog import card
from trainables.task import DataRequest, Task
from trainables.text_data import TextData, load_text

MAX_CONTEXT = 512  # the longest context_length a space may ask for; the data must hold such a window


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"The 'n_heads' ({n_heads}) must divide the model width d_model ({d_model}).")
        self.n_heads, self.dropout = n_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x):
        batch, time, width = x.shape
        q, k, v = (t.view(batch, time, self.n_heads, width // self.n_heads).transpose(1, 2)
                   for t in self.qkv(x).split(width, dim=-1))
        # is_causal: the upper-triangular mask, so a position never sees a later one.
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                       dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(batch, time, width))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, ff_width: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attention = CausalSelfAttention(d_model, n_heads, dropout)
        self.feed_forward = nn.Sequential(nn.Linear(d_model, ff_width), nn.GELU(), nn.Linear(ff_width, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.drop(self.attention(self.norm1(x)))
        return x + self.drop(self.feed_forward(self.norm2(x)))


class CharTransformer(nn.Module):
    def __init__(self, vocab_size: int, *, context_length: int, d_model: int, n_heads: int, n_layers: int,
                 ff_width: int, dropout: float = 0.0):
        super().__init__()
        self.window = context_length
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.positions = nn.Embedding(context_length, d_model)  # learned, indexed by position in the window
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*(Block(d_model, n_heads, ff_width, dropout) for _ in range(n_layers)))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids):
        # ids: (batch, time) with time <= context_length; positions broadcast over the batch.
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1], device=ids.device))
        return self.head(self.norm(self.blocks(self.drop(x))))


def load_data(request: DataRequest) -> TextData:
    return load_text(request.data, window=MAX_CONTEXT, task="transformer")


def build_model(config: dict, data: TextData) -> nn.Module:
    return CharTransformer(data.vocab_size, context_length=int(config["context_length"]),
                           d_model=int(config["d_model"]), n_heads=int(config["n_heads"]),
                           n_layers=int(config["n_layers"]), ff_width=int(config["ff_width"]),
                           dropout=float(config.get("dropout", 0.0)))


TASK = Task(**card("transformer"), load_data=load_data, build_model=build_model,
            train=language.make_train(build_model, context_of=lambda config: int(config["context_length"])),
            evaluate=language.evaluate, make_predictor=language.make_predictor, read_raw=language.read_raw,
            summarize_best=language.summarize_best, baselines=baselines.count_bigram)
