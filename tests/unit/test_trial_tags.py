"""The node and device tags of a trial's MLflow run follow the trial: set from its first result, set
again when a retry runs it on another node, and the CPU fallback is noted (a real SQLite store, no Ray)."""
import pickle
from types import SimpleNamespace

from pipelines.tracking.store import client_for, experiment_id
from pipelines.tracking.trial_logger import TrialLogger


def test_node_tags_follow_a_trial_to_the_node_it_is_retried_on(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = client_for(uri)
    experiment = experiment_id(client, "binary", uri)
    parent = client.create_run(experiment, run_name="sweep").info.run_id
    logger = TrialLogger(client, experiment, parent, "sweep", "binary", ("val_acc",), lambda trial_id: 0)
    trial = SimpleNamespace(trial_id="abc", config={"lr": 0.1})
    logger.on_trial_start(0, [], trial)
    run_id = logger.runs["abc"]

    fallback = "Ray gave this trial GPU 0 (CUDA_VISIBLE_DEVICES='0') but torch sees no CUDA device"
    first = {"epoch": 1, "val_loss": 0.5, "node_id": "node-a", "device": "cpu", "device_fallback": fallback}
    logger.on_trial_result(0, [], trial, first)
    logger.flush()  # tags go with the buffered metrics
    tags = client.get_run(run_id).data.tags
    assert (tags["ray.node_id"], tags["hpo.device"], tags["hpo.device_fallback"]) == ("node-a", "cpu", fallback)

    logger.on_trial_result(0, [], trial, {"epoch": 2, "val_loss": 0.4, "node_id": "node-b", "device": "cuda:A10G"})
    logger.flush()
    tags = client.get_run(run_id).data.tags
    assert (tags["ray.node_id"], tags["hpo.device"]) == ("node-b", "cuda:A10G")


def number_zero(trial_id):
    return 0


def val_loss_report(epochs):
    history = [{"epoch": e, "val_loss": 1.0 / e} for e in epochs]
    return {**history[-1], "history": history}


def logged_steps(client, run_id):
    return sorted(m.step for m in client.get_metric_history(run_id, "val_loss"))


def test_epochs_a_retry_runs_again_are_logged_once(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = client_for(uri)
    experiment = experiment_id(client, "binary", uri)
    parent = client.create_run(experiment, run_name="sweep").info.run_id
    logger = TrialLogger(client, experiment, parent, "sweep", "binary", ("val_acc",), number_zero)
    saved_at_start = pickle.dumps(logger)  # as Tune saves its callbacks, in tuner.pkl
    trial = SimpleNamespace(trial_id="abc", config={"lr": 0.1})
    logger.on_trial_start(0, [], trial)
    logger.on_trial_result(0, [], trial, val_loss_report([1, 2, 3]))
    # Retried from its checkpoint at epoch 1: epochs 2 and 3 come again, then a new epoch 4.
    logger.on_trial_result(0, [], trial, val_loss_report([2, 3, 4]))
    logger.flush()
    run_id = logger.runs["abc"]
    assert logged_steps(client, run_id) == [1, 2, 3, 4]

    # `hpo resume` after a crash: the callback as saved at the start adopts the run and goes on from
    # the trial's last checkpoint (epoch 2 here) without logging epochs 3 and 4 again.
    resumed = pickle.loads(saved_at_start)
    resumed.on_trial_start(0, [], trial)
    assert resumed.runs["abc"] == run_id
    resumed.on_trial_result(0, [], trial, val_loss_report([3, 4, 5]))
    resumed.flush()
    assert logged_steps(client, run_id) == [1, 2, 3, 4, 5]
