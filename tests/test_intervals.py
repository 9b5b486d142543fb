import numpy as np
import pytest

from andiflow.intervals import calibrate, coverage, fit, interval

EDGES = [10, 100, 1000]
CLIP = (0.05, 2.0)


def constructed(rng, n):
    """Predictions whose error grows with the spread and shrinks with length, in 1D and 2D."""
    dims = rng.integers(1, 3, size=n)
    lengths = rng.integers(10, 1000, size=n)
    spread = rng.uniform(0.05, 0.3, size=n)
    true = rng.uniform(0.3, 1.7, size=n)
    pred = true + rng.normal(size=n) * spread * (1.5 - lengths / 1000) / dims
    return pred, true, dims, lengths, spread


@pytest.mark.parametrize("bins", [1, 3])
def test_coverage_on_new_draws_is_the_level(rng, bins):
    pred, true, dims, lengths, spread = constructed(rng, 20000)
    table = fit(pred, true, dims, lengths, spread, EDGES, bins)
    new = constructed(rng, 20000)
    low, high = interval(table, new[0], new[2], new[3], new[4], 0.9, CLIP)
    result = coverage(low, high, new[1], new[2], new[3], EDGES)
    for cell in [result["all"], *result["by_dim"].values(), *result["by_length"].values()]:
        assert cell["coverage"] == pytest.approx(0.9, abs=0.015)


def test_conditioning_on_the_spread_narrows_intervals_where_it_carries_information(rng):
    pred, true, dims, lengths, spread = constructed(rng, 20000)
    split = calibrate(pred, true, dims, lengths, spread, {"length_edges": EDGES, "level": 0.9, "spread_bins": 3}, CLIP)
    one, three = split["split_halves"]["1"]["all"], split["split_halves"]["3"]["all"]
    assert three["width"] < one["width"] and three["coverage"] == pytest.approx(0.9, abs=0.02)
    assert split["spread_bins"] == 3 and split["level"] == 0.9


def test_exact_order_statistics_and_clipping():
    residuals = np.linspace(-0.5, 0.5, 99)  # n = 99: the 5th and the 95th for P = 0.9
    table = fit(np.ones(99), 1 + residuals, np.ones(99, int), np.full(99, 50), np.zeros(99), [10, 1000])
    low, high = interval(table, [1.0, 1.9], [1, 1], [50, 50], [0, 0], 0.9, CLIP)
    assert low[0] == pytest.approx(1 + residuals[4], abs=1e-4) and high[0] == pytest.approx(1 + residuals[94], abs=1e-4)
    assert high[1] == 2.0
    # a track longer than the last bucket (here 999 points) gets that bucket's interval, not [0.05, 2]
    low, high = interval(table, [1.0], [1], [5000], [0], 0.9, CLIP)
    assert low[0] == pytest.approx(1 + residuals[4], abs=1e-4) and high[0] == pytest.approx(1 + residuals[94], abs=1e-4)


def test_a_group_too_small_for_the_level_or_unseen_gets_the_whole_range():
    table = fit(np.ones(5), np.ones(5), np.ones(5, int), np.full(5, 50), np.zeros(5), [10, 1000])
    low, high = interval(table, [1.0, 1.0], [1, 3], [50, 50], [0, 0], 0.9, CLIP)
    assert low.tolist() == [0.05, 0.05] and high.tolist() == [2.0, 2.0]


def test_discrete_residuals_cover_near_the_level_not_above_it(rng):
    """alpha's grid makes residuals discrete: the ends fall on runs of equal residuals, and holding
    both whole covers ~94% here; leaving one out covers ~90%."""

    def draw(n):
        true = (rng.integers(1, 41, n) * 0.05).round(2)  # as read from a reference file
        return (true + np.round(rng.normal(size=n) * 0.06 / 0.025) * 0.025).round(4), true

    n, ones, lengths = 20000, np.ones(20000, int), np.full(20000, 500)
    pred, true = draw(n)
    table = fit(pred, true, ones, lengths, np.zeros(n), [10, 1000])
    new_pred, new_true = draw(n)
    low, high = interval(table, new_pred, ones, lengths, np.zeros(n), 0.9, (-1.0, 3.0))
    assert coverage(low, high, new_true, ones, lengths, [10, 1000])["all"]["coverage"] == pytest.approx(0.9, abs=0.015)
