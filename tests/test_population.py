"""The population of many short tracks: a network over sets that reads the ensemble's answers
(population_net.py), made as the workflow makes it (population_train.py, the steps), on a copy of the
shipped ensemble and pools of a few hundred tracks."""

import json
import re
import shutil

import numpy as np
import onnxruntime
import pandas as pd
import pytest
import torch

import andiflow
from andiflow.api import SHIPPED, load_ensemble
from andiflow.cli import main
from andiflow.errors import InputFileError, ModelFileError, SettingsError
from andiflow.manifest import sha256
from andiflow.population_net import (
    COLUMNS,
    FEATURES,
    PRECISION,
    SHARE_BINS,
    SIZE_BINS,
    STATISTICS,
    PopulationNetwork,
    difference,
    precision_ratios,
    step_statistics,
)
from andiflow.population_train import RANGES, Populations, SetNetwork, export, share_bounds, simulate_pool
from andiflow.steps import main as step
from andiflow.tasks import MODELS

POOL = {"dims": [2], "per_model": 250, "held_out_per_model": 250, "min_length": 10, "max_length": 60, "max_noise": 1.5}
SETTINGS = {
    "seed": 3,
    "intervals": {"level": 0.9},
    "population": {"train": True, "pool": POOL, "tracks": [10, 100], "hidden": 16, "steps": 5, "batch": 4,
                   "learning_rate": 0.002, "held_out_populations": 10, "share_populations": 40,
                   "precision": {"train": True, "noise_widths": [0.02, 0.1], "misjudged": 0.3}},
}  # fmt: skip


NETWORKS = ("population.json", "population.onnx", "population_precision.json", "population_precision.onnx")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A copy of the shipped ensemble with the population networks the steps trained on its answers
    (network/ and network_precision/, both shipped into the ensemble's folder)."""
    work = tmp_path_factory.mktemp("population")
    ensemble = work / "ensemble"
    shutil.copytree(SHIPPED / "convlstm-cpu", ensemble)
    for name in NETWORKS:
        (ensemble / name).unlink(missing_ok=True)
    settings = json.dumps(SETTINGS)
    for part in ("train", "held_out"):
        assert 0 == step(["population-pool", "--dim", "2", "--part", part, "--ensemble", str(ensemble),
              "-o", str(work / f"{part}.npz"), "--settings", settings])  # fmt: skip
    for network, flags in (("network", []), ("network_precision", ["--precision"])):
        assert 0 == step(["train-population", "--pools", str(work / "train.npz"), "--held-out",
              str(work / "held_out.npz"), "--ensemble", str(ensemble), "-o", str(work / network), *flags,
              "--settings", settings])  # fmt: skip
    for name in NETWORKS:
        shutil.copyfile(next(work.glob(f"network*/{name}")), ensemble / name)
    return work


def tracks_table(n, seed, **extra):
    rng = np.random.default_rng(seed)
    parts = []
    for p in range(n):
        T = int(rng.integers(10, 40))
        xy = np.cumsum(rng.standard_normal((T, 2)), axis=0)
        parts.append(pd.DataFrame(dict(particle=p, frame=np.arange(T), x=xy[:, 0], y=xy[:, 1], **extra)))
    return pd.concat(parts, ignore_index=True)


def test_the_steps_write_a_network_scored_on_held_out_populations(trained):
    description = json.loads((trained / "network/population.json").read_text())
    assert description["features"] == list(FEATURES) and description["level"] == 0.9
    assert {r["process"] for r in description["held_out"]} <= {"attm", "ctrw", "fbm", "lw", "sbm"}
    assert sum(r["populations"] for r in description["held_out"]) == 10
    assert all(0 <= r["holds"] <= 1 and r["width"] > 0 for r in description["held_out"])
    shares = description["shares"]
    low, high = np.array(shares["low"]), np.array(shares["high"])
    assert shares["populations"] == 40 and shares["level"] == 0.9
    assert low.shape == high.shape == (5, len(SIZE_BINS) + 1, len(SHARE_BINS) + 1) and (low <= high).all()


def test_the_precision_network_reads_the_noise_over_the_observed_steps(trained):
    description = json.loads((trained / "network_precision/population_precision.json").read_text())
    assert description["features"] == [*FEATURES, PRECISION] and description["onnx"] == "population_precision.onnx"
    assert description["settings"]["noise_widths"] == [0.02, 0.1]
    pool = dict(np.load(trained / "train.npz"))
    ratios = pool["noise"] / pool["step_rms"]
    assert description["max_precision_ratio"] == pytest.approx(ratios.max()) and np.median(ratios) < 2**-0.5
    rng = np.random.default_rng(5)
    walk = np.cumsum(rng.standard_normal((2, 20000)), axis=1)
    noise = np.vstack([0.5 * rng.standard_normal(20000), np.zeros(20000)])  # y still: left out
    assert precision_ratios([0.5 * rng.standard_normal((1, 20000))], 0.5)[0] == pytest.approx(2**-0.5, rel=0.02)
    assert precision_ratios([walk[:1] + noise[:1], noise], 0.5) == pytest.approx([0.5 / 1.5**0.5, 2**-0.5], rel=0.02)
    directed = np.vstack([np.arange(50.0), np.zeros(50)])  # every step alike: no std, a root mean square of 1
    assert precision_ratios([directed], 0.5) == pytest.approx([0.5])


def test_both_networks_are_shipped_beside_the_ensemble_and_its_card_says_them(trained, tmp_path):
    shipped, folders = SHIPPED / "convlstm-cpu", [str(trained / "network"), str(trained / "network_precision")]
    assert 0 == step(["ship", "--ensemble", str(trained / "ensemble"), "--card", str(shipped / "MODEL_CARD.md"),
          "--evaluation", str(shipped / "evaluation.json"), "--population", *folders,
          "-o", str(tmp_path / "out/manifest.json")])  # fmt: skip
    for name in NETWORKS:
        assert (tmp_path / "out" / name).read_bytes() == (trained / "ensemble" / name).read_bytes()
    assert 0 == step(["card", "--ensemble", str(trained / "ensemble"), "--evaluation", str(shipped / "evaluation.json"),
          "--population", *folders, "-o", str(tmp_path / "card.md")])  # fmt: skip
    card = (tmp_path / "card.md").read_text()
    assert card.index("## The population (beyond HNU)") < card.index("### Where the localisation precision is known")


def test_a_known_precision_is_read_by_the_second_network(trained):
    ens = load_ensemble(trained / "ensemble", threads=1)
    found = andiflow.population(tracks_table(40, 1), ens, precision=0.2)
    row = found.iloc[0]
    assert row["tracks"] == 40 and row["note"] == "localisation precision 0.2 read"
    assert row["alpha_mean_low"] <= row["alpha_mean"] <= row["alpha_mean_high"]
    assert andiflow.population(tracks_table(40, 1), ens, precision=0)["note"][0] == "localisation precision 0 read"
    with pytest.raises(SettingsError, match="precision 30: larger than the tracks' steps .* positions' unit"):
        andiflow.population(tracks_table(40, 1), ens, precision=30)  # nm given for positions in µm
    with pytest.raises(SettingsError, match="precision -1: a number of at least 0"):
        andiflow.population(tracks_table(40, 1), ens, precision=-1)
    shipped = load_ensemble(SHIPPED / "hnu-lstm-cpu", threads=1)
    with pytest.raises(ModelFileError, match="no population network reading a precision .population_precision.json"):
        andiflow.population(tracks_table(40, 1), shipped, precision=0.2)


def test_a_tables_precision_column_is_read_track_by_track_where_named(trained):
    ens = load_ensemble(trained / "ensemble", threads=1)
    quantiles = ["alpha_mean_low", "alpha_mean", "alpha_mean_high", "alpha_sd"]
    told = andiflow.population(tracks_table(40, 1), ens, precision=0.2)
    read = andiflow.population(tracks_table(40, 1, ep=0.2), ens, precision="ep")
    assert read["note"][0] == "localisation precision of each track read from column 'ep' (median 0.2)"
    pd.testing.assert_frame_equal(read[quantiles], told[quantiles])
    in_um = tracks_table(40, 1, **{"uncertainty [nm]": 200.0}).rename(columns={"x": "x [um]", "y": "y [um]"})
    pd.testing.assert_frame_equal(andiflow.population(in_um, ens, precision="uncertainty [nm]")[quantiles],
                                  told[quantiles])  # fmt: skip
    said = []
    unnamed = andiflow.population(tracks_table(40, 1, ep=0.2), ens, warn=said.append)
    pd.testing.assert_frame_equal(unnamed, andiflow.population(tracks_table(40, 1), ens))
    assert "column 'ep' looks like each spot's localisation precision; not read unless named" in said[0]
    axes = tracks_table(40, 1, ep_x=0.2, ep_y=0.2)
    said.clear()
    pd.testing.assert_frame_equal(andiflow.population(axes, ens, precision=["ep_x", "ep_y"])[quantiles],
                                  told[quantiles])  # fmt: skip
    andiflow.population(axes, ens, warn=said.append)
    assert "(precision=['ep_x', 'ep_y'], --precision ep_x ep_y)" in said[0]
    some = tracks_table(40, 1, ep=0.2)
    some.loc[some["particle"] < 3, "ep"] = np.nan
    assert andiflow.population(some, ens, precision="ep")["note"][0].endswith(
        "; 3 tracks without one read at the median"
    )
    with pytest.raises(InputFileError, match="the DataFrame: no column 'sigma' of the localisation precision"):
        andiflow.population(some, ens, precision="sigma")
    with pytest.raises(InputFileError, match="the DataFrame: column 'ep' holds no localisation precision"):
        andiflow.population(tracks_table(40, 1, ep=np.nan), ens, precision="ep")
    with pytest.raises(SettingsError, match="precision 200 .median.: larger than the tracks' steps"):
        andiflow.population(tracks_table(40, 1, ep=200.0), ens, precision="ep")  # in nm, the positions in µm
    with pytest.raises(SettingsError, match="precision False: a number of at least 0"):
        andiflow.population(tracks_table(40, 1), ens, precision=False)


def test_the_precision_network_is_trained_on_precisions_misjudged_by_one_factor_a_population(trained):
    pool = dict(np.load(trained / "train.npz"))
    pool["x"] = np.column_stack([pool["x"], np.ones(len(pool["x"]))])  # each track told a precision of 1
    exact, misjudged = Populations(pool, (20, 20), 4), Populations(pool, (20, 20), 4, misjudged=0.3)
    told, truth = misjudged.draw()[0], exact.draw()[0]  # the same tracks: the draws differ after the factor's
    np.testing.assert_array_equal(told[:, :-1], truth[:, :-1])
    assert (truth[:, -1] == 1).all() and np.ptp(told[:, -1]) < 1e-6 and told[0, -1] != 1
    factors = [misjudged.draw()[0][0, -1] for _ in range(40)]
    assert 0.15 < np.std(np.log(factors)) < 0.5
    description = json.loads((trained / "network_precision/population_precision.json").read_text())
    assert description["settings"]["misjudged"] == 0.3


def test_a_population_gives_ordered_quantiles_and_shares(trained):
    ens = load_ensemble(trained / "ensemble", threads=1)
    found = andiflow.population(tracks_table(40, 1), ens)
    assert list(found.columns) == ["group", *COLUMNS] and found["group"].tolist() == ["all"]
    row = found.iloc[0]
    assert row["tracks"] == 40 and row["note"] == ""
    assert row["alpha_mean_low"] <= row["alpha_mean"] <= row["alpha_mean_high"]
    assert 0 <= row["alpha_sd_low"] <= row["alpha_sd"] <= row["alpha_sd_high"]
    assert sum(row[f"share_{m}"] for m in ("attm", "ctrw", "fbm", "lw", "sbm")) == pytest.approx(1, abs=1e-5)
    assert all(0 <= row[f"share_{m}_low"] <= row[f"share_{m}"] <= row[f"share_{m}_high"] <= 1 for m in MODELS)


def test_groups_by_a_column_or_a_dict_and_too_few_tracks_are_said(trained):
    ens = load_ensemble(trained / "ensemble", threads=1)
    table = pd.concat([tracks_table(30, 2, cell="a"), tracks_table(4, 3, cell="b")], ignore_index=True)
    table.loc[table["cell"] == "b", "particle"] += 100
    found = andiflow.population(table, ens, by="cell")
    assert found["group"].tolist() == ["a", "b"] and found["tracks"].tolist() == [30, 4]
    assert np.isnan(found["alpha_mean"][1]) and "at least 10" in found["note"][1]
    whole = andiflow.population(tracks_table(30, 2), ens)
    assert found["alpha_mean"][0] == pytest.approx(whole["alpha_mean"][0], abs=1e-5)  # a group alone, as itself
    both = andiflow.population({"first": tracks_table(20, 5), "second": tracks_table(25, 6)}, ens)
    assert both["group"].tolist() == ["first", "second"] and both["tracks"].tolist() == [20, 25]
    with pytest.raises(InputFileError, match="no column 'condition'"):
        andiflow.population(table, ens, by="condition")


def test_it_is_refused_with_another_ensemble(trained, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(trained / "ensemble", other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps(manifest | {"name": "changed"}))
    with pytest.raises(ModelFileError, match="population.json: trained on the answers of another ensemble"):
        andiflow.population(tracks_table(20, 1), load_ensemble(other, threads=1))
    mine = json.loads((trained / "ensemble/population.json").read_text())
    older = mine | {"ensemble_sha256": sha256(other / "manifest.json"), "features": list(FEATURES[: -len(STATISTICS)])}
    (other / "population.json").write_text(json.dumps(older))
    with pytest.raises(ModelFileError, match="population.json: reads other inputs than this andiflow gives"):
        andiflow.population(tracks_table(20, 1), load_ensemble(other, threads=1))
    (other / "population.json").unlink()
    with pytest.raises(ModelFileError, match="has no population network"):
        andiflow.population(tracks_table(20, 1), load_ensemble(other, threads=1))


def test_the_steps_statistics_tell_localisation_noise_from_the_motion():
    rng = np.random.default_rng(4)
    walk = np.cumsum(rng.standard_normal((2, 20000)), axis=1)
    still, noisy = step_statistics(walk), step_statistics(walk + rng.standard_normal(walk.shape))
    assert abs(still[0]) < 0.03 and abs(still[1]) < 0.03 and abs(still[5] - 1) < 0.05  # Brownian: MSD ~ t
    assert abs(noisy[0] + 1 / 3) < 0.03 and abs(noisy[1]) < 0.03  # noise of one step: lag 1 alone, -1/3
    np.testing.assert_allclose(step_statistics(1000 * walk[:, :30] + 5), step_statistics(walk[:, :30]), rtol=1e-5)
    parked = np.concatenate([np.zeros((1, 10)), walk[:1, :10]], 1)  # still for its first half
    assert step_statistics(parked)[2] == 4 and np.isfinite(step_statistics(np.array([[0.0, 1] * 6]))).all()


def test_the_onnx_file_gives_what_the_network_gives(tmp_path):
    torch.manual_seed(1)
    net = SetNetwork(len(FEATURES), 16, 300).eval()
    export(net, tmp_path / "population.onnx")
    x = np.random.default_rng(0).normal(size=(1, 57, len(FEATURES))).astype(np.float32)
    quantiles, shares = onnxruntime.InferenceSession(str(tmp_path / "population.onnx")).run(None, {"tracks": x})
    with torch.no_grad():
        expected = net(torch.from_numpy(x), torch.ones(1, 57))
    np.testing.assert_allclose(quantiles, expected[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(shares, expected[1].numpy(), atol=1e-5)


def test_the_network_is_a_function_of_the_set_alone():
    torch.manual_seed(0)
    net = SetNetwork(len(FEATURES), 16, 1000).eval()
    x = torch.randn(1, 30, len(FEATURES))
    quantiles, shares = net(x, torch.ones(1, 30))
    shuffled, _ = net(x[:, torch.randperm(30)], torch.ones(1, 30))
    padded = torch.cat([x, torch.randn(1, 9, len(FEATURES))], 1)
    masked, _ = net(padded, torch.cat([torch.ones(1, 30), torch.zeros(1, 9)], 1))
    torch.testing.assert_close(shuffled, quantiles)
    torch.testing.assert_close(masked, quantiles)
    assert (quantiles[0, :3].diff() >= 0).all() and (quantiles[0, 3:].diff() >= 0).all()


def test_populations_drawn_from_a_pool_carry_their_truth():
    found, truth = simulate_pool(60, 1, seed=5, pool=POOL)
    assert len(found) == 300 and all(t.shape == (n, 1) for t, n in zip(found, truth["length"]))
    assert truth["length"].between(10, 60).all() and truth["noise"].between(0, 1.5).all()
    again, _ = simulate_pool(60, 1, seed=5, pool=POOL)
    assert all(np.array_equal(a, b) for a, b in zip(found, again))
    pool = {c: truth[c].to_numpy() for c in truth.columns} | {"x": np.arange(300, dtype=np.float32)[:, None]}
    x, mean, sd, shares, k, d = Populations(pool, (10, 50), seed=1).draw()
    alphas = truth["alpha"].to_numpy()[x[:, 0].astype(int)]
    assert 10 <= len(x) <= 50 and d == 1 and shares.sum() == pytest.approx(1) and shares[k] >= 0.2
    assert mean == pytest.approx(alphas.mean()) and sd == pytest.approx(alphas.std())
    narrow = Populations(pool, (1000, 1000), seed=1, noise_widths=(0.001, 0.002))  # bands of a track or two
    with pytest.raises(SettingsError, match="no population of 999 tracks in 10,000 draws: .* widen them"):
        narrow.draw()


def test_mixtures_hold_up_to_mix_models_models_that_allow_the_mean():
    n = 20000
    rng = np.random.default_rng(4)
    model = rng.integers(len(MODELS), size=n)
    low, high = (np.array([RANGES[m][i] for m in MODELS])[model] for i in (0, 1))
    pool = dict(
        x=np.arange(n, dtype=np.float32)[:, None], model=model, dim=np.ones(n, int),
        alpha=rng.uniform(low, high), noise=rng.uniform(0, 1.5, n), length=rng.integers(10, 60, n),
    )  # fmt: skip
    for most in (2, 4):
        populations = Populations(pool, (200, 200), seed=5, mix_models=most)
        held = [np.count_nonzero(populations.draw()[3]) for _ in range(400)]
        assert max(held) == most and 0.15 < np.mean(np.array(held) > 1) < 0.35  # a quarter are mixtures
        for k, count in populations._mixture(MODELS.index("fbm"), 200, [MODELS.index(m) for m in ("attm", "sbm")]):
            assert count >= 0 and MODELS[k] in ("fbm", "attm", "sbm")
        assert sum(c for _, c in populations._mixture(0, 200, [1, 2, 4])) == 200


def test_a_population_is_of_different_tracks_where_the_pool_holds_enough():
    n = 5000
    rng = np.random.default_rng(3)
    pool = dict(
        x=np.arange(n, dtype=np.float32)[:, None], model=np.full(n, MODELS.index("fbm")), dim=np.ones(n, int),
        alpha=rng.uniform(0.05, 1.95, n), noise=rng.uniform(0, 1.5, n), length=rng.integers(10, 60, n),
    )  # fmt: skip
    populations = Populations(pool, (10, 2000), seed=2)
    fbm = MODELS.index("fbm")
    narrow = populations._near(1, fbm, 200, 0.8, 0.05, 0.75, 1.5, 10, 60)
    assert len(np.unique(narrow)) == 200 and abs(pool["alpha"][narrow].mean() - 0.8) < 0.02
    assert pool["alpha"][narrow].std() < 0.08
    # more than the pool holds near the mean: the spread widens, the tracks stay different
    wide = populations._near(1, fbm, 1500, 0.8, 0.05, 0.75, 1.5, 10, 60)
    assert len(np.unique(wide)) == 1500 and abs(pool["alpha"][wide].mean() - 0.8) < 0.05
    # fewer than twice the count in the bands: nearest draws, repeats allowed
    assert len(populations._near(1, fbm, 3000, 0.8, 0.05, 0.75, 1.5, 10, 60)) == 3000


def test_the_shares_intervals_hold_the_true_share_as_often_as_their_level_on_other_draws():
    found, truth = simulate_pool(300, 1, seed=5, pool=POOL)
    pool = {c: truth[c].to_numpy() for c in truth.columns} | {"x": np.arange(1500, dtype=np.float32)[:, None]}
    rng = np.random.default_rng(0)

    def shares_of(x):  # the true shares, blurred as a network's are
        true = np.bincount(pool["model"][x[:, 0].astype(int)], minlength=5) / len(x)
        blurred = np.clip(true + rng.normal(0, 0.1, 5), 0, None) + 1e-3
        return blurred / blurred.sum()

    cfg = {"tracks": [10, 300], "share_populations": 600}
    bounds = share_bounds(shares_of, pool, cfg, seed=1, level=0.9)
    network = PopulationNetwork.__new__(PopulationNetwork)
    network.description, network.max_tracks = {"shares": bounds}, 300
    held, draws = [], Populations(pool, (10, 300), seed=2)
    for _ in range(300):
        x, _, _, true, _, _ = draws.draw()
        row = network._shares(shares_of(x), len(x))
        held += [row[f"share_{m}_low"] <= t <= row[f"share_{m}_high"] for m, t in zip(MODELS, true)]
    assert 0.85 <= np.mean(held) <= 0.99


def test_a_network_without_the_shares_intervals_is_refused(trained, tmp_path):
    ensemble = tmp_path / "ensemble"
    shutil.copytree(trained / "ensemble", ensemble)
    description = json.loads((ensemble / "population.json").read_text())
    del description["shares"]
    (ensemble / "population.json").write_text(json.dumps(description))
    with pytest.raises(ModelFileError, match="made by an older andiflow, without the shares' intervals; rebuild it"):
        andiflow.population(tracks_table(30, 1), load_ensemble(ensemble, threads=1))


def test_the_difference_of_two_means_widens_as_both_intervals_do():
    first = pd.Series(dict(alpha_mean=0.5, alpha_mean_low=0.4, alpha_mean_high=0.6))
    second = pd.Series(dict(alpha_mean=0.8, alpha_mean_low=0.7, alpha_mean_high=0.9))
    d = difference(first, second)
    assert d["difference"] == pytest.approx(0.3)
    assert d["high"] - d["difference"] == pytest.approx(0.1 * np.sqrt(2), rel=1e-3)
    lopsided = difference(first, pd.Series(dict(alpha_mean=0.8, alpha_mean_low=0.5, alpha_mean_high=0.9)))
    assert lopsided["difference"] - lopsided["low"] == pytest.approx(np.hypot(0.3, 0.1), rel=1e-3)


def test_the_command_compares_two_files_and_draws_them(trained, tmp_path, capsys):
    tracks_table(30, 7).to_csv(tmp_path / "control.csv", index=False)
    tracks_table(30, 8).to_csv(tmp_path / "drug.csv", index=False)
    files = [str(tmp_path / "control.csv"), str(tmp_path / "drug.csv")]
    out, png = tmp_path / "population.csv", tmp_path / "population.png"
    models = ["--models", str(trained / "ensemble")]
    assert main(["population", *files, *models, "-o", str(out), "--figure", str(png)]) == 0
    err = capsys.readouterr().err
    assert "drug.csv minus" in err and "(90%)" in err and "alpha mean" in err
    assert re.search(r"models [a-z]+ \d+% \[\d+%, \d+%\]", err)  # each likely model's share with its interval
    written = pd.read_csv(out)
    assert written["group"].tolist() == files and png.stat().st_size > 0
    assert main(["population", files[0], *models, "--precision", "0.1"]) == 0
    assert "localisation precision 0.1 read" in capsys.readouterr().err
    tracks_table(30, 7, ep=0.1).to_csv(tmp_path / "trackpy.csv", index=False)
    assert main(["population", str(tmp_path / "trackpy.csv"), *models]) == 0
    assert "not read unless named (precision='ep', --precision ep)" in capsys.readouterr().err
    assert main(["population", *models, "--precision", "ep", "--", str(tmp_path / "trackpy.csv")]) == 0
    assert "localisation precision of each track read from column 'ep' (median 0.1)" in capsys.readouterr().err
    assert main(["population", files[0], files[0], *models]) == 2  # an input error
    assert "given twice" in capsys.readouterr().err


def test_a_figure_without_matplotlib_is_refused_before_anything_is_read(tmp_path, monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "matplotlib" else find_spec(name))
    assert main(["population", str(tmp_path / "absent.csv"), "--figure", str(tmp_path / "p.png")]) == 2
    assert "--figure needs matplotlib" in capsys.readouterr().err
