"""The language-model tasks end to end through `hpo run` on a user's text: tiny spaces, two trials."""
import io

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from tests.integration.test_cli import hpo
from trainables.language import GENERATE_CHARS, SAMPLE_CHARS, SAMPLE_PROMPT_CHARS
from trainables.text_data import min_chars
from trainables.transformer import MAX_CONTEXT

TINY_TRANSFORMER = """\
batch_size: {type: categorical, choices: [8]}
context_length: {type: categorical, choices: [16]}
n_layers: {type: int, low: 1, high: 1}
n_heads: {type: categorical, choices: [1, 2]}
head_width: {type: categorical, choices: [4]}
ff_width: {type: int, low: 8, high: 16}
lr: {type: float, low: 3.0e-3, high: 1.0e-2, log: true}
optimizer: {type: categorical, choices: [Adam, AdamW]}
"""


def write_story(folder):
    line = "the quick brown fox jumps over the lazy dog; the dog sleeps.\n"
    text = line * (min_chars(MAX_CONTEXT) // len(line) + 1)
    (folder / "story.txt").write_text(text)
    return text


def parent_and_trials(client, task, name):
    runs = client.search_runs([client.get_experiment_by_name(task).experiment_id],
                              filter_string=f"tags.`hpo.sweep` = '{name}'")
    return ([r for r in runs if r.data.tags.get("hpo.role") == "sweep"],
            [r for r in runs if r.data.tags.get("hpo.role") == "trial"])


def test_transformer_sweep_logs_a_sample_of_the_best_model(tmp_path):
    text = write_story(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY_TRANSFORMER)
    done = hpo("run", "transformer", "--data", "story.txt", "--space", "tiny.yaml", "--trials", "2",
               "--max-epochs", "2", "--name", "transformer-story", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    [parent], trials = parent_and_trials(client, "transformer", "transformer-story")
    assert len(trials) == 2 and all(t.data.params["d_model"] == str(int(t.data.params["n_heads"]) * 4)
                                    for t in trials)
    assert {"best_val_loss", "best_val_ppl", "test_loss", "test_ppl"} <= set(parent.data.metrics)
    assert parent.data.metrics["best_val_loss"] < 3.0  # below uniform over its 27 characters (3.3 nats)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    sample = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/sample.txt")
    prompt = text[int(len(text) * 0.9):][:SAMPLE_PROMPT_CHARS]
    assert sample.startswith(prompt) and len(sample) == SAMPLE_PROMPT_CHARS + SAMPLE_CHARS + 1
    assert set(sample) <= set(text)
    # The served model: prompts from a file through `hpo predict`, a list through MLflow's API.
    (tmp_path / "prompts.txt").write_text("the quick\nthe lazy dog\n")
    predicted = hpo("predict", f"runs:/{parent.info.run_id}/model", "--data", "prompts.txt", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    table = pd.read_csv(io.StringIO(predicted.stdout), keep_default_na=False)
    assert table["prompt"].tolist() == ["the quick", "the lazy dog"]
    assert all(len(t) == GENERATE_CHARS and set(t) <= set(text) for t in table["prediction"])
    served = mlflow.pyfunc.load_model(f"runs:/{parent.info.run_id}/model").predict(["the quick", "the lazy dog"])
    assert served["prediction"].tolist() == table["prediction"].tolist()


def test_bigram_sweep_with_sparse_adam(tmp_path):
    write_story(tmp_path)
    (tmp_path / "sparse.yaml").write_text("optimizer: {type: categorical, choices: [SparseAdam]}\n"
                                          "batch_size: {type: categorical, choices: [64]}\n"
                                          "lr: {type: float, low: 0.05, high: 0.2, log: true}\n")
    done = hpo("run", "bigram", "--data", "story.txt", "--space", "sparse.yaml", "--trials", "2",
               "--max-epochs", "2", "--name", "bigram-story", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    [parent], trials = parent_and_trials(client, "bigram", "bigram-story")
    assert len(trials) == 2 and {t.data.params["optimizer"] for t in trials} == {"SparseAdam"}
    assert all(t.data.tags["hpo.status"] == "completed" for t in trials)
    assert parent.data.metrics["best_val_loss"] < 1.5 and "test_ppl" in parent.data.metrics
