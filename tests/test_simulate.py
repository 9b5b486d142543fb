import numpy as np

from andiflow.simulate import MODELS, model_probabilities, simulate, simulate_challenge


def test_alpha_grid_is_the_challenges(recipe):
    assert len(recipe.alphas) == 40
    assert recipe.alphas[0] == 0.05 and recipe.alphas[-1] == 2.0


def test_model_probabilities_follow_the_challenge_class_table(recipe):
    p = model_probabilities(recipe.alphas)
    np.testing.assert_allclose(p.sum(axis=0), 1)
    sub = recipe.alphas == 0.5
    np.testing.assert_allclose(p[:, sub].ravel(), [0.332, 0.332, 0.170, 0, 0.166], atol=0.002)
    mid = recipe.alphas == 1.5
    np.testing.assert_allclose(p[:, mid].ravel(), [0, 0, 0.289, 0.429, 0.282], atol=0.002)
    top = recipe.alphas == 2.0
    np.testing.assert_allclose(p[:, top].ravel(), [0, 0, 0, 0.604, 0.396], atol=0.002)


def test_sampled_mixture(recipe):
    t = simulate(6000, 10, 1, seed=3, recipe=recipe)
    counts = np.bincount(np.abs(t.alpha[:, None] - recipe.alphas).argmin(axis=1), minlength=40)
    assert counts.min() > 6000 / 40 * 0.6  # alpha uniform over the grid
    sub = t.alpha <= 1
    share = np.bincount(t.model[sub], minlength=5) / sub.sum()
    np.testing.assert_allclose(share, [0.332, 0.332, 0.170, 0, 0.166], atol=0.04)
    assert not np.isin(t.model[~sub], [MODELS.index("attm"), MODELS.index("ctrw")]).any()
    assert not (t.model[t.alpha < 1.05] == MODELS.index("lw")).any()
    assert set(np.unique(t.sigma)) == {np.float32(0.1), np.float32(0.5), np.float32(1.0)}


def test_trajectories_start_at_zero_and_are_finite(recipe):
    t = simulate(200, 30, 2, seed=1, recipe=recipe)
    assert t.positions.shape == (200, 2, 30) and t.positions.dtype == np.float32
    assert np.isfinite(t.positions).all()
    np.testing.assert_array_equal(t.positions[:, :, 0], 0)


def test_same_seed_same_trajectories_other_seed_other(recipe):
    a = simulate(300, 20, 1, seed=5, recipe=recipe)
    b = simulate(300, 20, 1, seed=5, recipe=recipe)
    c = simulate(300, 20, 1, seed=6, recipe=recipe)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.alpha, b.alpha)
    assert not np.array_equal(a.positions, c.positions)


def test_challenge_lengths_within_range(recipe):
    t, lengths = simulate_challenge(100, 10, 60, 3, seed=2, recipe=recipe)
    assert t.positions.shape == (100, 3, 60)
    assert lengths.min() >= 10 and lengths.max() <= 60


def test_simulating_leaves_the_callers_global_random_state_as_it_was(recipe):
    import stochastic.random

    from andiflow.simulate import training_shard

    np.random.seed(5)
    expected = np.random.random(3)
    np.random.seed(5)
    generator = stochastic.random.generator
    training_shard(10, 20, 1, recipe)
    assert np.array_equal(np.random.random(3), expected) and stochastic.random.generator is generator
