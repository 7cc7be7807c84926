"""bigram: a character-level bigram language model, a table of next-character logits per character.

Default data: the text of CPython's documentation topics; or any UTF-8 text with --data FILE.txt
(splits in trainables/text_data.py). Reports val_loss in nats per character and val_ppl.
With the SparseAdam optimizer the table is an nn.Embedding(sparse=True): a step updates only the rows
of the characters in its batch.
"""
from torch import nn

from trainables import baselines, language
from trainables.catalog import card
from trainables.task import DataRequest, Task
from trainables.text_data import TextData, load_text


class BigramLM(nn.Module):
    # Each prediction depends on the previous character only, so any window gives the same logits;
    # this one only sets how much text is scored per forward pass.
    window = 256

    def __init__(self, vocab_size: int, sparse: bool = False):
        super().__init__()
        self.logits = nn.Embedding(vocab_size, vocab_size, sparse=sparse)
        nn.init.zeros_(self.logits.weight)  # starts uniform: a loss of ln(vocab_size)

    def forward(self, ids):
        return self.logits(ids)


def load_data(request: DataRequest) -> TextData:
    return load_text(request.data, window=1, task="bigram")


def build_model(config: dict, data: TextData) -> nn.Module:
    return BigramLM(data.vocab_size, sparse=config["optimizer"] == "SparseAdam")


TASK = Task(**card("bigram"), load_data=load_data, build_model=build_model,
            train=language.make_train(build_model, context_of=lambda config: 1), evaluate=language.evaluate,
            make_predictor=language.make_predictor, read_raw=language.read_raw,
            summarize_best=language.summarize_best, baselines=baselines.count_bigram)
