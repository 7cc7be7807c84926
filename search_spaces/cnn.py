"""The default search space of the cnn task: conv blocks with their channels, then the MLP head."""
from search_spaces.mlp import MAX_LAYERS, MAX_WIDTH, training_params
from search_spaces.space import Space

MAX_BLOCKS = 6
MAX_CHANNELS = 1024


def define(space: Space) -> dict:
    config = training_params(space, batch_sizes=(32, 64, 128, 256), epochs=(5, 30), default_epochs=10)
    config["conv_blocks"] = space.int("conv_blocks", 1, 3, default=2, minimum=1, maximum=MAX_BLOCKS)
    for i in range(config["conv_blocks"]):  # output channels per block, conditional on conv_blocks
        config[f"conv_channels_b{i}"] = space.int(f"conv_channels_b{i}", 8, 64, default=32, log=True, minimum=1,
                                                  maximum=MAX_CHANNELS)
    config["n_layers"] = space.int("n_layers", 0, 2, default=1, minimum=0, maximum=MAX_LAYERS)  # hidden fc layers
    for i in range(config["n_layers"]):
        config[f"n_units_l{i}"] = space.int(f"n_units_l{i}", 16, 256, default=64, log=True, minimum=1,
                                            maximum=MAX_WIDTH)
    config["dropout"] = space.float("dropout", 0.0, 0.5, default=0.0, minimum=0.0, maximum=0.95)
    return config
