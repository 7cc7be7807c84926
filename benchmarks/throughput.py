"""Epoch time of each tabular trainable against the seed document's loop and the arithmetic floor.

    python -m benchmarks.throughput [--epochs 30] [--tasks binary multiclass regression]

One epoch is a training pass plus the validation pass, for the same model, config and optimizer:
- seed loop: the seed document's loop: a DataLoader over a TensorDataset, a `.item()` per batch,
  torch.optim built with its defaults; validation through a DataLoader under no_grad;
- slicing loop: the loop of trainables/loop.py before this benchmark (tensor slicing, loss summed
  as a tensor) with the optimizer built with defaults;
- hpo loop: what a trial runs now: trainables.loop.train_steps over shuffled_batches, with the task's optimizer
  (trainables.optimizers.make_optimizer) and the task's evaluate.
The floor is the epoch's FLOPs (forward 2*in*out per row and layer, backward twice that) over this
core's matmul rate (a 512x512 matmul); "matmuls only" runs just the epoch's matrix products at their
real (small) shapes. One torch thread, as a trial of a sweep gets. Variants are interleaved epoch by
epoch and the table gives medians.
"""
from __future__ import annotations

import importlib
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from benchmarks.common import FIXED_CONFIG, machine, median, parser, table
from pipelines.registry import TASKS
from trainables.device import CPU, Precision
from trainables.loop import shuffled_batches, train_steps
from trainables.optimizers import make_optimizer
from trainables.task import DataRequest

TASK_NAMES = ("binary", "multiclass", "regression")
SEED_CONFIG = {**FIXED_CONFIG, "loss": "MSE"}   # the regression task also takes a loss


def seed_epoch(model, optimizer, loss_fn, data, generator) -> float:
    model.train()
    total = 0.0
    for xb, yb in DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=SEED_CONFIG["batch_size"],
                             shuffle=True, generator=generator):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    model.eval()
    val_total = 0.0
    with torch.no_grad():
        for xb, yb in DataLoader(TensorDataset(data.x_val, data.y_val), batch_size=SEED_CONFIG["batch_size"]):
            val_total += loss_fn(model(xb), yb).item() * len(xb)
    return total / len(data.x_train)


def slicing_epoch(model, optimizer, loss_fn, data, generator, evaluate) -> float:
    """trainables/loop.py's epoch loop as it was before this benchmark."""
    model.train()
    order = torch.randperm(len(data.x_train), generator=generator)
    x, y = data.x_train[order], data.y_train[order]
    total = torch.zeros(())
    batch_size = SEED_CONFIG["batch_size"]
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(xb)
    evaluate(model, data, "val")
    return total.item() / len(x)


def hpo_epoch(model, optimizer, loss_fn, data, generator, evaluate) -> float:
    batches = shuffled_batches(data.x_train, data.y_train, SEED_CONFIG["batch_size"], generator)
    loss = train_steps(model, optimizer, loss_fn, batches, Precision(CPU))
    evaluate(model, data, "val")
    return loss


def linear_shapes(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def epoch_flops(model: nn.Module, n_train: int, n_val: int) -> float:
    per_row = sum(2 * i * o for i, o in linear_shapes(model))
    return 3 * per_row * n_train + per_row * n_val   # backward ~ twice the forward


def matmul_rate(size: int = 512, repeats: int = 20) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size ** 3 * repeats / (time.perf_counter() - started)


def matmuls_only(model: nn.Module, n_train: int, n_val: int, batch: int) -> float:
    """Seconds for just the epoch's matrix products at their real shapes (forward, two backward)."""
    shapes = linear_shapes(model)
    weights = [torch.randn(o, i) for i, o in shapes]
    inputs = {b: [(torch.randn(b, i), torch.randn(b, o)) for i, o in shapes] for b in (batch, n_train % batch,
                                                                                     n_val % batch) if b}
    started = time.perf_counter()
    for rows, passes in ((n_train, 3), (n_val, 1)):
        for start in range(0, rows, batch):
            for w, (x, g) in zip(weights, inputs[min(batch, rows - start)]):
                x @ w.T
                if passes == 3:
                    g @ w
                    g.T @ x
    return time.perf_counter() - started


def measure(task_name: str, epochs: int) -> list:
    registered = TASKS[task_name]
    module = importlib.import_module(f"trainables.{task_name}")
    data = registered.task.load_data(DataRequest(seed=0))
    loss_fn = module.make_loss(SEED_CONFIG, data)
    c = SEED_CONFIG

    def fresh(hpo_optimizer: bool):
        torch.manual_seed(0)
        model = registered.task.build_model(c, data)
        optimizer = (make_optimizer(model, c["optimizer"], c["lr"], c["weight_decay"]) if hpo_optimizer else
                     getattr(torch.optim, c["optimizer"])(model.parameters(), lr=c["lr"],
                                                          weight_decay=c["weight_decay"]))
        return model, optimizer, torch.Generator().manual_seed(0)

    evaluate = registered.task.evaluate
    variants = {
        "seed loop (DataLoader, .item() per batch)": (lambda m, o, g: seed_epoch(m, o, loss_fn, data, g), False),
        "slicing loop (before)": (lambda m, o, g: slicing_epoch(m, o, loss_fn, data, g, evaluate), False),
        "hpo loop (now)": (lambda m, o, g: hpo_epoch(m, o, loss_fn, data, g, evaluate), True),
    }
    states = {name: fresh(hpo_opt) for name, (_, hpo_opt) in variants.items()}
    times = {name: [] for name in variants}
    for _ in range(epochs):
        for name, (epoch, _) in variants.items():
            started = time.perf_counter()
            epoch(*states[name])
            times[name].append(time.perf_counter() - started)
    model = states["hpo loop (now)"][0]
    n_train, n_val = len(data.x_train), len(data.x_val)
    floor = epoch_flops(model, n_train, n_val) / matmul_rate()
    small = median([matmuls_only(model, n_train, n_val, c["batch_size"]) for _ in range(5)])
    seed = median(times[next(iter(variants))])
    rows = [[task_name, name, f"{median(t) * 1e3:.2f}", f"{seed / median(t):.2f}x", f"{median(t) / floor:.0f}x"]
            for name, t in times.items()]
    rows.append([task_name, "matmuls only, at the epoch's shapes", f"{small * 1e3:.2f}", f"{seed / small:.1f}x",
                 f"{small / floor:.0f}x"])
    rows.append([task_name, "floor: epoch FLOPs / 512x512 matmul rate", f"{floor * 1e3:.3f}", "", "1x"])
    return rows


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=30, help="epochs of each variant (interleaved)")
    p.add_argument("--tasks", nargs="+", default=list(TASK_NAMES))
    args = p.parse_args()
    torch.set_num_threads(1)  # as a trial of a sweep holding one CPU
    print(f"throughput: {machine()}")
    rows = [row for task_name in args.tasks for row in measure(task_name, args.epochs)]
    print(f"config: {SEED_CONFIG}\n")
    print(table(["task", "loop", "ms per epoch (median)", "speed vs seed loop", "vs floor"], rows))
    print(f"\nend: {machine()}")


if __name__ == "__main__":
    main()
