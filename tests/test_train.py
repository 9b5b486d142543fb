import numpy as np
import pytest
import torch

from andiflow import settings
from andiflow.model import build, load_checkpoint
from andiflow.normalize import zscore
from andiflow.seeds import derive_seed
from andiflow.simulate import simulate
from andiflow.tasks import MODELS
from andiflow.train import VALID_BATCH_VALUES, PlateauRule, fold_rows, save, train_fold, valid_batch_values

# HNU's published log (L=300, fold 0), losses to 5 digits where its 4-digit print ties:
# epoch 15 was a new best, epochs 21 and 22 were not.
HNU_LOSSES = [
    0.0624,
    0.0655,
    0.0553,
    0.0506,
    0.0482,
    0.0456,
    0.0462,
    0.0447,
    0.0443,
    0.0447,
    0.0437,
    0.0442,
    0.0435,
    0.0451,
    0.04331,
    0.04329,
    0.0436,
    0.0435,
    0.0426,
    0.0425,
    0.04230,
    0.04231,
    0.04232,
]


def test_lr_rule_reproduces_hnu_log():
    rule, lr, lrs = PlateauRule(patience=2, max_cuts=1), 1e-3, []
    for epoch, loss in enumerate(HNU_LOSSES):  # noqa: B007 (epoch is checked after the loop)
        lrs.append(lr)
        action = rule.step(loss)
        if action == "cut":
            lr /= 5
        if action == "stop":
            break
    assert epoch == 22  # stopped after the last epoch of the log
    assert lrs[:18] == [1e-3] * 18 and lrs[18:] == pytest.approx([2e-4] * 5)


def test_lr_rule_stops_at_second_cut():
    rule = PlateauRule(patience=2, max_cuts=1)
    actions = [rule.step(x) for x in [1.0, 1.0, 1.0, 1.0, 1.0]]
    assert actions == ["keep", "keep", "cut", "keep", "stop"]


def test_folds_partition_the_rows():
    valid = [fold_rows(103, 5, k, seed=42)[1] for k in range(5)]
    assert sorted(np.concatenate(valid).tolist()) == list(range(103))
    train, va = fold_rows(103, 5, 2, seed=42)
    assert len(train) + len(va) == 103 and not set(train) & set(va)
    assert len(va) in (20, 21)


def test_training_is_deterministic_and_logs_like_the_seed(recipe):
    t = simulate(400, 12, 1, seed=1, recipe=recipe)
    config = settings.resolve({"train": {"max_epochs": 2, "batch_size": 64}, "model": {"hidden_size": 8}})
    lines = []
    a, history = train_fold(zscore(t.positions[:, 0]), t.alpha, 0, config, log=lines.append)
    b, _ = train_fold(zscore(t.positions[:, 0]), t.alpha, 0, config, log=lambda s: None)
    assert [h["epoch"] for h in history] == [0, 1]
    assert lines[0].startswith("Epoch: 0 LR: 0.001000 Valid Loss: ") and " Valid MAE: " in lines[0]
    assert a["valid_mae"] == min(h["valid_mae"] for h in history)
    assert a["n_train"] == 320 and a["n_valid"] == 80 and a["length"] == 12
    for key in a["state_dict"]:
        torch.testing.assert_close(a["state_dict"][key], b["state_dict"][key], rtol=0, atol=0)


def test_cosine_schedule_runs_every_epoch_with_a_falling_rate(recipe):
    t = simulate(200, 12, 1, seed=2, recipe=recipe)
    config = settings.resolve(
        {
            "train": {"max_epochs": 3, "batch_size": 64, "schedule": "cosine"},
            "model": {"kind": "convlstm", "hidden_size": 8, "output": "distribution"},
        }
    )
    best, history = train_fold(zscore(t.positions[:, 0]), t.alpha, 0, config, log=lambda s: None)
    assert [round(h["lr"], 6) for h in history] == [0.001, 0.00075, 0.00025]
    assert best["valid_mae"] == min(h["valid_mae"] for h in history)


def test_diffusion_model_task_learns_the_diffusion_model_and_keeps_its_lowest_error(recipe, tmp_path):
    t = simulate(1000, 50, 1, seed=3, recipe=recipe)
    config = settings.resolve(
        {
            "train": {"max_epochs": 4, "batch_size": 32, "learning_rate": 0.005},
            "model": {"kind": "convlstm", "hidden_size": 16},
        }
    )
    lines = []
    best, history = train_fold(zscore(t.positions[:, 0]), t.model, 0, config, log=lines.append, task="diffusion_model")
    assert " Valid Error: " in lines[0] and all("valid_mae" not in h for h in history)
    assert best["valid_error"] == min(h["valid_error"] for h in history)
    assert best["task"] == "diffusion_model"
    # the error rate is that of the model's most probable class on the validation rows
    model = build(settings.model_settings(config, "diffusion_model"))
    model.load_state_dict(best["state_dict"])
    _, valid = fold_rows(1000, 5, 0, derive_seed(config["seed"], "folds", 50))
    with torch.inference_mode():
        log_p = model.eval()(torch.from_numpy(zscore(t.positions[valid, 0])))
    assert log_p.shape == (len(valid), len(MODELS))
    torch.testing.assert_close(log_p.exp().sum(-1), torch.ones(len(valid)))
    error = (log_p.argmax(-1).numpy() != t.model[valid]).mean()
    assert error == pytest.approx(best["valid_error"], abs=1e-6)
    majority = np.bincount(t.model[valid]).max() / len(valid)
    assert error < 1 - majority - 0.05  # better than always answering the most frequent model
    save(best, history, config, tmp_path / "m.pt", tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text().splitlines()[0] == "epoch,lr,samples,valid_loss,valid_error,seconds"


def test_a_2d_classifier_reads_both_axes_and_is_saved_as_such(recipe, tmp_path):
    t = simulate(200, 30, 2, seed=4, recipe=recipe)
    config = settings.resolve({"train": {"max_epochs": 1, "batch_size": 32}, "model": {"hidden_size": 8}})
    best, history = train_fold(zscore(t.positions), t.model, 0, config, log=lambda s: None, task="diffusion_model")
    save(best, history, config, tmp_path / "m.pt", tmp_path / "m.csv")
    model, meta = load_checkpoint(tmp_path / "m.pt")
    assert meta["model"]["axes"] == 2 and meta["length"] == 30 and meta["task"] == "diffusion_model"
    assert model(torch.from_numpy(zscore(t.positions[:3]))).shape == (3, len(MODELS))


def test_validation_on_the_cpu_runs_in_batches_of_a_fixed_size_whatever_the_inference_setting():
    for batch_values in (100, 10**6):
        config = settings.resolve({"batch_values": batch_values})
        assert valid_batch_values(config, 999, "cpu") == VALID_BATCH_VALUES
