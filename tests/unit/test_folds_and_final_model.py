"""K-fold cross-validation of a trial (no Ray), and the sweep's final model among its candidates."""
import os

import numpy as np
import pytest
import torch
from ray.tune import Checkpoint, Result

from pipelines.engine.final_model import candidates, choose, predictor_of
from pipelines.errors import DataError
from trainables import binary, regression
from trainables.ensemble import EnsemblePredictor
from trainables.folds import Folds, fold_datas
from trainables.metrics import Objective
from trainables.reporting import STATE_FILE, MemoryIO
from trainables.tabular_data import cross_validation_folds, merge_validation
from trainables.task import DataRequest

CONFIG = {"batch_size": 32, "epochs": 4, "lr": 0.01, "optimizer": "Adam", "n_layers": 1, "n_units_l0": 16,
          "activation": "ReLU", "dropout": 0.0, "weight_decay": 0.0, "seed": 0}


@pytest.fixture(scope="module")
def data():
    return binary.load_data(DataRequest(seed=0))


def test_folds_cut_train_and_val_stratified_each_with_its_own_scaler(data):
    folds = cross_validation_folds(data, 5, seed=0)
    rows = len(data.x_train) + len(data.x_val)
    assert len(folds) == 5 and sum(len(f.x_val) for f in folds) == rows
    assert all(len(f.x_train) + len(f.x_val) == rows for f in folds)
    for fold in folds:
        assert torch.allclose(fold.x_train.mean(0), torch.zeros(data.n_features), atol=1e-5)  # fitted on its train
        assert abs(fold.y_val.float().mean() - data.y_train.float().mean()) < 0.05              # stratified
        assert np.array_equal(fold.raw.x_test, data.raw.x_test)                                 # test held out


def test_more_folds_than_the_rarest_class_has_rows_is_a_data_error(data):
    with pytest.raises(DataError, match="--cv 400 asks for more folds"):
        cross_validation_folds(data, 400, seed=0)


def test_a_refit_trains_on_train_and_val_with_the_targets_scale_kept():
    table = regression.load_data(DataRequest(seed=0))
    merged = merge_validation(table)
    assert len(merged.x_train) == len(table.x_train) + len(table.x_val)
    assert (merged.y_mean, merged.y_std) == (table.y_mean, table.y_std)
    assert torch.equal(merged.y_test, table.y_test)


def test_a_cross_validated_trial_trains_its_folds_in_lockstep_and_reports_their_mean(data):
    folds = Folds(data, tuple(cross_validation_folds(data, 3, seed=0)))
    io = MemoryIO()
    binary.TASK.train(CONFIG, folds, io)
    assert [r["epoch"] for r in io.results] == [1, 2, 3, 4]
    assert all(r["val_loss_std"] >= 0 for r in io.results)
    assert len(io.state["best_models"]) == 3 and len(io.state["models"]) == 3
    # The mean is the mean of the three fold models' own validation scores.
    fold_losses = []
    for weights, fold in zip(io.state["best_models"], fold_datas(folds)):
        model = binary.build_model(CONFIG, fold)
        model.load_state_dict(weights)
        fold_losses.append(binary.evaluate(model, fold, "val")["val_loss"])
    assert io.results[-1]["best_val_loss"] == pytest.approx(np.mean(fold_losses), rel=1e-5)


def trial_result(tmp_path, data, name, config):
    """A trial trained in memory, as Tune hands its result to the driver: metrics and a checkpoint."""
    io = MemoryIO()
    binary.TASK.train(config, data, io)
    folder = tmp_path / name
    folder.mkdir()
    torch.save(io.state, os.path.join(folder, STATE_FILE))
    return Result(metrics={**io.results[-1], "config": config}, checkpoint=Checkpoint.from_directory(str(folder)),
                  error=None, path=str(folder))


@pytest.mark.parametrize("cv", [0, 3])
def test_the_final_model_is_chosen_on_validation_among_best_refit_and_ensemble(tmp_path, data, cv):
    trial_data = Folds(data, tuple(cross_validation_folds(data, cv, seed=0))) if cv else data
    results = sorted([trial_result(tmp_path, trial_data, f"t{i}", {**CONFIG, "seed": i, "lr": lr})
                      for i, lr in enumerate((0.01, 0.003, 0.03))], key=lambda r: r.metrics["best_val_loss"])
    found = candidates(binary.TASK, results, trial_data, ensemble=3, objective=Objective())
    assert [c.kind for c in found] == ["best", "refit", "ensemble"]
    best, refit, ensemble = found
    assert best.estimate == refit.estimate == pytest.approx(results[0].metrics["best_val_loss"])
    assert "val_loss" not in refit.metrics and "test_acc" in refit.metrics  # a refit trained on val
    assert len(ensemble.models) == 3 and all(len(models) == max(cv, 1) for models in ensemble.models)
    final = choose(found)
    assert final.kind == ("ensemble" if ensemble.estimate < best.estimate else "refit")

    # The ensemble serves as one model: its outputs are its members' averaged.
    predictor = predictor_of(binary.TASK, ensemble)
    assert isinstance(predictor, EnsemblePredictor) and len(predictor.members) == 3 * max(cv, 1)
    rows = predictor.example()
    assert np.allclose(predictor.outputs(rows), np.mean([m.outputs(rows) for m in predictor.members], axis=0))
    expected = np.asarray(data.classes)[predictor.outputs(rows).argmax(1)]
    assert list(predictor.predict(rows)["prediction"]) == list(expected)


def test_image_folds_are_stratified_and_normalised_on_their_own_training_images():
    from trainables import cnn
    from trainables.image_data import image_folds

    images = cnn.load_data(DataRequest(seed=0))
    folds = image_folds(images, 3, seed=0)
    rows = len(images.x_train) + len(images.x_val)
    assert sum(len(f.x_val) for f in folds) == rows and all(len(f.x_train) + len(f.x_val) == rows for f in folds)
    for fold in folds:
        assert abs(fold.x_train.mean().item()) < 1e-4 and abs(fold.x_train.std().item() - 1) < 1e-3
        shares = np.bincount(fold.y_val.numpy(), minlength=10) / len(fold.y_val)
        assert np.abs(shares - 0.1).max() < 0.02                                                  # stratified
        # the same test images, under the fold's own normalisation
        assert torch.allclose(fold.x_test * fold.std[0] + fold.mean[0], images.x_test * images.std[0] + images.mean[0],
                              atol=1e-5)
    with pytest.raises(DataError, match="--cv 1000 asks for more folds than train\\+val has images"):
        image_folds(images, 1000, seed=0)


def test_a_cnn_ensemble_serves_images_like_one_model(tmp_path):
    from trainables import cnn
    from trainables.image_data import image_folds

    images = cnn.load_data(DataRequest(seed=0))
    config = {"batch_size": 64, "epochs": 2, "lr": 3e-3, "optimizer": "Adam", "conv_blocks": 1,
              "conv_channels_b0": 8, "n_layers": 0, "dropout": 0.0, "seed": 0}
    folds = Folds(images, tuple(image_folds(images, 2, seed=0)))
    io = MemoryIO()
    cnn.TASK.train(config, folds, io)
    predictors = []
    for weights, fold in zip(io.state["best_models"], fold_datas(folds)):
        model = cnn.build_model(config, fold)
        model.load_state_dict(weights)
        predictors.append(cnn.make_predictor(model, fold, config))
    ensemble = EnsemblePredictor(predictors)
    example = ensemble.example()
    served = ensemble.predict(example)
    assert list(served.columns) == ["image", "prediction"] and len(served) == 1
    assert np.allclose(ensemble.outputs(example), np.mean([p.outputs(example) for p in predictors], axis=0))
    assert served["prediction"][0] in images.classes
