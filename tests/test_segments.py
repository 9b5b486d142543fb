"""The segments task: per-frame networks, segmentation, the challenge's lines, units of K, the API."""

import json

import numpy as np
import pandas as pd
import pytest

from andiflow import segment
from andiflow.segment import Segment


def test_changepoints_are_peaks_above_the_threshold_apart_and_away_from_the_ends():
    p = np.zeros(60)
    p[[1, 20, 22, 40, 58]] = [0.9, 0.8, 0.6, 0.4, 0.9]
    assert segment.changepoints(p, 0.5, 3) == [20]  # 22 too close to 20; 1 and 58 at the ends; 40 too low
    assert segment.changepoints(p, 0.3, 3) == [20, 40]
    assert segment.changepoints(p, 0.3, 1) == [1, 20, 22, 40, 58]


def test_segments_read_the_median_of_their_frames():
    frames = np.zeros((30, 7))
    frames[:, 1], frames[:, 2], frames[:, 5] = 1.0, -1.0, 1.0  # alpha 1, log10 K -1, free
    frames[10:, 1], frames[10:, 6], frames[10:, 5] = 1.9, 1.0, 0.0  # then directed
    frames[10, 0] = 0.9
    frames[8:10, 1:3] = [1.9, 0.5]  # the frames before the change already read the next segment
    found = segment.segments_of(frames, 0.5, 3)
    assert [(s.first, s.last, s.state) for s in found] == [(0, 9, 2), (10, 29, 3)]
    assert (found[0].alpha, found[0].log10_k) == pytest.approx((1.0, -1.0))  # a mean would give 1.18, -0.7
    assert found[1].alpha == pytest.approx(1.9)
    frames[10:, 3], frames[10:, 6] = 2.0, 0.0  # the second segment immobile: its alpha is 0, its K its own
    assert (found := segment.segments_of(frames, 0.5, 3))[1].state == 0
    assert (found[1].alpha, found[1].log10_k) == (0.0, pytest.approx(-1.0))


def test_a_files_mix_of_states_moves_the_states_its_segments_lean_to():
    training = np.array([0.05, 0.05, 0.85, 0.05])
    leaning = np.tile([0.3, 0.05, 0.6, 0.05], (200, 1))  # each segment more likely free than immobile
    sure = np.tile([0.01, 0.01, 0.97, 0.01], (100, 1))
    mix = segment.file_mix(np.r_[leaning, sure], training)
    assert mix.sum() == pytest.approx(1.0) and mix[0] > 3 * training[0]  # a file of many stops
    assert ((leaning * mix / training).argmax(1) == 0).all() and ((sure * mix / training).argmax(1) == 2).all()
    # a file of one such segment moves the mix little: it stays free, as under the training mix
    one = segment.file_mix(leaning[:1], training)
    assert np.abs(one - training).max() < 0.01 and (leaning[0] * one / training).argmax() == 2
    # a file as the training recipe's keeps its mix
    assert segment.file_mix(np.tile(training, (50, 1)), training) == pytest.approx(training)


def test_segments_states_weighed_by_a_mix():
    frames = np.zeros((30, 7))
    frames[:, 1], frames[:, 3:] = 0.8, [0.3, 0.05, 0.6, 0.05]
    assert [s.state for s in segment.segments_of(frames, 0.5, 3)] == [2]
    found = segment.segments_of(frames, 0.5, 3, weights=np.array([3.0, 1.0, 0.9, 1.0]))
    assert [(s.state, s.alpha) for s in found] == [(0, 0.0)]  # immobile: alpha 0 as the challenge labels it


def test_challenge_lines_round_trip(tmp_path):
    parts = [Segment(0, 9, 0.5, -1.0, 2), Segment(10, 29, 1.25, 0.0, 1)]
    line = segment.challenge_line(7, parts, 30)
    assert line == "7,0.1,0.5,2,10,1,1.25,1,30"
    (tmp_path / "f.txt").write_text(line + "\n")
    assert segment.read_challenge_lines(tmp_path / "f.txt") == {7: ([10], [0.5, 1.25], [0.1, 1.0], [2, 1], 30)}


def test_tuning_picks_the_peaks_the_challenges_jaccard_index_prefers():
    from andiflow.segments_score import tune

    p = np.zeros((2, 80, 7))
    p[0, 40, 0], p[0, 60, 0] = 0.9, 0.2  # a true changepoint at 40, a weaker false peak at 60
    p[1, 20, 0] = 0.3  # a weak true one at 20
    tuned = tune(list(p), [[40], [20]])
    assert tuned["threshold"] in (0.25, 0.3)  # above the false peak, not above the weak true one
    assert tuned["jaccard"] == 1.0 and tuned["cp_rmse"] == 0.0


def test_intervals_widen_for_short_segments():
    rng = np.random.default_rng(0)
    points = np.r_[np.full(500, 15), np.full(500, 150)]
    errors = np.abs(rng.normal(0, np.where(points < 20, 0.4, 0.1)))
    table = segment.Intervals.calibrate(points, errors, errors, 0.9)
    assert table.half_width("alpha", 15) > 2 * table.half_width("alpha", 150)


def test_networks_read_any_length_and_k_follows_the_unit():
    torch = pytest.importorskip("torch")
    from andiflow.model import build
    from andiflow.settings import model_settings, resolve

    for kind in ("dilated", "unet", "bilstm"):
        config = resolve({"tasks": {"segments": {}}, "segments": {"model": {"kind": kind}}})
        model = build(model_settings(config, "segments", 2)).eval()
        x = torch.randn(3, 2, 47).cumsum(-1)
        out = model(x)
        assert out.shape == (3, 47, 7)
        assert torch.allclose(out[..., 3:].sum(-1), torch.ones(3, 47), atol=1e-5)
        scaled = model(1000 * x)  # the same track in nm instead of µm: K times 10^6
        assert torch.allclose(scaled[..., 2], out[..., 2] + 6, atol=1e-4)
        assert torch.allclose(scaled[..., 1], out[..., 1], atol=1e-4)


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """A segments ensemble of one untrained network, as the workflow's step makes one."""
    pytest.importorskip("torch")
    from andiflow.export import export_onnx
    from andiflow.manifest import sha256
    from andiflow.model import build
    from andiflow.segmenter import SegmentsEnsemble
    from andiflow.settings import model_settings, resolve

    folder = tmp_path_factory.mktemp("segments")
    config = resolve({"tasks": {"segments": {}}, "segments": {"model": {"kind": "dilated", "dilated": {"blocks": 2}}}})
    export_onnx(build(model_settings(config, "segments", 2)), 50, folder / "fold0.onnx")
    intervals = segment.Intervals.calibrate(np.arange(100), np.full(100, 0.2), np.full(100, 0.3), 0.9).table
    member = {"onnx": "fold0.onnx", "onnx_sha256": sha256(folder / "fold0.onnx"), "fold": 0}
    manifest = {
        "task": "segments", "name": "test", "min_length": 20, "segmentation": {"threshold": 0.5, "gap": 3},
        "intervals": intervals, "members": [member],
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return SegmentsEnsemble.load(folder)


def _table(n_frames=(40, 12), unit="px", start=5):
    rng = np.random.default_rng(1)
    rows = []
    for particle, n in enumerate(n_frames):
        xy = rng.normal(size=(n, 2)).cumsum(0)
        rows += [
            {"particle": particle, "frame": start + f, f"x [{unit}]": x, f"y [{unit}]": y}
            for f, (x, y) in enumerate(xy)
        ]
    return pd.DataFrame(rows)


def test_predict_gives_one_row_per_segment_and_names_short_tracks(ensemble):
    import andiflow

    table = andiflow.predict(_table((40, 12, 1)), models=ensemble, warn=lambda m: None)
    assert list(table.columns) == list(__import__("andiflow.segmenter").segmenter.COLUMNS)
    first = table[table["particle"] == 0]
    assert first["first_frame"].iloc[0] == 5 and first["last_frame"].iloc[-1] == 44 and first["points"].sum() == 40
    assert (first["K_unit"] == "px²/frame^alpha").all() and first["K"].gt(0).all()
    assert (first["alpha_low"] <= first["alpha"]).all() and (first["alpha"] <= first["alpha_high"]).all()
    # short whatever else is wrong with it: a one-point track never moves, being too short
    assert table.loc[table["particle"] == 1, "note"].iloc[0] == "too short: fewer than 20 points"
    assert table.loc[table["particle"] == 2, "note"].iloc[0] == "too short: fewer than 20 points"


def test_k_in_physical_units_when_the_file_says_or_flags_do(ensemble):
    import andiflow

    in_px = andiflow.predict(_table(), models=ensemble, warn=lambda m: None)
    in_nm = andiflow.predict(_table(unit="nm"), models=ensemble, warn=lambda m: None, frame_interval=0.5)
    assert (in_nm["K_unit"].dropna() == "µm²/s^alpha").all()
    factor = 1e-6 / 0.5 ** in_px["alpha"]  # nm² -> µm², frame -> 0.5 s
    assert np.allclose(in_nm["K"].dropna(), (in_px["K"] * factor).dropna(), rtol=1e-5)
    flagged = andiflow.predict(_table(), models=ensemble, warn=lambda m: None, pixel_size=0.1)
    assert (flagged["K_unit"].dropna() == "µm²/frame^alpha").all()


def test_the_command_line_writes_the_challenges_lines(ensemble, tmp_path):
    from andiflow.cli import main

    rng = np.random.default_rng(2)
    rows = [
        {"traj_idx": i, "frame": f, "x": x, "y": y}
        for i in range(3)
        for f, (x, y) in enumerate(rng.normal(size=(30 + 10 * i, 2)).cumsum(0))
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "trajs_fov_0.csv", index=False)
    out = tmp_path / "fov_0.txt"
    folder = ensemble.members[0].path.parent
    assert (
        main(
            [
                "predict",
                str(tmp_path / "trajs_fov_0.csv"),
                "--task",
                "segments",
                "--models",
                str(folder),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    found = segment.read_challenge_lines(out)
    assert sorted(found) == [0, 1, 2] and [found[i][-1] for i in range(3)] == [30, 40, 50]


def test_the_andij_file_follows_the_plugins_contract(tmp_path):
    torch = pytest.importorskip("torch")
    import onnx
    import onnxruntime

    from andiflow.export import export_andij
    from andiflow.model import build
    from andiflow.settings import model_settings, resolve

    config = resolve({"tasks": {"segments": {}}, "segments": {"model": {"kind": "unet", "unet": {"channels": 8}}}})
    models = [build(model_settings(config, "segments", 2)).eval() for _ in range(2)]
    export_andij(models, 0.3, 4, tmp_path / "seg.onnx")
    assert max(o.version for o in onnx.load(tmp_path / "seg.onnx").opset_import) <= 17
    session = onnxruntime.InferenceSession(str(tmp_path / "seg.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    for T in (37, 128, 240):  # the contract's check: raw (1, T, 2) in, every output of length T
        x = np.random.default_rng(T).normal(size=(1, T, 2)).cumsum(1).astype(np.float32)
        alpha, log_d, cp, state = session.run(["alpha", "logD", "cp", "diffusive_state"], {"input": x})
        assert alpha.shape == log_d.shape == cp.shape == (1, T) and state.shape == (1, T, 4)
        assert set(np.unique(cp)) <= {0.0, 1.0} and cp[0, :4].sum() == 0 and cp[0, -3:].sum() == 0
        with torch.no_grad():
            p = torch.stack([m(torch.from_numpy(x).transpose(1, 2)) for m in models]).mean(0)[0, :, 0].numpy()
        # its changepoints are the peaks segment.changepoints takes, where no taller one lies within the gap
        assert set(segment.changepoints(p, 0.3, 4)) >= set(np.flatnonzero(cp[0]))


def test_states_by_the_files_mix_or_the_training_one(ensemble):
    import andiflow
    from andiflow.errors import ModelFileError
    from andiflow.segmenter import SegmentsEnsemble

    tracks = _table((40, 60, 50))
    kept = json.loads((ensemble.members[0].path.parent / "manifest.json").read_text())
    assert "state_mix" not in kept["segmentation"]  # an ensemble that does not record it cannot
    with pytest.raises(ModelFileError, match="records no training mix of states"):
        ensemble.state_weights([np.zeros((30, 7))], "file")
    with pytest.raises(ValueError, match="state_mix 'mine'"):
        ensemble.state_weights([], "mine")
    recorded = kept["segmentation"] | {"state_mix": [0.7, 0.1, 0.1, 0.1]}
    mixed = SegmentsEnsemble(ensemble.members, kept | {"segmentation": recorded})
    frames = mixed.frames([np.asarray(g[["x [px]", "y [px]"]]).T for _, g in tracks.groupby("particle")])
    weights = mixed.state_weights(frames, "file")
    assert weights.shape == (4,) and mixed.state_weights(frames) is None
    by_file = andiflow.predict(tracks, models=mixed, warn=lambda m: None, state_mix="file")
    by_training = andiflow.predict(tracks, models=mixed, warn=lambda m: None)
    assert by_file[["particle", "first_frame", "K"]].equals(by_training[["particle", "first_frame", "K"]])


def test_per_frame_outputs_on_request(ensemble):
    import andiflow

    frames = andiflow.predict(_table(), models=ensemble, warn=lambda m: None, per_frame=True)
    assert list(frames.columns[:5]) == ["particle", "frame", "p_changepoint", "alpha", "log10_K"]
    assert frames["particle"].tolist() == [0] * 40 and frames["frame"].tolist() == list(range(5, 45))
    states = frames[[f"p_{s}" for s in segment.STATES]].sum(axis=1)
    assert np.allclose(states, 1, atol=1e-5)


def test_k_units_from_what_a_file_states():
    from andiflow.segmenter import k_units
    from andiflow.tracks import Tracks

    trackmate = Tracks([], [], space_unit="µm", time_unit="s", frame_interval=0.05)  # TrackMate's XML
    assert k_units(trackmate) == (1.0, 0.05, "µm²/s^alpha")
    seconds_column = Tracks([], [], step=20.0, time_unit="ms")  # frames given as times, "t [ms]"
    assert k_units(seconds_column) == (None, 0.02, "px²/s^alpha")
    assert k_units(Tracks([], []), pixel_size=0.107) == (0.107, None, "µm²/frame^alpha")
    assert k_units(Tracks([], [], space_unit="nm")) == (1e-3, None, "µm²/frame^alpha")
