"""A helper of the unit tests that need a trained model: no Ray, the trial's own train function."""
from trainables.reporting import MemoryIO


def trained(task, config: dict, data):
    """The model of one in-memory training run of `task` (its best epoch's weights)."""
    io = MemoryIO()
    task.train(config, data, io)
    model = task.build_model(config, data)
    model.load_state_dict(io.state["best_models"][0])
    return model
