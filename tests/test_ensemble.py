import numpy as np
import pytest
import torch
from torch import nn

from andiflow.ensemble import Ensemble, assemble, finish
from andiflow.errors import InputFileError, ModelFileError
from andiflow.model import AnDiLSTM, TorchMember, build, load_checkpoint, round_weights, save_checkpoint
from andiflow.normalize import zscore
from andiflow.tasks import MODELS


@pytest.fixture(autouse=True)
def seeded_weights():
    """Random weights the same on every run: the runtimes' agreement is checked on fixed models."""
    torch.manual_seed(0)


def WindowLength():
    return lambda x: np.full(len(x), float(x.shape[1]))


def FirstValue(offset=0.0):
    return lambda x: x[:, 0] + offset


def test_trained_length_used_as_is_others_take_nearest_smaller():
    ens = Ensemble({10: [WindowLength()], 45: [WindowLength()], 50: [WindowLength()]})
    series = [np.arange(n, dtype=float) for n in (10, 44, 45, 49, 50, 999)]
    np.testing.assert_array_equal(ens.predict([s[None] for s in series])[0], [10, 10, 45, 45, 50, 50])


def test_whole_rule_reads_the_whole_series_with_the_nearest_smaller_length():
    ens = Ensemble({10: [WindowLength()], 45: [WindowLength()]}, windows="whole")
    series = [np.arange(n, dtype=float) for n in (10, 44, 45, 999)]
    np.testing.assert_array_equal(ens.predict([s[None] for s in series])[0], [10, 44, 45, 999])


def test_networks_of_a_dimension_read_its_trajectories_all_axes_at_once(rng):
    per_axis, all_axes = (lambda x: np.full(len(x), 1.0)), (lambda x: np.full(len(x), 10.0 * x.shape[1]))
    ens = Ensemble({10: [per_axis], 20: [per_axis]}, alpha_of_dims={3: {10: [all_axes], 20: [all_axes]}})
    trajectories = [rng.normal(size=(d, 25)) for d in (1, 2, 3, 3)]
    alpha, spread = ens.predict(trajectories)
    np.testing.assert_array_equal(alpha, [1, 1, 30, 30])  # 2D: axis by axis, as HNU; 3D: [n, 3, L] windows
    np.testing.assert_array_equal(spread, 0)
    with pytest.raises(ModelFileError, match="the 3D alpha networks' lengths \\[10\\] differ"):
        Ensemble({10: [per_axis], 20: [per_axis]}, alpha_of_dims={3: {10: [all_axes]}})


def test_head_and_tail_windows_of_the_whole_normalised_series(rng):
    ens = Ensemble({45: [FirstValue()]})
    s = rng.normal(size=49)
    z = zscore(s)
    # head starts at x_1, tail at x_{T-Tn+1}; both from the series normalised as a whole
    assert ens.predict([s[None]])[0][0] == pytest.approx((z[0] + z[4]) / 2, abs=1e-6)


def test_mean_over_folds_and_axes(rng):
    ens = Ensemble({10: [FirstValue(0.0), FirstValue(1.0), FirstValue(2.0)]})
    t = rng.normal(size=(3, 10))
    expected = np.mean([zscore(axis)[0] + 1.0 for axis in t])
    alpha, spread = ens.predict([t])
    assert alpha[0] == pytest.approx(expected, abs=1e-6)
    members = [zscore(axis)[0] + offset for axis in t for offset in (0.0, 1.0, 2.0)]
    assert spread[0] == pytest.approx(np.std(members), abs=1e-6)


def test_spread_is_over_folds_windows_and_axes(rng):
    """Members of a 2D trajectory of 15 points with a model of length 10: 2 axes x 2 windows x 2 folds."""
    ens = Ensemble({10: [FirstValue(0.0), FirstValue(0.5)]})
    t = rng.normal(size=(2, 15))
    members = [zscore(axis)[start] + offset for axis in t for start in (0, 5) for offset in (0.0, 0.5)]
    alpha, spread = ens.predict([t, t[:1, :10]])
    assert alpha[0] == pytest.approx(np.mean(members), abs=1e-6)
    assert spread[0] == pytest.approx(np.std(members), abs=1e-6)
    assert spread[1] == pytest.approx(0.25, abs=1e-6)  # one window, two folds 0.5 apart


def test_batches_do_not_change_results(rng):
    model = AnDiLSTM(hidden_size=8).eval()
    trajectories = [rng.normal(size=(1, n)) for n in rng.integers(10, 40, size=50)]
    small_batches = TorchMember(model, batch_values=30)
    small = Ensemble({10: [small_batches], 20: [small_batches]}).predict(trajectories)[0]
    big = Ensemble({10: [TorchMember(model)], 20: [TorchMember(model)]}).predict(trajectories)[0]
    np.testing.assert_allclose(small, big, atol=1e-6)


def test_finish_scales_then_clips():
    np.testing.assert_allclose(finish(np.array([0.01, 1.0, 1.99]), 1.011, (0.05, 2.0)), [0.05, 1.011, 2.0])


SETTINGS = {"kind": "lstm", "hidden_size": 4, "num_layers": 3, "dropout": 0.2}


def _save(path, length, fold):
    meta = dict(length=length, fold=fold, epoch=0, valid_mae=0.5, n_train=1, warm_start=None)
    save_checkpoint(path, SETTINGS, build(SETTINGS).state_dict(), **meta)
    return path


def _ensemble(folder, members):
    files = [_save(folder / "trained" / f"L{L}" / f"fold{k}.pt", L, k) for L, k in members]
    assemble(files, folder / "ens", name="test", settings={}, command="none", scale=1.0)
    return folder / "ens"


def test_manifest_names_the_members_and_a_stray_file_is_ignored(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0), (20, 0)])
    _save(folder / "L50" / "fold0.pt", 50, 0)  # e.g. left by another config
    _save(folder / "L10" / "fold1.pt", 10, 1)
    ens = Ensemble.load(folder)
    assert list(ens.lengths) == [10, 20] and all(len(m) == 1 for m in ens.members_of.values())
    assert ens.manifest["scale"] == 1.0


def test_a_changed_member_is_refused(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0)])
    _save(folder / "L10" / "fold0.pt", 10, 0)  # other random weights, same name
    with pytest.raises(ModelFileError, match="L10/fold0.pt: checksum differs"):
        Ensemble.load(folder, backend="torch")
    (folder / "L10" / "fold0.onnx").write_bytes(b"changed")
    with pytest.raises(ModelFileError, match="L10/fold0.onnx: checksum differs"):
        Ensemble.load(folder)


def test_a_folder_without_manifest_is_refused(tmp_path):
    _save(tmp_path / "L10" / "fold0.pt", 10, 0)
    with pytest.raises(ModelFileError, match="no ensemble here"):
        Ensemble.load(tmp_path)


def test_checkpoints_carry_kind_and_settings(tmp_path):
    model, meta = load_checkpoint(_save(tmp_path / "m.pt", 10, 0))
    assert meta["model"] == SETTINGS and isinstance(model, AnDiLSTM) and meta["length"] == 10


def test_load_refuses_files_that_would_run_code(tmp_path):
    path = tmp_path / "L10" / "fold0.pt"
    path.parent.mkdir()
    torch.save({"length": 10, "fold": 0, "payload": nn.Identity()}, path)  # a pickled class
    with pytest.raises(ModelFileError, match="not a readable andiflow model"):
        load_checkpoint(path)


def test_every_length_needs_the_same_folds(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0), (10, 1), (20, 0)])
    with pytest.raises(ModelFileError, match="different folds"):
        Ensemble.load(folder)


def test_the_library_refuses_series_shorter_than_the_shortest_length():
    ens = Ensemble({10: [WindowLength()], 20: [WindowLength()]})
    with pytest.raises(InputFileError, match="series 1 has 9 points"):
        ens.windows([np.arange(12.0), np.arange(9.0)])
    with pytest.raises(InputFileError, match="here:2: trajectory of length 9 is shorter"):
        ens.predict([np.zeros((1, 12)), np.zeros((1, 9))], where=lambda i: f"here:{i + 1}")


def test_onnx_and_torch_members_agree_and_a_missing_export_is_named(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0), (20, 0)])
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(2, n)), axis=1) for n in (10, 15, 20, 33)]
    by_onnx = Ensemble.load(folder).predict(trajectories)[0]
    by_torch = Ensemble.load(folder, backend="torch").predict(trajectories)[0]
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
    (folder / "L20" / "fold0.onnx").unlink()
    with pytest.raises(ModelFileError, match="L20/fold0.onnx: named by .* but missing"):
        Ensemble.load(folder)


CLASSIFIER = dict(kind="convlstm", output="classes", classes=list(MODELS), hidden_size=8, num_layers=1, dropout=0.0)
CLASSIFIER.update(features=4, block=4)


def test_model_task_members_give_probabilities_in_both_runtimes(tmp_path):
    # alpha of two folds, the classifiers of one (model_folds): each group is averaged over its own
    alpha = [_save(tmp_path / "trained" / f"L{L}" / f"fold{k}.pt", L, k) for L in (10, 20) for k in (0, 1)]
    classifiers = []
    for dim in (3, 1):
        settings = dict(CLASSIFIER, **({"axes": dim} if dim > 1 else {}))
        for L in (10, 20):
            meta = dict(length=L, fold=0, epoch=0, valid_error=0.5, n_train=1, warm_start=None, task="model")
            path = tmp_path / "trained" / "model" / f"{dim}D" / f"L{L}" / "fold0.pt"
            save_checkpoint(path, settings, build(settings).state_dict(), **meta)
            classifiers.append(path)
    manifest = assemble(alpha + classifiers, tmp_path / "ens", name="t", settings={}, command="none", scale=1.0)
    assert [(e["task"], e.get("axes"), e["length"]) for e in manifest["members"]] == [
        ("alpha", None, 10),
        ("alpha", None, 10),
        ("alpha", None, 20),
        ("alpha", None, 20),
        ("model", 1, 10),
        ("model", 1, 20),
        ("model", 3, 10),
        ("model", 3, 20),
    ]
    assert manifest["members"][4]["onnx"] == "model/1D/L10/fold0.onnx"
    assert manifest["members"][4]["training"]["valid_error"] == 0.5
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(d, n)), axis=1) for n, d in ((10, 1), (33, 3))]
    by_onnx = Ensemble.load(tmp_path / "ens").classify(trajectories)
    by_torch = Ensemble.load(tmp_path / "ens", backend="torch").classify(trajectories)
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
    np.testing.assert_allclose(by_onnx.sum(axis=1), 1.0)
    # the softmax of the mean log-probability of its members: the 3D classifier of L20 reads the
    # head and tail windows, all three axes at once
    model = load_checkpoint(tmp_path / "ens" / "model" / "3D" / "L20" / "fold0.pt")[0]
    z = zscore(trajectories[1])
    windows = [z[:, :20], z[:, 13:]]
    with torch.inference_mode():
        log_p = model(torch.from_numpy(np.stack(windows).astype(np.float32)))
    expected = torch.softmax(log_p.mean(dim=0), dim=-1).numpy()
    np.testing.assert_allclose(by_onnx[1], expected, atol=1e-5)
    est = Ensemble.load(tmp_path / "ens").estimate(trajectories)
    assert list(est)[4:] == ["model", "p_attm", "p_ctrw", "p_fbm", "p_lw", "p_sbm"]
    assert est["model"][1] == MODELS[int(np.argmax(expected))]


def test_alpha_networks_of_2d_are_assembled_apart_and_agree_in_both_runtimes_with_int8_weights(tmp_path):
    alpha = [_save(tmp_path / "trained" / f"L{L}" / "fold0.pt", L, 0) for L in (10, 20)]
    settings = dict(SETTINGS, axes=2)
    for L in (10, 20):
        meta = dict(length=L, fold=0, epoch=0, valid_mae=0.5, n_train=1, warm_start=None, task="alpha")
        path = tmp_path / "trained" / "2D" / f"L{L}" / "fold0.pt"
        save_checkpoint(path, settings, build(settings).state_dict(), **meta)
        alpha.append(path)
    manifest = assemble(alpha, tmp_path / "ens", name="t", settings={}, command="none", scale=1.0, onnx_weights="int8")
    assert {e["onnx_weights"] for e in manifest["members"]} == {"int8"}
    assert [(e["task"], e.get("axes"), e["onnx"]) for e in manifest["members"]][1:3] == [
        ("alpha", None, "L20/fold0.onnx"),
        ("alpha", 2, "2D/L10/fold0.onnx"),
    ]
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(d, n)), axis=1) for n, d in ((12, 1), (33, 2))]
    by_onnx, by_torch = (Ensemble.load(tmp_path / "ens", backend=b).predict(trajectories)[0] for b in ("onnx", "torch"))
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
    model = round_weights(load_checkpoint(tmp_path / "ens" / "2D" / "L20" / "fold0.pt")[0], "int8")
    z = zscore(trajectories[1])
    with torch.inference_mode():
        expected = model(torch.from_numpy(np.stack([z[:, :20], z[:, 13:]]).astype(np.float32))).mean().item()
    assert by_onnx[1] == pytest.approx(expected, abs=1e-5)


def test_an_alpha_only_ensemble_does_not_classify(tmp_path):
    ens = Ensemble.load(_ensemble(tmp_path, [(10, 0)]))
    assert "model" not in ens.estimate([np.cumsum(np.ones((1, 12)), axis=1) + np.arange(12) ** 1.5])
    with pytest.raises(ModelFileError, match="has no members of the model task"):
        ens.classify([np.zeros((1, 12))])


def test_distribution_members_are_read_by_the_median_the_ensemble_names_in_both_runtimes(tmp_path):
    settings = dict(kind="convlstm", output="distribution", grid=[0.05 * k for k in range(1, 41)], hidden_size=8)
    settings.update(num_layers=1, dropout=0.0, features=4, block=4)
    files = []
    for L in (10, 20):
        meta = dict(length=L, fold=0, epoch=0, valid_mae=0.5, n_train=1, warm_start=None, task="alpha")
        files.append(tmp_path / "trained" / f"L{L}" / "fold0.pt")
        save_checkpoint(files[-1], settings, build(settings).state_dict(), **meta)
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(1, n)), axis=1) for n in (12, 33, 40)]
    alpha = {}
    for median in ("grid", "interpolated"):
        manifest = assemble(files, tmp_path / median, name="t", settings={}, command="none", scale=1.0, median=median)
        assert {e["median"] for e in manifest["members"]} == {median}
        by_onnx, by_torch = (
            Ensemble.load(tmp_path / median, backend=b).predict(trajectories)[0] for b in ("onnx", "torch")
        )
        np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
        alpha[median] = by_onnx
    assert not np.allclose(alpha["grid"], alpha["interpolated"])
    assert np.abs(alpha["grid"] - alpha["interpolated"]).max() <= 0.025 + 1e-6  # within half a grid step
    manifest_file = tmp_path / "grid" / "manifest.json"
    manifest_file.write_text(manifest_file.read_text().replace('"median": "grid"', '"median": "mean"'))
    with pytest.raises(ModelFileError, match="names an unknown median 'mean'"):
        Ensemble.load(tmp_path / "grid", backend="torch")
