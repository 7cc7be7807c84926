"""The language-model tasks: the character corpus and its errors, the causal transformer, the bigram's
sparse path, validation in nats per character, the space, and serving prompts."""
import math
import pickle
from pathlib import Path

import optuna
import pandas as pd
import pytest
import torch

from benchmarks.bigram_floor import cross_entropy, pair_counts
from pipelines.errors import DataError, SpaceError
from pipelines.registry import TASKS
from search_spaces.fixed import fixed_config
from search_spaces.space import Space, check_space
from search_spaces.yaml_space import load_space_file, parse_space
from trainables import bigram, language, transformer
from trainables.optimizers import make_optimizer
from trainables.reporting import MemoryIO
from trainables.task import DataRequest
from trainables.text_data import default_text, load_text, min_chars

GPU_SPACE = Path(__file__).parents[2] / "search_spaces" / "transformer_gpu.yaml"
TINY = {"batch_size": 8, "epochs": 1, "context_length": 16, "n_layers": 2, "n_heads": 2, "head_width": 4,
        "d_model": 8, "ff_width": 16, "dropout": 0.0, "lr": 3e-3, "optimizer": "Adam", "seed": 0}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def corpus():
    return transformer.load_data(DataRequest())


def text_file(tmp_path, text, name="book.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_default_corpus_is_split_90_5_5_in_text_order(corpus):
    text = default_text()
    assert len(text) > 400_000 and corpus.source == "pydoc_data.topics" and len(corpus.fingerprint) == 16
    sizes = [len(corpus.train), len(corpus.val), len(corpus.test)]
    assert sum(sizes) == len(text) and sizes[0] == int(0.9 * len(text)) and abs(sizes[1] - sizes[2]) <= 1
    decoded = "".join(corpus.chars[i] for i in torch.cat([corpus.train, corpus.val, corpus.test]).tolist())
    assert decoded == text and corpus.chars == sorted(set(text))


def test_a_users_text_gives_its_own_vocabulary_and_fingerprint(tmp_path):
    poem = "Ünïcode wörks: ça va? " * 600
    data = bigram.load_data(DataRequest(data=text_file(tmp_path, poem)))
    assert data.chars == sorted(set(poem)) and data.source.endswith("book.txt")
    again = bigram.load_data(DataRequest(data=text_file(tmp_path, poem, "copy.txt")))
    other = bigram.load_data(DataRequest(data=text_file(tmp_path, poem + "!", "other.txt")))
    assert again.fingerprint == data.fingerprint != other.fingerprint


def test_text_errors_name_the_file_and_what_would_work(tmp_path):
    with pytest.raises(DataError, match="'nope.txt' does not exist"):
        load_text("nope.txt", window=1, task="bigram")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 ".encode("latin-1") * 100)
    with pytest.raises(DataError, match="is not UTF-8 text"):
        load_text(str(tmp_path / "latin1.txt"), window=1, task="bigram")
    short = text_file(tmp_path, "x" * (min_chars(transformer.MAX_CONTEXT) - 1))
    with pytest.raises(DataError, match=f"transformer task needs at least {min_chars(transformer.MAX_CONTEXT)}"):
        transformer.load_data(DataRequest(data=short))
    assert len(bigram.load_data(DataRequest(data=short)).val) > 1  # the bigram needs only pairs


def test_causal_mask_a_later_character_never_changes_earlier_logits(corpus):
    torch.manual_seed(0)
    model = transformer.build_model(TINY, corpus).eval()
    ids = torch.randint(0, corpus.vocab_size, (1, 16))
    changed = ids.clone()
    changed[0, 9] = (ids[0, 9] + 1) % corpus.vocab_size
    before, after = model(ids), model(changed)
    assert torch.equal(before[0, :9], after[0, :9])
    assert not torch.allclose(before[0, 9:], after[0, 9:])  # and it does change the ones that see it


def test_positions_are_batch_first_each_window_is_scored_alone(corpus):
    torch.manual_seed(0)
    model = transformer.build_model(TINY, corpus).eval()
    batch = torch.randint(0, corpus.vocab_size, (3, 16))
    together = model(batch)
    for row in range(3):
        assert torch.allclose(together[row], model(batch[row:row + 1])[0], atol=1e-5)


def test_heads_always_divide_the_width():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(40):
        config = TASKS["transformer"].define_space(Space(study.ask()))
        assert config["d_model"] == config["n_heads"] * config["head_width"]
        assert config["d_model"] % config["n_heads"] == 0
    with pytest.raises(ValueError, match="must divide the model width"):
        transformer.CausalSelfAttention(10, 4, 0.0)


def test_space_dimensions_and_limits():
    params = check_space(TASKS["transformer"].define_space).params
    assert {"batch_size", "epochs", "n_layers", "n_heads", "head_width", "ff_width", "dropout", "context_length",
            "lr", "optimizer", "lr_schedule", "grad_clip"} <= set(params)
    bigram = set(check_space(TASKS["bigram"].define_space).params)
    assert {"batch_size", "epochs", "lr", "optimizer", "lr_schedule"} == bigram
    assert "SparseAdam" in check_space(TASKS["bigram"].define_space).params["optimizer"].choices
    too_long = parse_space({"context_length": {"type": "categorical", "choices": [1024]}})
    with pytest.raises(SpaceError, match="'context_length' of the space must be <= 512"):
        check_space(TASKS["transformer"].define_space, too_long)
    gpu = check_space(TASKS["transformer"].define_space, load_space_file(GPU_SPACE))
    assert gpu.largest["d_model"] == 8 * 64 and gpu.largest["context_length"] == 512


def test_an_epoch_is_the_same_amount_of_text_for_every_batch_and_context():
    assert language.CHARS_PER_EPOCH == 2 ** 17
    # (batch, context) -> steps: the nearest whole number of steps to 2^17 characters, at least one
    sizes = {(16, 64): 128, (32, 128): 32, (12, 64): 171, (3, 100): 437, (1024, 1): 128, (2048, 128): 1}
    assert {size: language.steps_per_epoch(*size) for size in sizes} == sizes


def test_the_first_trial_is_a_config_of_the_default_space(recwarn):
    first = TASKS["transformer"].first_trial
    config = fixed_config(TASKS["transformer"].define_space, first)
    assert {k: config[k] for k in first} == first and config["d_model"] == 128
    # Enqueued in a study, Optuna warns of any value outside the default space's ranges and choices.
    study = optuna.create_study()
    study.enqueue_trial(first)
    TASKS["transformer"].define_space(Space(study.ask(), {}))
    assert not [w for w in recwarn if "out of" in str(w.message) or "range" in str(w.message)], \
        [str(w.message) for w in recwarn]


def test_sparse_adam_trains_the_bigram_table_through_sparse_gradients(corpus):
    config = {"batch_size": 256, "epochs": 2, "lr": 0.1, "optimizer": "SparseAdam", "seed": 0}
    model = bigram.build_model(config, corpus)
    assert model.logits.sparse
    optimizer = make_optimizer(model, "SparseAdam", 0.1)
    assert [type(o).__name__ for o in optimizer.optimizers] == ["SparseAdam"]
    language.lm_loss(model(corpus.train[None, :64]), corpus.train[None, 1:65]).backward()
    assert model.logits.weight.grad.is_sparse
    io = MemoryIO()
    bigram.TASK.train(config, corpus, io)
    assert [r["epoch"] for r in io.results] == [1, 2]
    assert io.results[-1]["val_loss"] < math.log(corpus.vocab_size) - 1.0  # well below the uniform start
    assert io.results[-1]["val_ppl"] == pytest.approx(math.exp(io.results[-1]["val_loss"]))


def test_validation_scores_every_character_once(corpus):
    """A bigram table set to the smoothed counts scores exactly the counts' cross-entropy."""
    counts = pair_counts(corpus.train, corpus.vocab_size) + 1.0
    model = bigram.BigramLM(corpus.vocab_size)
    with torch.no_grad():
        model.logits.weight.copy_((counts / counts.sum(dim=1, keepdim=True)).log().float())
    for split in ("val", "test"):
        expected = cross_entropy(counts, corpus.split(split))
        assert language.evaluate(model, corpus, split)[f"{split}_loss"] == pytest.approx(expected, abs=1e-4)


def test_predictor_round_trip_and_prompt_errors(corpus, tmp_path):
    io = MemoryIO()
    transformer.TASK.train(TINY, corpus, io)
    model = transformer.build_model(TINY, corpus)
    model.load_state_dict(io.state["best_models"][0])
    predictor = pickle.loads(pickle.dumps(transformer.TASK.make_predictor(model, corpus, TINY)))
    assert predictor.window == 16 and predictor.chars == corpus.chars and not predictor.model.training
    prompts_file = tmp_path / "prompts.txt"
    prompts_file.write_text("def f(x):\n\n   \nThe import statement\n", encoding="utf-8")
    prompts = transformer.TASK.read_raw(str(prompts_file))
    assert prompts == ["def f(x):", "The import statement"]
    frame = predictor.predict(prompts + prompts[:1])
    texts = frame["prediction"].tolist()
    assert len(texts) == 3 and all(len(t) == language.GENERATE_CHARS and set(t) <= set(corpus.chars) for t in texts)
    assert texts[0] == texts[2]  # seeded: the same prompt, the same text
    assert frame["prompt"].tolist() == prompts + prompts[:1]
    # MLflow hands the served model a list of prompts as a one-column DataFrame: one row per prompt still.
    assert predictor.predict(pd.DataFrame({0: prompts}))["prediction"].tolist() == texts[:2]
    assert predictor.predict(predictor.example())["prediction"].str.len().tolist() == [language.GENERATE_CHARS]
    with pytest.raises(DataError, match="Prompt 2 has character\\(s\\) '☃'"):
        predictor.predict(["ok", "snow ☃"])
    (tmp_path / "blank.txt").write_text("\n  \n")
    with pytest.raises(DataError, match="has no prompts"):
        transformer.TASK.read_raw(str(tmp_path / "blank.txt"))
    with pytest.raises(DataError, match="does not exist"):
        bigram.TASK.read_raw(str(tmp_path / "none.txt"))


def test_sample_of_the_best_model_starts_with_the_fixed_prompt(corpus):
    torch.manual_seed(0)
    model = bigram.BigramLM(corpus.vocab_size)
    sample = bigram.TASK.summarize_best(model, corpus, {})["texts"]["sample.txt"]
    prompt = language.sample_prompt(corpus)
    assert sample.startswith(prompt) and len(sample) == len(prompt) + language.SAMPLE_CHARS + 1
    assert sample == bigram.TASK.summarize_best(model, corpus, {})["texts"]["sample.txt"]



class Interrupted(Exception):
    pass


class StopAfterFirstReport(MemoryIO):
    """A trial whose process dies right after its first checkpoint."""

    def report(self, metrics, state):
        super().report(metrics, state)
        raise Interrupted


def test_a_resumed_trial_draws_the_same_windows_as_an_uninterrupted_one(corpus):
    config = {"batch_size": 64, "epochs": 2, "lr": 0.05, "optimizer": "Adam", "seed": 3}
    straight = MemoryIO()
    bigram.TASK.train(config, corpus, straight)
    first = StopAfterFirstReport()
    with pytest.raises(Interrupted):
        bigram.TASK.train(config, corpus, first)
    resumed = MemoryIO(first.state)
    bigram.TASK.train(config, corpus, resumed)
    assert [r["epoch"] for r in resumed.results] == [2]
    assert resumed.results[0]["train_loss"] == straight.results[1]["train_loss"]
    assert resumed.results[0]["val_loss"] == straight.results[1]["val_loss"]
