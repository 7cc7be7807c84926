"""The multilayer perceptron shared by the tabular tasks."""
from torch import nn

# The activations of the seed document's table, by the name the search space uses.
ACTIVATIONS = {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid}


def layer_widths(config: dict) -> list[int]:
    """The hidden widths a config asks for: `n_units_l0` .. `n_units_l{n_layers-1}`."""
    return [int(config[f"n_units_l{i}"]) for i in range(int(config["n_layers"]))]


# Normalisation of each hidden layer's outputs, before its activation.
NORMS = {"none": None, "batch": nn.BatchNorm1d, "layer": nn.LayerNorm}


def build_mlp(n_inputs: int, n_outputs: int, widths: list[int], activation: str = "ReLU",
              dropout: float = 0.0, norm: str = "none") -> nn.Sequential:
    """Linear -> norm -> activation -> dropout per hidden layer, then a linear head that outputs logits."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"The 'activation' must be one of {', '.join(ACTIVATIONS)}, got {activation!r}.")
    if norm not in NORMS:
        raise ValueError(f"The 'norm' must be one of {', '.join(NORMS)}, got {norm!r}.")
    layers: list[nn.Module] = []
    width_in = n_inputs
    for width in widths:
        layers.append(nn.Linear(width_in, width))
        if NORMS[norm] is not None:
            layers.append(NORMS[norm](width))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width_in = width
    layers.append(nn.Linear(width_in, n_outputs))
    return nn.Sequential(*layers)
