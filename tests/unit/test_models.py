"""The MLP builder and the eight optimizers."""
import pytest
import torch
from torch import nn

from trainables.mlp import build_mlp, layer_widths
from trainables.optimizers import DENSE_OPTIMIZERS, OPTIMIZERS, make_optimizer


def test_mlp_layers_follow_the_config():
    config = {"n_layers": 3, "n_units_l0": 16, "n_units_l1": 8, "n_units_l2": 4}
    model = build_mlp(5, 3, layer_widths(config), activation="Tanh", dropout=0.2)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 16), (16, 8), (8, 4), (4, 3)]
    assert sum(isinstance(m, nn.Tanh) for m in model) == 3 and sum(isinstance(m, nn.Dropout) for m in model) == 3
    assert isinstance(model[-1], nn.Linear)  # logits: no softmax or sigmoid at the end
    assert model(torch.randn(7, 5)).shape == (7, 3)


def test_no_dropout_layers_when_dropout_is_zero():
    assert not any(isinstance(m, nn.Dropout) for m in build_mlp(2, 1, [4], dropout=0.0))


def test_unknown_activation():
    with pytest.raises(ValueError, match="must be one of ReLU, Tanh, Sigmoid"):
        build_mlp(2, 1, [4], activation="GELU")


@pytest.mark.parametrize("name", DENSE_OPTIMIZERS)
def test_each_dense_optimizer_lowers_the_loss(name):
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    model = build_mlp(3, 1, [16])
    lr = 1.0 if name == "Adadelta" else 0.05 if name in ("Adagrad", "SGD") else 0.01
    optimizer = make_optimizer(model, name, lr, weight_decay=1e-5)

    def loss():
        return nn.functional.mse_loss(model(x).squeeze(-1), y)

    before = loss().item()
    for _ in range(60):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    assert loss().item() < before * 0.7
    optimizer.load_state_dict(optimizer.state_dict())


def test_sparse_adam_refuses_a_model_without_sparse_gradients():
    with pytest.raises(ValueError, match="SparseAdam needs sparse gradients"):
        make_optimizer(build_mlp(3, 1, [4]), "SparseAdam", 0.01)


def test_sparse_adam_takes_sparse_embeddings_and_adam_the_rest():
    model = nn.Sequential(nn.Embedding(10, 4, sparse=True), nn.Linear(4, 10))
    optimizer = make_optimizer(model, "SparseAdam", 0.05)
    assert [type(o).__name__ for o in optimizer.optimizers] == ["SparseAdam", "Adam"]
    tokens = torch.tensor([1, 2, 3, 4])
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(tokens), torch.tensor([2, 3, 4, 5])).backward()
    optimizer.step()
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    optimizer.zero_grad()  # both optimizers' parameters, the sparse and the dense
    assert all(p.grad is None for p in model.parameters())


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="must be one of"):
        make_optimizer(build_mlp(3, 1, [4]), "Lion", 0.01)
    assert len(OPTIMIZERS) == 8


@pytest.mark.parametrize("name", DENSE_OPTIMIZERS)
def test_the_fast_optimizer_kernels_make_the_same_update_as_the_plain_ones(name):
    # make_optimizer asks torch for its fused or multi-tensor (foreach) kernels: same rule, fewer ops.
    torch.manual_seed(0)
    fast_model = build_mlp(3, 1, [16])
    plain_model = build_mlp(3, 1, [16])
    plain_model.load_state_dict(fast_model.state_dict())
    fast = make_optimizer(fast_model, name, 0.01, weight_decay=1e-5)
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    plain = getattr(torch.optim, name)(plain_model.parameters(), lr=0.01, weight_decay=1e-5, foreach=False, **kwargs)
    x = torch.randn(32, 3)
    for _ in range(5):
        for model, optimizer in ((fast_model, fast), (plain_model, plain)):
            optimizer.zero_grad()
            model(x).pow(2).mean().backward()
            optimizer.step()
    for a, b in zip(fast_model.parameters(), plain_model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
