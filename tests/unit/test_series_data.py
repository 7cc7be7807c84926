"""The rnn task's series: the generated sine, a user's CSV column, chronological windows, every error."""
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from pipelines.errors import DataError
from tests.unit.training import trained
from trainables import rnn
from trainables.series_data import MIN_LENGTH, SINE_LENGTH, SINE_NOISE_VARIANCE, noisy_sine
from trainables.task import DataRequest

CONFIG = {"batch_size": 64, "epochs": 2, "lr": 0.01, "optimizer": "Adam", "window": 12, "cell": "GRU",
          "n_layers": 1, "hidden_size": 8, "dropout": 0.0, "seed": 0}


def series_csv(tmp_path, values, name="level", extra=True):
    frame = pd.DataFrame({"day": np.arange(len(values)), name: values}) if extra else pd.DataFrame({name: values})
    path = tmp_path / "series.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_the_sine_is_fixed_and_its_noise_variance_documented():
    a, b = noisy_sine(), noisy_sine()
    assert np.array_equal(a, b) and len(a) == SINE_LENGTH
    residual = a - np.sin(0.1 * np.arange(SINE_LENGTH))
    assert abs(residual.var() - SINE_NOISE_VARIANCE) < 0.1 * SINE_NOISE_VARIANCE


def test_splits_are_chronological_and_scaled_on_train_only():
    data = rnn.load_data(DataRequest(seed=0))
    assert (data.n_train, data.n_val, len(data.values) - data.n_train - data.n_val) == (1400, 300, 300)
    train = data.values[:data.n_train]
    assert abs(train.mean().item()) < 1e-5 and abs(train.std(unbiased=False).item() - 1) < 1e-4
    raw = noisy_sine()
    assert np.allclose(data.unscale(data.values.numpy()), raw, atol=1e-5)


def test_windows_never_train_on_later_values_and_cover_each_split():
    data = rnn.load_data(DataRequest(seed=0))
    x, y = data.windows("train", 10)
    assert x.shape == (data.n_train - 10, 10, 1) and len(y) == data.n_train - 10
    # The last training window ends just before the last training target, inside train.
    assert torch.equal(x[-1, :, 0], data.values[data.n_train - 11:data.n_train - 1])
    assert torch.equal(y[-1], data.values[data.n_train - 1])
    xv, yv = data.windows("val", 10)
    assert len(yv) == data.n_val and torch.equal(yv, data.values[data.n_train:data.n_train + data.n_val])
    assert torch.equal(xv[0, :, 0], data.values[data.n_train - 10:data.n_train])  # past values only
    xt, yt = data.windows("test", 10)
    assert len(yt) == len(data.values) - data.n_train - data.n_val
    with pytest.raises(ValueError, match="must be shorter than the training part"):
        data.windows("train", data.n_train)


def test_a_users_series_in_file_order(tmp_path):
    values = np.cos(np.arange(200) * 0.2) * 50 + 1000
    data = rnn.load_data(DataRequest(data=series_csv(tmp_path, values), target="level"))
    assert data.name == "level" and data.n_train == 140 and data.source.endswith("series.csv")
    assert np.allclose(data.unscale(data.values.numpy()), values, atol=1e-2)


@pytest.mark.parametrize("make, target, fragment", [
    (lambda p: str(p / "none.csv"), "level", "does not exist"),
    (lambda p: series_csv(p, np.arange(200.0)), None, "needs --target"),
    (lambda p: series_csv(p, np.arange(200.0)), "price", "'price' is not a column"),
    (lambda p: series_csv(p, ["a"] * 200), "level", "must be numeric; got values like 'a'"),
    (lambda p: series_csv(p, [1.0, None] * 100), "level", "has 100 empty cells (first at row 1)"),
    (lambda p: series_csv(p, [1.0, np.inf] * 100), "level", "infinite values"),
    (lambda p: series_csv(p, np.arange(MIN_LENGTH - 1.0)), "level", f"at least {MIN_LENGTH} are needed"),
    (lambda p: series_csv(p, np.ones(200)), "level", "is constant"),
])
def test_series_errors(tmp_path, make, target, fragment):
    with pytest.raises(DataError) as caught:
        rnn.load_data(DataRequest(data=make(tmp_path), target=target))
    assert fragment in str(caught.value)


def test_no_named_datasets():
    with pytest.raises(DataError, match="rnn task has no --dataset"):
        rnn.load_data(DataRequest(dataset="airline"))


def test_cells_and_dropout_shape():
    for cell in rnn.CELLS:
        model = rnn.build_model({**CONFIG, "cell": cell, "n_layers": 2, "dropout": 0.2}, None)
        assert model(torch.randn(5, 12, 1)).shape == (5,)
    with pytest.raises(ValueError, match="must be one of RNN, LSTM, GRU"):
        rnn.build_model({**CONFIG, "cell": "Transformer"}, None)


def test_baseline_is_the_last_value():
    data = rnn.load_data(DataRequest(seed=0))
    baseline = {f"baseline_{k}": v for k, v in rnn.last_value(data)["last_value"].items()}
    raw = noisy_sine()
    start, end = data.n_train, data.n_train + data.n_val
    expected = np.mean((raw[start:end] - raw[start - 1:end - 1]) ** 2)
    assert baseline["baseline_val_rmse"] ** 2 == pytest.approx(expected, rel=1e-4)
    assert set(baseline) == {"baseline_val_loss", "baseline_val_rmse", "baseline_test_loss", "baseline_test_rmse"}
    # Two noise draws per difference: the naive baseline sits above twice the noise variance.
    assert baseline["baseline_test_rmse"] ** 2 > 2 * SINE_NOISE_VARIANCE


def test_predictor_round_trip_in_series_units(tmp_path):
    values = np.sin(np.arange(300) * 0.3) * 20 + 500
    path = series_csv(tmp_path, values)
    data = rnn.load_data(DataRequest(data=path, target="level"))
    model = trained(rnn.TASK, CONFIG, data)
    predictor = pickle.loads(pickle.dumps(rnn.make_predictor(model, data, CONFIG)))
    assert not predictor.model.training

    # The training CSV: only its target column is used, the next value is in the series' units.
    out = predictor.predict(rnn.read_raw(path))
    assert list(out.columns) == ["series", "prediction"] and out["series"].tolist() == ["level"]
    with torch.inference_mode():
        scaled = model.eval()(data.values[-12:].reshape(1, 12, 1)).item()
    assert out["prediction"].iloc[0] == pytest.approx(scaled * data.std + data.mean, rel=1e-5)
    assert 470 < out["prediction"].iloc[0] < 530

    # Several series of other names, one shorter (trailing empty cells): one prediction each.
    other = pd.DataFrame({"a": values[:40], "b": list(values[:30]) + [None] * 10})
    out = predictor.predict(other)
    assert out["series"].tolist() == ["a", "b"] and np.isfinite(out["prediction"]).all()
    assert predictor.predict(predictor.example())["prediction"].notna().all()

    # The served model's input shape, rows (series, value), gives the same predictions as the wide table.
    rows = pd.DataFrame({"series": ["a"] * 40 + ["b"] * 30, "value": list(values[:40]) + list(values[:30])})
    pd.testing.assert_frame_equal(predictor.predict(rows), out)
    assert rnn.series_rows(other).equals(rows)


def test_predictor_errors(tmp_path):
    data = rnn.load_data(DataRequest(seed=0))
    predictor = rnn.make_predictor(trained(rnn.TASK, {**CONFIG, "epochs": 1}, data), data, CONFIG)
    with pytest.raises(DataError, match="has 5 values; this model reads the last 12"):
        predictor.predict(pd.DataFrame({"x": np.arange(5.0)}))
    with pytest.raises(DataError, match="must be numeric"):
        predictor.predict(pd.DataFrame({"x": ["up"] * 20}))
    with pytest.raises(DataError, match="has 1 empty cells"):
        predictor.predict(pd.DataFrame({"x": [1.0] * 5 + [None] + [2.0] * 14}))
    with pytest.raises(DataError, match="does not exist"):
        rnn.read_raw(str(tmp_path / "nothing.csv"))
    (tmp_path / "dated.csv").write_text("day,level\n2026-01-01,1.5\n2026-01-02,2.5\n")
    with pytest.raises(DataError, match="series 'day' of .* must be numeric"):
        rnn.read_raw(str(tmp_path / "dated.csv"))
