"""The segments task's data: andi-datasets' 2024 models with per-frame labels, filtered as the challenge."""

import numpy as np
import pytest

from andiflow.phenom import BROAD, MODELS, PhenomRecipe, label_filter, simulate_phenom


def test_the_label_filter_equals_the_challenges_on_every_row():
    from andi_datasets.utils_challenge import label_filter as challenge_filter

    rng = np.random.default_rng(3)
    rows = [np.repeat(rng.choice([0.3, 1.0, 0.0, 2.5], size=12), rng.integers(1, 6, size=12))[:60] for _ in range(300)]
    rows += [np.full(60, 0.7), np.r_[np.full(2, 1.0), np.full(58, 0.5)], np.r_[np.full(58, 1.0), np.full(2, 0.5)]]
    labels = np.stack([np.resize(r, 60) for r in rows])
    expected = np.stack([challenge_filter(row, window_size=5, min_seg=3) for row in labels])
    np.testing.assert_array_equal(label_filter(labels), expected)


@pytest.mark.parametrize("recipe", ["defaults", "varied", "wide"])
def test_tracks_and_labels_are_the_same_for_the_same_seed_and_consistent(recipe):
    first = simulate_phenom(45, 60, seed=11, recipe=PhenomRecipe(recipe, tracks_per_experiment=15))
    again = simulate_phenom(45, 60, seed=11, recipe=PhenomRecipe(recipe, tracks_per_experiment=15))
    for key, values in first.items():
        np.testing.assert_array_equal(values, again[key])
    assert first["positions"].shape == (45, 2, 60) and first["state"].shape == (45, 60)
    assert np.isfinite(first["positions"]).all() and set(np.unique(first["state"])) <= {0, 1, 2, 3}
    assert not first["changepoint"][:, 0].any()
    change = first["changepoint"][:, 1:]
    for key in ("alpha", "K", "state"):  # a changepoint where, and only where, a label changes
        assert (first[key][:, 1:] != first[key][:, :-1])[~change].sum() == 0
    other = simulate_phenom(45, 60, seed=12, recipe=PhenomRecipe(recipe, tracks_per_experiment=15))
    assert not np.array_equal(other["positions"], first["positions"])


def test_every_model_is_drawn_and_mixed_draws_both_recipes():
    drawn, noises = set(), set()
    for experiment in range(40):
        model, _, noise = PhenomRecipe("mixed").experiment(np.random.default_rng([5, experiment]))
        drawn.add(model)
        noises.add(noise)
    assert drawn == set(MODELS)
    assert 0.12 in noises and len(noises) > 20 and max(noises) <= 0.3  # defaults' 0.12, varied's 0-0.3


def test_broad_draws_its_three_recipes_in_their_shares():
    drawn = {"defaults": 0, "varied": 0, "wide": 0}
    for experiment in range(800):
        _, args, noise = PhenomRecipe("broad").experiment(np.random.default_rng([6, experiment]))
        alpha_variance = np.asarray(args["alphas"], float).reshape(-1, 2)[:, 1]
        # defaults' noise is 0.12 px; varied draws every alpha with variance 0.01, wide with its own spread
        drawn["defaults" if noise == 0.12 else "varied" if (alpha_variance == 0.01).all() else "wide"] += 1
    for name, share in BROAD.items():
        assert abs(drawn[name] / 800 - share) < 0.05, drawn


def test_wide_holds_small_contrasts_short_dwells_and_dimers_faster_than_free_particles():
    contrasts, stays, faster_dimers = [], [], 0
    for experiment in range(300):
        model, args, _ = PhenomRecipe("wide").experiment(np.random.default_rng([7, experiment]))
        K = np.asarray(args["Ds"], float).reshape(-1, 2)[:, 0]
        assert 10**-2.7 <= K.min() and K.max() <= 10.0 and (np.asarray(args["alphas"], float)[..., 0] < 2).all()
        contrasts += list(10 ** np.abs(np.diff(np.log10(K))))  # between consecutive states, either way
        if model == "multi_state":
            np.testing.assert_allclose(args["M"].sum(axis=1), 1)
            stays += list(np.diag(args["M"]))
        faster_dimers += model == "dimerization" and K[1] > K[0]
    assert 1.5 - 1e-9 <= min(contrasts) < 2 and min(stays) < 0.85 and faster_dimers > 0


def test_the_defaults_experiments_simulate_the_challenges_density_and_varied_ones_their_tracks():
    for experiment in range(20):
        model, args, noise = PhenomRecipe("mixed", particles=70).experiment(np.random.default_rng([5, experiment]))
        assert args.get("N") == (70 if noise == 0.12 else None), model


def test_the_benchmark_recipe_draws_the_public_benchmarks_nine_experiments_at_their_densities():
    drawn = {}
    for experiment in range(200):
        model, args, noise = PhenomRecipe("benchmark").experiment(np.random.default_rng([5, experiment]))
        drawn[str(args)] = (model, args["N"], noise)
    assert len(drawn) == 9 and {n for _, n, _ in drawn.values()} == {100, 500, 750}
    assert {m for m, _, _ in drawn.values()} == set(MODELS) and {x for _, _, x in drawn.values()} == {0.12}
    made = simulate_phenom(40, 200, seed=4, recipe=PhenomRecipe("benchmark", tracks_per_experiment=10))
    assert made["positions"].shape == (40, 2, 200) and made["changepoint"].sum(axis=1).max() >= 3
