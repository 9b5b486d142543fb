import numpy as np
import pytest
import torch
from conftest import assemble, network
from torch import nn

from andiflow import settings
from andiflow.ensemble import Ensemble, finish
from andiflow.errors import InputFileError, ModelFileError
from andiflow.export import round_weights
from andiflow.members import TorchMember
from andiflow.model import AnDiLSTM, build, load_checkpoint
from andiflow.normalize import zscore
from andiflow.tasks import MODELS
from andiflow.tasks.diffusion_model import softmax

BATCH_VALUES = settings.default("batch_values")


@pytest.fixture(autouse=True)
def seeded_weights():
    """Random weights the same on every run: the runtimes' agreement is checked on fixed models."""
    torch.manual_seed(0)


def WindowLength():
    return lambda x: np.full(len(x), float(x.shape[1]))


def FirstValue(offset=0.0):
    return lambda x: x[:, 0] + offset


def alpha_networks(by_length: dict) -> dict:
    """The groups of an ensemble of 1D alpha networks only: {length: [members in fold order]}."""
    return {("alpha", 1): by_length}


def test_trained_length_used_as_is_others_take_nearest_smaller():
    ens = Ensemble(alpha_networks({10: [WindowLength()], 45: [WindowLength()], 50: [WindowLength()]}))
    series = [np.arange(n, dtype=float) for n in (10, 44, 45, 49, 50, 999)]
    np.testing.assert_array_equal(ens.raw_alpha([s[None] for s in series])["alpha"], [10, 10, 45, 45, 50, 50])


def test_whole_rule_reads_the_whole_series_with_the_nearest_smaller_length():
    ens = Ensemble(alpha_networks({10: [WindowLength()], 45: [WindowLength()]}), windows="whole")
    series = [np.arange(n, dtype=float) for n in (10, 44, 45, 999)]
    np.testing.assert_array_equal(ens.raw_alpha([s[None] for s in series])["alpha"], [10, 44, 45, 999])


def test_networks_of_a_dimension_read_its_trajectories_all_axes_at_once(rng):
    per_axis, all_axes = (lambda x: np.full(len(x), 1.0)), (lambda x: np.full(len(x), 10.0 * x.shape[1]))
    ens = Ensemble({("alpha", 1): {10: [per_axis], 20: [per_axis]}, ("alpha", 3): {10: [all_axes], 20: [all_axes]}})
    trajectories = [rng.normal(size=(d, 25)) for d in (1, 2, 3, 3)]
    raw = ens.raw_alpha(trajectories)
    np.testing.assert_array_equal(raw["alpha"], [1, 1, 30, 30])  # 2D: axis by axis, as HNU; 3D: [n, 3, L] windows
    np.testing.assert_array_equal(raw["spread"], 0)
    with pytest.raises(ModelFileError, match="the 3D alpha networks' lengths \\[10\\] differ"):
        Ensemble({("alpha", 1): {10: [per_axis], 20: [per_axis]}, ("alpha", 3): {10: [all_axes]}})


def test_head_and_tail_windows_of_the_whole_normalised_series(rng):
    ens = Ensemble(alpha_networks({45: [FirstValue()]}))
    s = rng.normal(size=49)
    z = zscore(s)
    # head starts at x_1, tail at x_{T-Tn+1}; both from the series normalised as a whole
    assert ens.raw_alpha([s[None]])["alpha"][0] == pytest.approx((z[0] + z[4]) / 2, abs=1e-6)


def test_mean_over_folds_and_axes(rng):
    ens = Ensemble(alpha_networks({10: [FirstValue(0.0), FirstValue(1.0), FirstValue(2.0)]}))
    t = rng.normal(size=(3, 10))
    expected = np.mean([zscore(axis)[0] + 1.0 for axis in t])
    raw = ens.raw_alpha([t])
    assert raw["alpha"][0] == pytest.approx(expected, abs=1e-6)
    members = [zscore(axis)[0] + offset for axis in t for offset in (0.0, 1.0, 2.0)]
    assert raw["spread"][0] == pytest.approx(np.std(members), abs=1e-6)


def test_spread_is_over_folds_windows_and_axes(rng):
    """Members of a 2D trajectory of 15 points with a model of length 10: 2 axes x 2 windows x 2 folds."""
    ens = Ensemble(alpha_networks({10: [FirstValue(0.0), FirstValue(0.5)]}))
    t = rng.normal(size=(2, 15))
    members = [zscore(axis)[start] + offset for axis in t for start in (0, 5) for offset in (0.0, 0.5)]
    raw = ens.raw_alpha([t, t[:1, :10]])
    assert raw["alpha"][0] == pytest.approx(np.mean(members), abs=1e-6)
    assert raw["spread"][0] == pytest.approx(np.std(members), abs=1e-6)
    assert raw["spread"][1] == pytest.approx(0.25, abs=1e-6)  # one window, two folds 0.5 apart


def test_batches_do_not_change_results(rng):
    model = AnDiLSTM(hidden_size=8).eval()
    trajectories = [rng.normal(size=(1, n)) for n in rng.integers(10, 40, size=50)]
    small_batches = TorchMember(model, "cpu", batch_values=30)
    small = Ensemble(alpha_networks({10: [small_batches], 20: [small_batches]})).raw_alpha(trajectories)["alpha"]
    big = Ensemble(
        alpha_networks({10: [TorchMember(model, "cpu", BATCH_VALUES)], 20: [TorchMember(model, "cpu", BATCH_VALUES)]})
    ).raw_alpha(trajectories)["alpha"]
    np.testing.assert_allclose(small, big, atol=1e-6)


def test_finish_scales_then_clips():
    np.testing.assert_allclose(finish(np.array([0.01, 1.0, 1.99]), 1.011, (0.05, 2.0)), [0.05, 1.011, 2.0])


def test_predict_gives_the_finished_alpha_scaled_and_clipped(rng):
    ens = Ensemble(
        alpha_networks({10: [FirstValue(0.0), FirstValue(1.0)]}), manifest={"scale": 1.3, "clip": [0.2, 1.5]}
    )
    trajectories = [rng.normal(size=(d, n)) for d, n in zip(rng.integers(1, 4, 40), rng.integers(10, 30, 40))]
    raw = ens.raw_alpha(trajectories)["alpha"]
    alpha = ens.predict(trajectories)
    np.testing.assert_array_equal(alpha, finish(raw, 1.3, (0.2, 1.5)))
    assert alpha.min() == 0.2 and alpha.max() == 1.5  # both ends clipped here ...
    assert ((alpha > 0.2) & (alpha < 1.5)).any()  # ... and some only scaled
    np.testing.assert_array_equal(ens.predict(trajectories, scale=0.7), finish(raw, 0.7, (0.2, 1.5)))
    np.testing.assert_array_equal(ens.estimate(trajectories)["alpha"], alpha)
    with pytest.raises(ModelFileError, match="has no calibrated scale"):
        Ensemble(alpha_networks({10: [FirstValue()]}), manifest={"clip": [0.2, 1.5]}).predict(trajectories)
    with pytest.raises(ModelFileError, match="names no clip"):
        Ensemble(alpha_networks({10: [FirstValue()]}), manifest={"scale": 1.0}).predict(trajectories)


def test_subset_of_fold_0_equals_the_ensemble_of_fold_0_alone(rng):
    def members(*offsets):  # the first value of the first axis, plus the offset
        return [lambda x, offset=offset: x.reshape(len(x), -1)[:, 0] + offset for offset in offsets]

    both = Ensemble(
        {
            ("alpha", 1): {10: members(0.0, 0.5), 20: members(0.1, 0.6)},
            ("alpha", 2): {10: members(0.2, 0.7), 20: members(0.3, 0.8)},
        },
        manifest={"scale": 1.0, "clip": [-5.0, 5.0]},
    )
    fold_0 = Ensemble(
        {("alpha", 1): {10: members(0.0), 20: members(0.1)}, ("alpha", 2): {10: members(0.2), 20: members(0.3)}},
        manifest={"scale": 1.0, "clip": [-5.0, 5.0]},
    )
    trajectories = [rng.normal(size=(d, n)) for d, n in zip(rng.integers(1, 4, 30), rng.integers(10, 40, 30))]
    subset = both.subset(folds=[0])
    assert [len(ms) for of in subset.groups.values() for ms in of.values()] == [1, 1, 1, 1]
    for key in ("alpha", "spread"):
        np.testing.assert_array_equal(subset.raw_alpha(trajectories)[key], fold_0.raw_alpha(trajectories)[key])
    np.testing.assert_array_equal(subset.predict(trajectories), fold_0.predict(trajectories))
    assert not np.allclose(both.raw_alpha(trajectories)["alpha"], fold_0.raw_alpha(trajectories)["alpha"])
    # by trained length and by windows rule too
    shorter = both.subset(lengths=[10])
    assert list(shorter.lengths) == [10] and [list(of) for of in shorter.groups.values()] == [[10], [10]]
    assert both.subset(windows="whole").rule == "whole" and both.rule == "head_tail"
    whole = Ensemble(both.groups, both.manifest, windows="whole")
    np.testing.assert_array_equal(
        both.subset(windows="whole").raw_alpha(trajectories)["alpha"], whole.raw_alpha(trajectories)["alpha"]
    )


def test_predict_proba_is_the_softmax_of_the_mean_log_probability_over_the_temperature(rng):
    def log_p(shift):  # unnormalised on purpose: each row of the probabilities must still sum to 1
        return lambda x: np.stack([x.reshape(len(x), -1)[:, 0] * k + shift for k in range(len(MODELS))], axis=1)

    alpha = {10: [FirstValue()], 20: [FirstValue()]}
    groups = {("alpha", 1): alpha, **{("diffusion_model", d): {10: [log_p(d)], 20: [log_p(-d)]} for d in (1, 2, 3)}}
    temperature = {"1": 1.0, "2": 2.0, "3": 0.5}
    ens = Ensemble(groups, manifest={"scale": 1.0, "clip": [0.05, 2.0], "temperature": temperature})
    trajectories = [rng.normal(size=(d, n)) for d, n in zip(rng.integers(1, 4, 40), rng.integers(10, 40, 40))]
    p = ens.predict_proba(trajectories)
    assert p.shape == (40, len(MODELS)) and (p > 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    mean = ens.mean_log_probabilities(trajectories)
    dims = [len(t) for t in trajectories]
    np.testing.assert_allclose(p, softmax(mean, [temperature[str(d)] for d in dims]))
    assert not np.allclose(p, softmax(mean, 1.0))
    est = ens.estimate(trajectories)
    assert est["model"].tolist() == [MODELS[k] for k in p.argmax(axis=1)]
    np.testing.assert_array_equal(np.stack([est[f"p_{m}"] for m in MODELS], axis=1), p)
    assert "model" not in ens.estimate(trajectories, classify=False) and ens.has("diffusion_model")
    without_3d = Ensemble({key: of for key, of in groups.items() if key != ("diffusion_model", 3)})
    with pytest.raises(ModelFileError, match="has no diffusion_model networks of 3D trajectories"):
        without_3d.predict_proba([np.zeros((3, 12))])


SETTINGS = {"kind": "lstm", "hidden_size": 4, "num_layers": 3, "dropout": 0.2}


def _ensemble(folder, members, **options):
    """An ensemble folder of 1D alpha networks of these (length, fold)."""
    for L, k in members:
        network(folder, "alpha", 1, L, k, SETTINGS)
    assemble(folder, **options)
    return folder


def test_manifest_names_the_members_and_a_stray_file_is_ignored(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0), (20, 0)])
    network(folder, "alpha", 1, 50, 0, SETTINGS)  # e.g. left by another config
    network(folder, "alpha", 1, 10, 1, SETTINGS)
    ens = Ensemble.load(folder)
    assert list(ens.lengths) == [10, 20] and list(ens.groups) == [("alpha", 1)]
    assert all(len(m) == 1 for m in ens.groups[("alpha", 1)].values())
    assert ens.manifest["scale"] == 1.0
    for entry in ens.manifest["members"]:
        assert "axes" not in entry and entry["dim"] == 1
        assert entry["file"] == f"alpha/1D/L{entry['length']}/fold{entry['fold']}.pt"
        assert entry["onnx"] == f"alpha/1D/L{entry['length']}/fold{entry['fold']}.onnx"


def test_a_changed_member_is_refused(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0)])
    network(folder, "alpha", 1, 10, 0, SETTINGS)  # other random weights, same name
    with pytest.raises(ModelFileError, match="alpha/1D/L10/fold0.pt: checksum differs"):
        Ensemble.load(folder, backend="torch")
    (folder / "alpha" / "1D" / "L10" / "fold0.onnx").write_bytes(b"changed")
    with pytest.raises(ModelFileError, match="alpha/1D/L10/fold0.onnx: checksum differs"):
        Ensemble.load(folder)


def test_a_folder_without_manifest_is_refused(tmp_path):
    network(tmp_path, "alpha", 1, 10, 0, SETTINGS)
    with pytest.raises(ModelFileError, match="no ensemble here"):
        Ensemble.load(tmp_path)


def test_checkpoints_carry_kind_and_settings(tmp_path):
    model, meta = load_checkpoint(network(tmp_path, "alpha", 1, 10, 0, SETTINGS))
    assert meta["model"] == SETTINGS and isinstance(model, AnDiLSTM) and meta["length"] == 10


def test_load_refuses_files_that_would_run_code(tmp_path):
    path = tmp_path / "alpha" / "1D" / "L10" / "fold0.pt"
    path.parent.mkdir(parents=True)
    torch.save({"length": 10, "fold": 0, "payload": nn.Identity()}, path)  # a pickled class
    with pytest.raises(ModelFileError, match="not a readable andiflow model"):
        load_checkpoint(path)


def test_every_length_needs_the_same_folds(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0), (10, 1), (20, 0)])
    with pytest.raises(ModelFileError, match="different folds"):
        Ensemble.load(folder)


def test_the_library_refuses_series_shorter_than_the_shortest_length():
    ens = Ensemble(alpha_networks({10: [WindowLength()], 20: [WindowLength()]}))
    with pytest.raises(InputFileError, match="series 1 has 9 points"):
        ens.windows([np.arange(12.0), np.arange(9.0)])
    with pytest.raises(InputFileError, match="here:2: trajectory of length 9 is shorter"):
        ens.raw_alpha([np.zeros((1, 12)), np.zeros((1, 9))], where=lambda i: f"here:{i + 1}")


def test_onnx_and_torch_members_agree_and_a_missing_export_is_named(tmp_path):
    folder = _ensemble(tmp_path, [(10, 0), (20, 0)])
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(2, n)), axis=1) for n in (10, 15, 20, 33)]
    by_onnx = Ensemble.load(folder).raw_alpha(trajectories)["alpha"]
    by_torch = Ensemble.load(folder, backend="torch").raw_alpha(trajectories)["alpha"]
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
    (folder / "alpha" / "1D" / "L20" / "fold0.onnx").unlink()
    with pytest.raises(ModelFileError, match="alpha/1D/L20/fold0.onnx: named by .* but missing"):
        Ensemble.load(folder)


def test_a_loaded_ensemble_predicts_with_its_manifests_scale_and_clip_and_its_subset_of_fold_0_is_fold_0s(tmp_path):
    for L in (10, 20):
        for k in (0, 1):
            state = build(SETTINGS).state_dict()
            network(tmp_path / "both", "alpha", 1, L, k, SETTINGS, state_dict=state)
            if k == 0:  # the same network in an ensemble of fold 0 alone
                network(tmp_path / "fold0", "alpha", 1, L, k, SETTINGS, state_dict=state)
    for name in ("both", "fold0"):
        assemble(tmp_path / name, scale=1.2, clip=(0.3, 0.9))
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(d, n)), axis=1) for n, d in ((12, 1), (33, 2))]
    both, fold_0 = Ensemble.load(tmp_path / "both"), Ensemble.load(tmp_path / "fold0")
    np.testing.assert_array_equal(
        both.predict(trajectories), finish(both.raw_alpha(trajectories)["alpha"], 1.2, (0.3, 0.9))
    )
    subset = both.subset(folds=[0])
    for key in ("alpha", "spread"):
        np.testing.assert_allclose(subset.raw_alpha(trajectories)[key], fold_0.raw_alpha(trajectories)[key])
    np.testing.assert_allclose(subset.predict(trajectories), fold_0.predict(trajectories))


CLASSIFIER = dict(kind="convlstm", output="classes", classes=list(MODELS), hidden_size=8, num_layers=1, dropout=0.0)
CLASSIFIER.update(features=4, block=4)


def test_diffusion_model_members_give_probabilities_in_both_runtimes(tmp_path):
    # alpha of two folds, the classifiers of one (tasks.diffusion_model.folds): each group is averaged over its own
    for L in (10, 20):
        for k in (0, 1):
            network(tmp_path, "alpha", 1, L, k, SETTINGS)
    for dim in (3, 1):
        settings = dict(CLASSIFIER, **({"axes": dim} if dim > 1 else {}))
        for L in (10, 20):
            network(tmp_path, "diffusion_model", dim, L, 0, settings)
    manifest = assemble(tmp_path, name="t")
    assert [(e["task"], e["dim"], e["length"]) for e in manifest["members"]] == [
        ("alpha", 1, 10),
        ("alpha", 1, 10),
        ("alpha", 1, 20),
        ("alpha", 1, 20),
        ("diffusion_model", 1, 10),
        ("diffusion_model", 1, 20),
        ("diffusion_model", 3, 10),
        ("diffusion_model", 3, 20),
    ]
    assert not any("axes" in e for e in manifest["members"])
    assert manifest["members"][4]["onnx"] == "diffusion_model/1D/L10/fold0.onnx"
    assert manifest["members"][4]["training"]["valid_error"] == 0.5
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(d, n)), axis=1) for n, d in ((10, 1), (33, 3))]
    by_onnx = Ensemble.load(tmp_path).predict_proba(trajectories)
    by_torch = Ensemble.load(tmp_path, backend="torch").predict_proba(trajectories)
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
    np.testing.assert_allclose(by_onnx.sum(axis=1), 1.0)
    # the softmax of the mean log-probability of its members: the 3D classifier of L20 reads the
    # head and tail windows, all three axes at once
    model = load_checkpoint(tmp_path / "diffusion_model" / "3D" / "L20" / "fold0.pt")[0]
    z = zscore(trajectories[1])
    windows = [z[:, :20], z[:, 13:]]
    with torch.inference_mode():
        log_p = model(torch.from_numpy(np.stack(windows).astype(np.float32)))
    expected = torch.softmax(log_p.mean(dim=0), dim=-1).numpy()
    np.testing.assert_allclose(by_onnx[1], expected, atol=1e-5)
    est = Ensemble.load(tmp_path).estimate(trajectories)
    assert list(est)[4:] == ["model", "p_attm", "p_ctrw", "p_fbm", "p_lw", "p_sbm"]
    assert est["model"][1] == MODELS[int(np.argmax(expected))]
    assert list(Ensemble.load(tmp_path).estimate(trajectories, classify=False)) == ["alpha", "std", "low", "high"]
    with pytest.raises(ModelFileError, match="has no diffusion_model networks of 2D trajectories"):
        Ensemble.load(tmp_path).predict_proba([np.cumsum(np.ones((2, 12)), axis=1)])


def test_alpha_networks_of_2d_are_assembled_apart_and_agree_in_both_runtimes_with_int8_weights(tmp_path):
    for L in (10, 20):
        network(tmp_path, "alpha", 1, L, 0, SETTINGS)
        network(tmp_path, "alpha", 2, L, 0, dict(SETTINGS, axes=2))
    manifest = assemble(tmp_path, name="t", onnx_weights="int8")
    assert {e["onnx_weights"] for e in manifest["members"]} == {"int8"}
    assert [(e["task"], e["dim"], e["onnx"]) for e in manifest["members"]][1:3] == [
        ("alpha", 1, "alpha/1D/L20/fold0.onnx"),
        ("alpha", 2, "alpha/2D/L10/fold0.onnx"),
    ]
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(d, n)), axis=1) for n, d in ((12, 1), (33, 2))]
    by_onnx, by_torch = (Ensemble.load(tmp_path, backend=b).raw_alpha(trajectories)["alpha"] for b in ("onnx", "torch"))
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
    model = round_weights(load_checkpoint(tmp_path / "alpha" / "2D" / "L20" / "fold0.pt")[0], "int8")
    z = zscore(trajectories[1])
    with torch.inference_mode():
        expected = model(torch.from_numpy(np.stack([z[:, :20], z[:, 13:]]).astype(np.float32))).mean().item()
    assert by_onnx[1] == pytest.approx(expected, abs=1e-5)


def test_an_alpha_only_ensemble_does_not_classify(tmp_path):
    ens = Ensemble.load(_ensemble(tmp_path, [(10, 0)]))
    assert not ens.has("diffusion_model")
    assert "model" not in ens.estimate([np.cumsum(np.ones((1, 12)), axis=1) + np.arange(12) ** 1.5])
    with pytest.raises(ModelFileError, match="has no networks of the diffusion_model task"):
        ens.predict_proba([np.zeros((1, 12))])


def test_distribution_members_are_read_by_the_median_the_ensemble_names_in_both_runtimes(tmp_path):
    settings = dict(kind="convlstm", output="distribution", grid=[0.05 * k for k in range(1, 41)], hidden_size=8)
    settings.update(num_layers=1, dropout=0.0, features=4, block=4)
    states = {L: build(settings).state_dict() for L in (10, 20)}
    trajectories = [np.cumsum(np.random.default_rng(n).normal(size=(1, n)), axis=1) for n in (12, 33, 40)]
    alpha = {}
    for median in ("grid", "interpolated"):
        for L, state in states.items():  # the same networks in both ensembles
            network(tmp_path / median, "alpha", 1, L, 0, settings, state_dict=state)
        manifest = assemble(tmp_path / median, name="t", median=median)
        assert {e["median"] for e in manifest["members"]} == {median}
        by_onnx, by_torch = (
            Ensemble.load(tmp_path / median, backend=b).raw_alpha(trajectories)["alpha"] for b in ("onnx", "torch")
        )
        np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
        alpha[median] = by_onnx
    assert not np.allclose(alpha["grid"], alpha["interpolated"])
    assert np.abs(alpha["grid"] - alpha["interpolated"]).max() <= 0.025 + 1e-6  # within half a grid step
    # another readout chosen when loading, in PyTorch; an ONNX file holds its own
    read_otherwise = Ensemble.load(tmp_path / "grid", backend="torch", median="interpolated")
    np.testing.assert_allclose(read_otherwise.raw_alpha(trajectories)["alpha"], alpha["interpolated"], atol=1e-5)
    with pytest.raises(ModelFileError, match="readout is in its file"):
        Ensemble.load(tmp_path / "grid", median="interpolated")
    manifest_file = tmp_path / "grid" / "manifest.json"
    manifest_file.write_text(manifest_file.read_text().replace('"median": "grid"', '"median": "mean"'))
    with pytest.raises(ModelFileError, match="names an unknown median 'mean'"):
        Ensemble.load(tmp_path / "grid", backend="torch")


def test_a_subset_leaves_out_a_group_without_members_of_those_folds():
    groups = alpha_networks({10: [FirstValue(0.0), FirstValue(1.0)]})
    groups[("diffusion_model", 1)] = {10: [lambda x: np.zeros((len(x), 5))]}  # fold 0 only
    ens = Ensemble(groups, manifest={"scale": 1.0, "clip": [0.05, 2.0]})
    second = ens.subset(folds=[1])
    assert not second.has("diffusion_model") and ens.subset(folds=[0]).has("diffusion_model")
    assert second.raw_alpha([np.arange(10.0)[None]])["alpha"][0] == pytest.approx(1 + zscore(np.arange(10.0))[0])
    with pytest.raises(ModelFileError, match="no 1D alpha networks of folds"):
        ens.subset(folds=[5])
    with pytest.raises(ModelFileError, match="have no members"):
        Ensemble({("alpha", 1): {10: []}})


def test_the_windows_of_a_trajectory_are_cut_once_for_every_task(rng, monkeypatch):
    groups = alpha_networks({10: [FirstValue(0.0)]})
    groups[("alpha", 3)] = {10: [lambda x: x[:, 0, 0]]}
    for d in (1, 3):
        groups[("diffusion_model", d)] = {10: [lambda x: np.zeros((len(x), 5))]}
    ens = Ensemble(groups, manifest={"scale": 1.0, "clip": [0.05, 2.0]})
    cut = []
    monkeypatch.setattr(
        Ensemble, "windows", lambda self, series: cut.append(len(series)) or Ensemble_windows(self, series)
    )
    est = ens.estimate([rng.normal(size=(1, 12)), rng.normal(size=(3, 15))])
    assert sorted(cut) == [1, 1] and "p_fbm" in est  # the 1D and the 3D trajectory, each once for both tasks


Ensemble_windows = Ensemble.windows


def test_the_networks_of_a_results_folder_by_length_in_fold_order(tmp_path):
    from andiflow.manifest import networks_of

    for L, k in ((20, 1), (10, 0), (20, 0)):
        network(tmp_path, "alpha", 1, L, k, SETTINGS)
    (tmp_path / "alpha/1D/L20/fold0.resume.pt").write_bytes(b"a training snapshot, not a network")
    networks = networks_of(tmp_path, "alpha", 1)
    assert list(networks) == [10, 20] and [len(v) for v in networks.values()] == [1, 2]
    assert networks_of(tmp_path, "diffusion_model", 2) == {}


def test_worker_processes_give_the_same_outputs_as_one_process_bit_for_bit(tmp_path, monkeypatch):
    from andiflow import workers

    for L in (10, 20):
        for k in (0, 1):
            network(tmp_path, "alpha", 1, L, k, SETTINGS)
        network(tmp_path, "diffusion_model", 1, L, 0, CLASSIFIER)
        network(tmp_path, "diffusion_model", 2, L, 0, dict(CLASSIFIER, axes=2))
    assemble(tmp_path, name="t")
    rng = np.random.default_rng(5)
    trajectories = [np.cumsum(rng.normal(size=(d, n)), axis=1) for n in range(10, 60) for d in (1, 2)]
    one = Ensemble.load(tmp_path, threads=1, batch_values=400).estimate(trajectories)
    monkeypatch.setattr(workers, "MIN_VALUES", 0)  # workers even for this little
    spread = Ensemble.load(tmp_path, threads=3, batch_values=400)
    assert spread.workers.n == 3
    three = spread.estimate(trajectories)
    assert spread.workers.pool is not None  # the workers ran
    for key in ("alpha", "std", "p_fbm", "model"):
        np.testing.assert_array_equal(one[key], three[key])


def test_the_workers_have_stopped_when_their_ensemble_is_gone(tmp_path, monkeypatch):
    import gc

    from andiflow import workers

    network(tmp_path, "alpha", 1, 10, 0, SETTINGS)
    assemble(tmp_path, name="t")
    monkeypatch.setattr(workers, "MIN_VALUES", 0)
    ensemble = Ensemble.load(tmp_path, threads=2)
    ensemble.estimate([np.cumsum(np.ones((1, 30)), axis=1)])
    manager = ensemble.workers.pool._executor_manager_thread
    del ensemble
    gc.collect()
    assert not manager.is_alive()  # its pipe closed before the interpreter's exit hook can write to it
