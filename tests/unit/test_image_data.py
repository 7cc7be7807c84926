"""The cnn task's images: digits, torchvision's MNIST files, an image folder, their errors, the predictor."""
import pickle
import struct

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from pipelines.errors import DataError
from tests.unit.training import trained
from trainables import cnn
from trainables.image_data import FOLDER_IMAGE_SIZE, OFFLINE_VARIABLE
from trainables.task import DataRequest

CONFIG = {"batch_size": 32, "epochs": 2, "lr": 0.01, "optimizer": "Adam", "conv_blocks": 2,
          "conv_channels_b0": 8, "conv_channels_b1": 8, "n_layers": 1, "n_units_l0": 16, "dropout": 0.1, "seed": 0}


def write_idx(path, array: np.ndarray) -> None:
    """torchvision's raw MNIST format: magic (0, 0, type 0x08 = ubyte, dims), big-endian sizes, bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def strokes(label: int, rng, size=28) -> np.ndarray:
    """An image whose bright column depends on the label: a set a CNN can tell apart."""
    image = rng.integers(0, 40, (size, size))
    image[:, 2 + 2 * label: 4 + 2 * label] = 250
    return image


def write_mnist(root, folder="MNIST", n_train=120, n_test=40):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", np.stack([strokes(k, rng) for k in labels]))
        write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", labels)


def write_folder(root, classes=("cat", "dog"), per_class=6, mode="RGB", size=(20, 14)):
    rng = np.random.default_rng(1)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (size[1], size[0], 3)).astype(np.uint8)
            pixels[..., k % 3] = 255
            Image.fromarray(pixels).convert(mode).save(root / name / f"{i}.png")
    return root


def test_digits_split_70_15_15_stratified_and_normalised_on_train():
    data = cnn.load_data(DataRequest(seed=0))
    sizes = [len(data.x_train), len(data.x_val), len(data.x_test)]
    assert sum(sizes) == 1797 and abs(sizes[2] / 1797 - 0.15) < 0.01
    assert data.x_train.shape[1:] == (1, 8, 8) and data.classes == list(range(10))
    assert abs(data.x_train.mean().item()) < 1e-4 and abs(data.x_train.std(unbiased=False).item() - 1) < 1e-3
    assert torch.bincount(data.y_test).min() >= 26  # stratified: every digit in the test split
    again, other = cnn.load_data(DataRequest(seed=0)), cnn.load_data(DataRequest(seed=1))
    assert torch.equal(data.x_val, again.x_val) and not torch.equal(data.x_val, other.x_val)


def test_mnist_from_raw_files_in_the_data_dir(tmp_path):
    write_mnist(tmp_path)
    data = cnn.load_data(DataRequest(dataset="mnist", data_dir=str(tmp_path)))
    assert len(data.x_test) == 40 and len(data.x_train) + len(data.x_val) == 120 and len(data.x_val) == 18
    assert data.x_train.shape[1:] == (1, 28, 28) and data.classes[3] == "3 - three"
    assert data.source.startswith("torchvision:MNIST")
    write_mnist(tmp_path, folder="FashionMNIST")
    fashion = cnn.load_data(DataRequest(dataset="fashion_mnist", data_dir=str(tmp_path)))
    assert fashion.classes[0] == "T-shirt/top"


def test_missing_torchvision_files_offline_name_the_folder_and_files(tmp_path, monkeypatch):
    monkeypatch.setenv(OFFLINE_VARIABLE, "1")
    with pytest.raises(DataError) as caught:
        cnn.load_data(DataRequest(dataset="mnist", data_dir=str(tmp_path / "cache")))
    message = str(caught.value)
    assert f"not in '{tmp_path / 'cache'}'" in message and "MNIST/raw/train-images-idx3-ubyte" in message
    assert not (tmp_path / "cache").exists()
    with pytest.raises(DataError, match="cifar-10-python.tar.gz"):
        cnn.load_data(DataRequest(dataset="cifar10", data_dir=str(tmp_path)))


def test_broken_mnist_files(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x0d\x07 not idx")
    with pytest.raises(DataError, match="cannot be read"):
        cnn.load_data(DataRequest(dataset="mnist", data_dir=str(tmp_path)))


def test_unknown_dataset_and_both_sources():
    with pytest.raises(DataError, match="must be one of digits, mnist, fashion_mnist, cifar10"):
        cnn.load_data(DataRequest(dataset="imagenet"))
    with pytest.raises(DataError, match="either --data"):
        cnn.load_data(DataRequest(data="x", dataset="mnist"))


def test_image_folder_resized_to_one_size(tmp_path):
    root = write_folder(tmp_path / "pets")
    (root / "cat" / "notes.txt").write_text("not an image, skipped")
    data = cnn.load_data(DataRequest(data=str(root), seed=0))
    assert data.classes == ["cat", "dog"] and data.channels == 3
    assert data.size == (FOLDER_IMAGE_SIZE, FOLDER_IMAGE_SIZE)
    assert sum(map(len, (data.x_train, data.x_val, data.x_test))) == 12


def test_grayscale_folder_keeps_one_channel(tmp_path):
    data = cnn.load_data(DataRequest(data=str(write_folder(tmp_path / "g", mode="L"))))
    assert data.channels == 1


@pytest.mark.parametrize("build, fragment", [
    (lambda p: p / "missing", "does not exist or is not a folder"),
    (lambda p: p, "at least two; found 0"),
    (lambda p: write_folder(p / "one", classes=("cat",)), "at least two; found 1: cat"),
    (lambda p: write_folder(p / "few", per_class=3), "needs at least 5 images; too few in cat (3), dog (3)"),
])
def test_image_folder_errors(tmp_path, build, fragment):
    with pytest.raises(DataError) as caught:
        cnn.load_data(DataRequest(data=str(build(tmp_path))))
    assert fragment in str(caught.value)


def test_unreadable_image_is_named(tmp_path):
    root = write_folder(tmp_path / "pets")
    (root / "dog" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"broken.png' cannot be read"):
        cnn.load_data(DataRequest(data=str(root)))


def test_conv_blocks_pool_while_the_image_allows():
    model = cnn.build_cnn(1, (8, 8), 10, [4, 4, 4, 4], [16], dropout=0.0)
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 3
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 3  # none on the 1x1 map
    model.train()(torch.randn(1, 1, 8, 8)).sum().backward()  # a last batch of one image trains too
    assert cnn.build_cnn(3, (32, 32), 4, [8], [], dropout=0.2)(torch.randn(2, 3, 32, 32)).shape == (2, 4)


def test_predictor_round_trip_on_files_folders_and_inline_images(tmp_path):
    root = write_folder(tmp_path / "pets", per_class=8)
    data = cnn.load_data(DataRequest(data=str(root)))
    model = trained(cnn.TASK, CONFIG, data)
    predictor = pickle.loads(pickle.dumps(cnn.make_predictor(model, data, CONFIG)))
    assert not predictor.model.training and predictor.size == (32, 32)

    files = cnn.read_raw(str(root))
    assert len(files) == 16
    out = predictor.predict(files)
    assert list(out.columns) == ["image", "prediction"] and set(out["prediction"]) <= {"cat", "dog"}
    # Same answer as the model on the loader's tensors of the same images (same resize and normalisation).
    with torch.inference_mode():
        x = torch.cat([data.x_train, data.x_val, data.x_test])
        expected = model.eval()(x).argmax(-1)
    assert sorted(out["prediction"].tolist()) == sorted(data.classes[i] for i in expected.tolist())
    assert predictor.predict(str(root)).equals(out)
    assert predictor.predict(pd.DataFrame({"image": files[:2]}))["prediction"].tolist() == out["prediction"][:2].tolist()
    assert cnn.read_raw(files[0]) == [files[0]]
    example = predictor.predict(predictor.example())
    assert example["image"].tolist() == ["inline image 0"] and example["prediction"].iloc[0] in ("cat", "dog")


def test_digits_predictor_reads_an_image_file(tmp_path):
    data = cnn.load_data(DataRequest(seed=0))
    predictor = cnn.make_predictor(trained(cnn.TASK, CONFIG, data), data, CONFIG)
    pixels = (data.x_test[0, 0].numpy() * data.std[0] + data.mean[0]) * 255
    Image.fromarray(pixels.round().clip(0, 255).astype(np.uint8)).save(tmp_path / "digit.png")
    out = predictor.predict([str(tmp_path / "digit.png")])
    assert out["prediction"].iloc[0] in range(10)


def test_predictor_and_read_raw_errors(tmp_path):
    data = cnn.load_data(DataRequest(seed=0))
    predictor = cnn.make_predictor(cnn.build_model(CONFIG, data), data, CONFIG)
    with pytest.raises(DataError, match="neither an image file nor a folder"):
        cnn.read_raw(str(tmp_path / "nothing"))
    with pytest.raises(DataError, match="has no image files"):
        cnn.read_raw(str(tmp_path))
    (tmp_path / "x.png").write_text("text")
    with pytest.raises(DataError, match="x.png' cannot be read"):
        predictor.predict([str(tmp_path / "x.png")])
    with pytest.raises(DataError, match="the input is empty"):
        predictor.predict([])
