"""The node and device tags of a trial's MLflow run follow the trial: set from its first result, set
again when a retry runs it on another node, and the CPU fallback is noted (a real SQLite store, no Ray)."""
from types import SimpleNamespace

from pipelines.tracking import TrialLogger, client_for, experiment_id


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
    tags = client.get_run(run_id).data.tags
    assert (tags["ray.node_id"], tags["hpo.device"], tags["hpo.device_fallback"]) == ("node-a", "cpu", fallback)

    logger.on_trial_result(0, [], trial, {"epoch": 2, "val_loss": 0.4, "node_id": "node-b", "device": "cuda:A10G"})
    tags = client.get_run(run_id).data.tags
    assert (tags["ray.node_id"], tags["hpo.device"]) == ("node-b", "cuda:A10G")
