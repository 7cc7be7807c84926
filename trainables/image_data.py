"""Images for classification: scikit-learn digits, torchvision's MNIST / FashionMNIST / CIFAR-10, or a folder.

Every source becomes float tensors (n, channels, height, width) with pixels scaled to [0, 1] and then
normalised per channel with the mean and standard deviation of the training split only. Splits are
stratified and fixed by the seed: 70/15/15 for digits and folders; for the torchvision sets their own
test set is the test split and 15% of their training set is held out for validation.
"""
from __future__ import annotations

import base64
import io
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from pipelines.errors import DataError
from trainables.tabular_data import MIN_ROWS_PER_CLASS, fingerprint

VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
FOLDER_IMAGE_SIZE = 32        # images of a folder are resized to 32x32 pixels
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "F")   # PIL modes kept as one channel
DOWNLOAD_TIMEOUT_S = 30       # a network that does not answer fails instead of hanging
OFFLINE_VARIABLE = "HPO_OFFLINE"  # set to 1: never try to download, fail at once with what to place where


@dataclass
class ImageData:
    x_train: torch.Tensor     # (n, channels, height, width), normalised
    y_train: torch.Tensor     # class indices
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list             # class names by index
    mean: list[float]         # per channel, of [0, 1] pixels of the training split
    std: list[float]
    source: str = ""
    fingerprint: str = ""

    @property
    def channels(self) -> int:
        return self.x_train.shape[1]

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.x_train.shape[2:])


def normalised(pixels: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    return torch.tensor((pixels - mean[:, None, None]) / std[:, None, None], dtype=torch.float32)


def split_and_normalise(pixels: np.ndarray, labels: np.ndarray, classes: list, *, seed: int, source: str,
                        test: tuple[np.ndarray, np.ndarray] | None = None) -> ImageData:
    """Stratified splits fixed by the seed (the test split given, or 15% of the images), normalised
    with statistics of the training split. `pixels` are floats in [0, 1], (n, channels, h, w)."""
    from sklearn.model_selection import train_test_split

    all_pixels, all_labels = pixels, labels
    if test is None:
        pixels, test_pixels, labels, test_labels = train_test_split(
            pixels, labels, test_size=TEST_FRACTION, random_state=seed, stratify=labels)
        val_size = VAL_FRACTION / (1 - TEST_FRACTION)
    else:
        test_pixels, test_labels = test
        val_size = VAL_FRACTION
    train_pixels, val_pixels, train_labels, val_labels = train_test_split(
        pixels, labels, test_size=val_size, random_state=seed, stratify=labels)
    return with_training_statistics((train_pixels, train_labels), (val_pixels, val_labels),
                                    (test_pixels, test_labels), classes, source, fingerprint(all_pixels, all_labels))


def with_training_statistics(train: tuple, val: tuple, test: tuple, classes: list, source: str,
                             digest: str) -> ImageData:
    """ImageData of (pixels in [0, 1], labels) splits, normalised per channel with the training split's
    mean and standard deviation."""
    mean = train[0].mean(axis=(0, 2, 3))
    std = train[0].std(axis=(0, 2, 3))
    std[std == 0] = 1.0

    def as_labels(a):
        return torch.as_tensor(a, dtype=torch.long)

    return ImageData(normalised(train[0], mean, std), as_labels(train[1]), normalised(val[0], mean, std),
                     as_labels(val[1]), normalised(test[0], mean, std), as_labels(test[1]),
                     classes=classes, mean=mean.tolist(), std=std.tolist(), source=source, fingerprint=digest)


def raw_split(data: ImageData, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A split as [0, 1] pixels and labels again: what its normalisation started from."""
    x = getattr(data, f"x_{name}").cpu().numpy()
    mean, std = np.asarray(data.mean, np.float32), np.asarray(data.std, np.float32)
    return x * std[:, None, None] + mean[:, None, None], getattr(data, f"y_{name}").cpu().numpy()


def image_folds(data: ImageData, k: int, seed: int) -> list[ImageData]:
    """--cv K: K stratified folds of train+val, each normalised with its own training rows' statistics."""
    from sklearn.model_selection import StratifiedKFold

    (x_train, y_train), (x_val, y_val) = raw_split(data, "train"), raw_split(data, "val")
    x, y = np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])
    counts = np.bincount(y, minlength=len(data.classes))
    if k > counts.min():
        rarest = data.classes[int(counts.argmin())]
        raise DataError(f"The --cv {k} asks for more folds than train+val has images of class {rarest!r} "
                        f"({counts.min()}); use --cv {counts.min()} or fewer.")
    test = raw_split(data, "test")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [with_training_statistics((x[fit], y[fit]), (x[held], y[held]), test, data.classes, data.source,
                                     data.fingerprint) for fit, held in splitter.split(x, y)]


def merge_validation(data: ImageData) -> ImageData:
    """The refit's data: train+val as the training split (normalised with its statistics); val stays."""
    (x_train, y_train), val = raw_split(data, "train"), raw_split(data, "val")
    merged = (np.concatenate([x_train, val[0]]), np.concatenate([y_train, val[1]]))
    return with_training_statistics(merged, val, raw_split(data, "test"), data.classes, data.source,
                                    data.fingerprint)


def load_digits(seed: int) -> ImageData:
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    pixels = (bunch.images / 16.0)[:, None].astype(np.float32)   # 0..16 ink levels -> [0, 1]
    return split_and_normalise(pixels, bunch.target, [int(c) for c in bunch.target_names], seed=seed,
                               source="sklearn:load_digits")


# --dataset name -> (torchvision class, the files it reads, relative to --data-dir)
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")
TORCHVISION_SETS = {
    "mnist": ("MNIST", [f"MNIST/raw/{f}" for f in MNIST_FILES]),
    "fashion_mnist": ("FashionMNIST", [f"FashionMNIST/raw/{f}" for f in MNIST_FILES]),
    "cifar10": ("CIFAR10", ["cifar-10-python.tar.gz (or its folder cifar-10-batches-py/ with data_batch_1 .. "
                            "data_batch_5, test_batch and batches.meta)"]),
}
DATASETS = ("digits", *TORCHVISION_SETS)


@contextmanager
def _download_timeout():
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _open_torchvision(dataset: str, root: Path):
    """The (train, test) sets from root, downloaded there when missing and the network allows."""
    import torchvision.datasets

    class_name, files = TORCHVISION_SETS[dataset]
    make = getattr(torchvision.datasets, class_name)
    try:
        return make(str(root), train=True), make(str(root), train=False)
    except RuntimeError:
        pass  # not there (torchvision says "Dataset not found")
    except (AssertionError, ValueError, TypeError, OSError, EOFError) as exc:
        raise DataError(f"The {dataset} files in '{root}' cannot be read ({type(exc).__name__}: {exc}); "
                        f"replace them: {', '.join(files)}.") from None
    offline = os.environ.get(OFFLINE_VARIABLE) == "1"
    reason = f"{OFFLINE_VARIABLE}=1"
    if not offline:
        existed = root.exists()
        try:
            with _download_timeout():
                return make(str(root), train=True, download=True), make(str(root), train=False, download=True)
        except (RuntimeError, OSError, ValueError) as exc:  # URLError is an OSError
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            if not existed:  # leave no empty folders behind a failed download
                _remove_empty_folders(root)
    raise DataError(f"The {dataset} data set is not in '{root}' and cannot be downloaded ({reason}); "
                    f"place these files there: {', '.join(files)}.")


def _remove_empty_folders(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()


def _pixels_of(dataset) -> tuple[np.ndarray, np.ndarray]:
    """A torchvision set's images as floats in [0, 1], (n, channels, h, w), and its labels."""
    data = np.asarray(dataset.data)
    pixels = data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2)  # MNIST (n,h,w); CIFAR (n,h,w,c)
    return pixels.astype(np.float32) / 255.0, np.asarray(dataset.targets, dtype=np.int64)


def load_torchvision(dataset: str, data_dir: str | None, seed: int) -> ImageData:
    root = Path(data_dir or "data").expanduser().resolve()
    train, test = _open_torchvision(dataset, root)
    pixels, labels = _pixels_of(train)
    return split_and_normalise(pixels, labels, list(train.classes), seed=seed, test=_pixels_of(test),
                               source=f"torchvision:{TORCHVISION_SETS[dataset][0]}:{root}")


def open_image(reference: str):
    """A PIL image from a file path or a `data:image/...;base64,` URI; a DataError if unreadable."""
    try:
        if reference.startswith("data:"):
            source = io.BytesIO(base64.b64decode(reference.split(",", 1)[1], validate=True))
        else:
            source = reference
        image = Image.open(source)
        image.load()
        return image
    except (OSError, UnidentifiedImageError, ValueError, IndexError) as exc:
        shown = reference if not reference.startswith("data:") else reference[:40] + "..."
        raise DataError(f"The image '{shown}' cannot be read: {exc}.") from None


def image_pixels(image, channels: int, size: tuple[int, int]) -> np.ndarray:
    """A PIL image as floats in [0, 1], (channels, h, w), converted and resized to what a model takes."""
    image = image.convert("L" if channels == 1 else "RGB")
    if image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def image_files(folder: Path) -> list[Path]:
    """The image files under a folder, recursively, in a fixed order."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS)


def load_image_folder(path: str, seed: int) -> ImageData:
    """A folder with one subfolder of images per class (torchvision's ImageFolder layout)."""
    from torchvision.datasets.folder import find_classes

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"The --data folder '{path}' does not exist or is not a folder "
                        "(the cnn task takes a folder with one subfolder of images per class).")
    try:
        classes, _ = find_classes(str(root))
    except FileNotFoundError:
        classes = []
    if len(classes) < 2:
        raise DataError(f"The --data folder '{path}' must have one subfolder of images per class, at least two; "
                        f"found {len(classes)}{': ' + classes[0] if classes else ''}.")
    files = {name: image_files(root / name) for name in classes}
    few = [f"{name} ({len(found)})" for name, found in files.items() if len(found) < MIN_ROWS_PER_CLASS]
    if few:
        raise DataError(f"Every class of '{path}' needs at least {MIN_ROWS_PER_CLASS} images; "
                        f"too few in {', '.join(few)}.")
    images = [(open_image(str(file)), index) for index, name in enumerate(classes) for file in files[name]]
    # One channel when every image is grayscale, else RGB; one size for all.
    channels = 1 if all(image.mode in GRAYSCALE_MODES for image, _ in images) else 3
    size = (FOLDER_IMAGE_SIZE, FOLDER_IMAGE_SIZE)
    pixels = np.stack([image_pixels(image, channels, size) for image, _ in images])
    labels = np.array([index for _, index in images])
    return split_and_normalise(pixels, labels, classes, seed=seed, source=str(root.resolve()))


def load_images(data: str | None, dataset: str | None, data_dir: str | None, seed: int) -> ImageData:
    if data is not None and dataset is not None:
        raise DataError(f"Give either --data (an image folder) or --dataset, not both (got --dataset {dataset!r}).")
    if data is not None:
        return load_image_folder(data, seed)
    dataset = dataset or "digits"
    if dataset not in DATASETS:
        raise DataError(f"The --dataset of cnn must be one of {', '.join(DATASETS)}, got {dataset!r}.")
    return load_digits(seed) if dataset == "digits" else load_torchvision(dataset, data_dir, seed)
