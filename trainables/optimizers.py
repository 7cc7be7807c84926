"""The eight optimizers of the seed document's table, built by name."""
import torch
from torch import nn

DENSE_OPTIMIZERS = ("SGD", "Adam", "RMSprop", "Adagrad", "AdamW", "Adadelta", "Adamax")
OPTIMIZERS = DENSE_OPTIMIZERS + ("SparseAdam",)

# SGD without momentum crawls on these losses; 0.9 is the usual choice and keeps the search on lr.
SGD_MOMENTUM = 0.9
# The step of a small model is per-tensor overhead: torch's fused kernels (one C++ pass over all
# parameters) make Adam's step 3x cheaper on a CPU, the multi-tensor (foreach) path 1.3x where
# there is no fused kernel. Same update rule either way (benchmarks/throughput.py).
FUSED = ("SGD", "Adam", "AdamW", "Adagrad")


class OptimizerSet:
    """Several optimizers stepped as one: SparseAdam for sparse parameters, Adam for the rest."""

    def __init__(self, optimizers: list[torch.optim.Optimizer]):
        self.optimizers = optimizers
        self.parameters = [p for o in optimizers for group in o.param_groups for p in group["params"]]

    def zero_grad(self) -> None:
        # What torch's zero_grad(set_to_none=True) does, without its profiler hook and bookkeeping:
        # 4% of a small MLP's step (docs/benchmarks.md, throughput).
        for parameter in self.parameters:
            parameter.grad = None

    def step(self) -> None:
        for optimizer in self.optimizers:
            optimizer.step()

    def state_dict(self) -> list[dict]:
        return [optimizer.state_dict() for optimizer in self.optimizers]

    def load_state_dict(self, states: list[dict]) -> None:
        for optimizer, state in zip(self.optimizers, states):
            optimizer.load_state_dict(state)


def sparse_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Parameters whose gradients are sparse: those of embeddings built with sparse=True."""
    return [m.weight for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m.sparse]


def _dense(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    fast = {"fused": True} if name in FUSED else {"foreach": True}
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM, weight_decay=weight_decay, **fast)
    return getattr(torch.optim, name)(params, lr=lr, weight_decay=weight_decay, **fast)


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float = 0.0) -> OptimizerSet:
    """The optimizer `name` over the model's parameters; SparseAdam only where gradients are sparse."""
    if name not in OPTIMIZERS:
        raise ValueError(f"The 'optimizer' must be one of {', '.join(OPTIMIZERS)}, got {name!r}.")
    if name != "SparseAdam":
        return OptimizerSet([_dense(name, model.parameters(), lr, weight_decay)])
    sparse = sparse_parameters(model)
    if not sparse:
        raise ValueError("The 'optimizer' SparseAdam needs sparse gradients (an nn.Embedding with "
                         f"sparse=True) and this model has none; choose one of {', '.join(DENSE_OPTIMIZERS)}.")
    sparse_ids = {id(p) for p in sparse}
    dense = [p for p in model.parameters() if id(p) not in sparse_ids]
    optimizers = [torch.optim.SparseAdam(sparse, lr=lr)]
    if dense:  # the dense rest of the model (heads, norms) takes Adam at the same learning rate
        optimizers.append(torch.optim.Adam(dense, lr=lr, weight_decay=weight_decay))
    return OptimizerSet(optimizers)
