"""Training characters per second of the language-model trainables against a reference training loop.

    python -m benchmarks.lm_throughput [--data ../shared/data/tinyshakespeare.txt] [--steps 40] [--rounds 5]

For each model shape, two loops train the same amount of text on one torch thread (as a sweep's trial
holding one CPU), interleaved round by round, and the table gives medians:
- reference: a small GPT written here the usual way for a character model (fused q/k/v projection,
  `scaled_dot_product_attention`, GELU MLP, pre-norm blocks, tied input and output embeddings), batches
  sliced from the training ids with `torch.stack`, AdamW with its defaults, a `.item()` per step;
- hpo: what a trial runs: the task's `build_model`, `trainables.loop.train_steps` over
  `text_data.window_batches`, and the task's optimizer (`trainables.optimizers.make_optimizer`).
It also times one validation pass of the hpo model (`language.evaluate` on the validation split) and
says what it costs per epoch of `language.CHARS_PER_EPOCH` training characters.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from benchmarks.common import machine, median, parser, table
from pipelines.registry import TASKS
from search_spaces.fixed import fixed_config
from trainables import bigram, language, transformer
from trainables.device import CPU, Precision
from trainables.loop import train_steps
from trainables.optimizers import make_optimizer
from trainables.task import DataRequest
from trainables.text_data import window_batches

# (name, task module, config): the transformer at the shape of the well-known small CPU character model
# (4 layers, width 128, context 64, batch 12) and at the default space's default; the bigram's default.
SHAPES = [
    ("transformer 4x128, ctx 64, batch 12", transformer,
     {"context_length": 64, "batch_size": 12, "n_layers": 4, "n_heads": 4, "head_width": 32, "ff_width": 512}),
    ("transformer default config", transformer, None),
    ("bigram default config", bigram, None),
]


class ReferenceBlock(nn.Module):
    def __init__(self, width: int, n_heads: int, ff_width: int):
        super().__init__()
        self.n_heads = n_heads
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, ff_width), nn.GELU(), nn.Linear(ff_width, width))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_heads, c // self.n_heads).transpose(1, 2) for z in (q, k, v))
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, c))
        return x + self.mlp(self.ln2(x))


class ReferenceGPT(nn.Module):
    def __init__(self, vocab: int, context: int, width: int, n_heads: int, n_layers: int, ff_width: int):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.Sequential(*(ReferenceBlock(width, n_heads, ff_width) for _ in range(n_layers)))
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.tokens.weight

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        return self.head(self.ln(self.blocks(x)))


class ReferenceBigram(nn.Module):
    def __init__(self, vocab: int):
        super().__init__()
        self.table = nn.Embedding(vocab, vocab)

    def forward(self, ids):
        return self.table(ids)


def reference_model(module, config: dict, vocab: int) -> nn.Module:
    if module is bigram:
        return ReferenceBigram(vocab)
    return ReferenceGPT(vocab, config["context_length"], config["d_model"], config["n_heads"], config["n_layers"],
                        config["ff_width"])


def reference_steps(model, optimizer, train_ids, batch: int, context: int, steps: int) -> None:
    for _ in range(steps):
        starts = torch.randint(len(train_ids) - context, (batch,))
        x = torch.stack([train_ids[i:i + context] for i in starts.tolist()])
        y = torch.stack([train_ids[i + 1:i + 1 + context] for i in starts.tolist()])
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()


def full_config(module, shape: dict | None) -> dict:
    """The task's default config with the shape's params; the transformer's optimizer AdamW, as the reference's."""
    extra = {"optimizer": "AdamW", "dropout": 0.0} if module is transformer else {}
    return fixed_config(TASKS[module.__name__.rsplit(".", 1)[1]].define_space, {**(shape or {}), **extra})


def measure(name: str, module, shape: dict | None, data, steps: int, rounds: int) -> list:
    config = full_config(module, shape)
    batch, context = int(config["batch_size"]), int(config.get("context_length", 1))
    torch.manual_seed(0)
    ours = module.build_model(config, data)
    ours_optimizer = make_optimizer(ours, config["optimizer"], float(config["lr"]))
    reference = reference_model(module, config, data.vocab_size)
    reference_optimizer = torch.optim.AdamW(reference.parameters(), lr=float(config["lr"]))
    batches = window_batches(data.train, batch_size=batch, context=context, steps=steps)
    generator, precision = torch.Generator().manual_seed(0), Precision(CPU)
    times = {"reference": [], "hpo": [], "validation": []}
    for _ in range(rounds):
        started = time.perf_counter()
        reference_steps(reference, reference_optimizer, data.train, batch, context, steps)
        times["reference"].append(time.perf_counter() - started)
        started = time.perf_counter()
        train_steps(ours, ours_optimizer, language.lm_loss, batches(generator), precision)
        times["hpo"].append(time.perf_counter() - started)
    for _ in range(2):
        started = time.perf_counter()
        language.evaluate(ours, data, "val")
        times["validation"].append(time.perf_counter() - started)
    chars = steps * batch * context
    reference_rate, ours_rate = chars / median(times["reference"]), chars / median(times["hpo"])
    epoch_seconds = language.CHARS_PER_EPOCH / ours_rate
    return [name, f"{batch}x{context}", f"{reference_rate:,.0f}", f"{ours_rate:,.0f}",
            f"{ours_rate / reference_rate:.2f}x", f"{epoch_seconds:.1f}",
            f"{median(times['validation']):.2f} ({median(times['validation']) / epoch_seconds:.0%})"]


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--data", default=None, help="a text file (default: the tasks' default corpus)")
    p.add_argument("--steps", type=int, default=40, help="training steps of each loop per round")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"lm_throughput: {machine()}")
    data = transformer.load_data(DataRequest(data=args.data))
    rows = [measure(name, module, shape, data, args.steps, args.rounds) for name, module, shape in SHAPES]
    print(f"data: {data.source} ({len(data.train):,} training characters); {args.rounds} rounds of "
          f"{args.steps} steps, one torch thread\n")
    print(table(["model", "batch x context", "reference chars/s", "hpo chars/s", "hpo vs reference",
                 "s per epoch (hpo)", "validation pass, s (share of an epoch)"], rows))
    print(f"\nend: {machine()}")


if __name__ == "__main__":
    main()
