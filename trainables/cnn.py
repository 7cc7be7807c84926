"""cnn: image classification with a small CNN (conv blocks, then an MLP head on logits).

Default data: scikit-learn's digits (1797 images of 8x8 pixels, 10 classes). `--dataset mnist`,
`fashion_mnist` or `cifar10` read torchvision's files in --data-dir (default ./data), downloading them
when the network allows; `--data DIR` takes a folder with one subfolder of images per class (resized to
32x32). See trainables/image_data.py.

A conv block is a 3x3 convolution (padding 1), batch norm, ReLU and a 2x2 max pool while the image is
at least 2 pixels wide (no batch norm once it is down to 1x1). `val_loss` is the cross-entropy on
logits, `val_acc` the accuracy.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn

from pipelines.errors import DataError
from trainables import baselines
from trainables.catalog import card
from trainables.image_data import (
    ImageData,
    image_files,
    image_folds,
    image_pixels,
    load_images,
    merge_validation,
    open_image,
)
from trainables.loop import evaluate_with, make_train
from trainables.metrics import classification_scores
from trainables.mlp import build_mlp, layer_widths
from trainables.task import DataRequest, Task, served_strings


def conv_channels(config: dict) -> list[int]:
    """The output channels of each conv block: `conv_channels_b0` .. `conv_channels_b{conv_blocks-1}`."""
    return [int(config[f"conv_channels_b{i}"]) for i in range(int(config["conv_blocks"]))]


def build_cnn(channels: int, size: tuple[int, int], n_classes: int, block_channels: list[int],
              fc_widths: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    height, width = size
    for out in block_channels:
        layers.append(nn.Conv2d(channels, out, kernel_size=3, padding=1))
        if height * width > 1:  # batch norm of a 1x1 map fails on a last batch of one image
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        if min(height, width) >= 2:  # 8x8 digits allow three pools; further blocks keep 1x1
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        channels = out
    layers.append(nn.Flatten())
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(build_mlp(channels * height * width, n_classes, fc_widths, dropout=dropout))
    return nn.Sequential(*layers)


def load_data(request: DataRequest) -> ImageData:
    return load_images(request.data, request.dataset, request.data_dir, request.seed)


def build_model(config: dict, data: ImageData) -> nn.Module:
    return build_cnn(data.channels, data.size, len(data.classes), conv_channels(config), layer_widths(config),
                     float(config.get("dropout", 0.0)))


EVAL_BATCH = 2048  # images per forward pass when evaluating: bounds memory on the large sets


@torch.inference_mode()
def probabilities(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    model.eval()
    logits = torch.cat([model(x[i:i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])
    return torch.softmax(logits.float(), 1).cpu().numpy()


def outputs(model: nn.Module, data: ImageData, split_name: str) -> np.ndarray:
    """The probabilities of the classes for each image of a split."""
    return probabilities(model, getattr(data, f"x_{split_name}"))


def score(split_name: str, proba: np.ndarray, data: ImageData) -> dict:
    return classification_scores(split_name, getattr(data, f"y_{split_name}").cpu().numpy(), proba)


evaluate = evaluate_with(outputs, score)
train = make_train(build_model, lambda config, data: nn.functional.cross_entropy, evaluate)


def png_data_uri(pixels: np.ndarray) -> str:
    """An image of [0, 1] floats (channels, h, w) as a PNG `data:` URI: an input example that needs no file."""
    array = (np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)
    image = Image.fromarray(array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class ImagePredictor:
    """The class of each image given to it (serving; CPU, eval mode).

    `predict(raw)`: raw is a folder, an image file, or a list of image paths or `data:image/...;base64,`
    URIs (a pandas Series or one-column DataFrame of them works too). Each image is converted to the
    model's channels, resized to its input size, scaled to [0, 1] and normalised with the training
    statistics. Returns one row per image: `image` and `prediction` (the class name)."""

    def __init__(self, model: nn.Module, data: ImageData):
        self.model = model.cpu().eval()
        self.mean, self.std = np.array(data.mean, np.float32), np.array(data.std, np.float32)
        self.channels, self.size, self.classes = data.channels, data.size, list(data.classes)
        first = data.x_test[0].numpy()
        self.example_image = png_data_uri(first * self.std[:, None, None] + self.mean[:, None, None])

    def outputs(self, raw) -> np.ndarray:
        """The probabilities of the classes (images, classes)."""
        pixels = np.stack([image_pixels(open_image(r), self.channels, self.size) for r in image_references(raw)])
        x = torch.tensor((pixels - self.mean[:, None, None]) / self.std[:, None, None], dtype=torch.float32)
        return probabilities(self.model, x)

    def labels(self, outputs: np.ndarray, raw) -> pd.DataFrame:
        """One row per image of `raw`: `image` and `prediction`, the class of the highest probability."""
        shown = [r if not r.startswith("data:") else f"inline image {i}" for i, r in enumerate(image_references(raw))]
        return pd.DataFrame({"image": shown, "prediction": [self.classes[i] for i in outputs.argmax(axis=1)]})

    def predict(self, raw) -> pd.DataFrame:
        return self.labels(self.outputs(raw), raw)

    def example(self) -> list[str]:
        return [self.example_image]


def image_references(raw) -> list[str]:
    """The images a raw input names, as path or data-URI strings."""
    if isinstance(raw, (str, Path)) and not str(raw).startswith("data:"):
        return read_raw(str(raw))
    references = served_strings(raw, "image")
    if not references:
        raise DataError("No images to predict: the input is empty.")
    return references


def make_predictor(model: nn.Module, data: ImageData, config: dict) -> ImagePredictor:
    return ImagePredictor(model, data)


def read_raw(path: str) -> list[str]:
    """A folder (its image files, recursively) or a single image file, as a list of paths."""
    where = Path(path)
    if where.is_file():
        return [str(where)]
    if not where.is_dir():
        raise DataError(f"The --data '{path}' is neither an image file nor a folder.")
    files = image_files(where)
    if not files:
        raise DataError(f"The --data folder '{path}' has no image files (.png, .jpg, ...).")
    return [str(f) for f in files]


TASK = Task(**card("cnn"), load_data=load_data, build_model=build_model, train=train,
            evaluate=evaluate, make_predictor=make_predictor, read_raw=read_raw, baselines=baselines.pixels,
            outputs=outputs, score=score, merge_validation=merge_validation, cross_validate=image_folds)
