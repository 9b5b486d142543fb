import numpy as np

from andiflow.normalize import zscore


def test_zscore_per_trajectory_population_std(rng):
    x = rng.normal(3, 5, size=(4, 50))
    z = zscore(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(z.std(axis=1, ddof=0), 1, atol=1e-5)
    np.testing.assert_allclose(z[0], (x[0] - x[0].mean()) / x[0].std(), rtol=1e-5)


def test_constant_trajectory_becomes_zeros():
    assert not np.any(zscore(np.full((1, 10), 7.0)))


def test_zscore_has_the_bits_of_numpys_mean_and_std(rng):
    for shape in [(7,), (3, 40), (5, 2, 33), (2, 3, 999)]:
        x = rng.normal(1e6, 3, size=shape)  # far from 0: where a different sum order would show
        centred = x - x.mean(axis=-1, keepdims=True)
        np.testing.assert_array_equal(zscore(x), (centred / centred.std(axis=-1, keepdims=True)).astype(np.float32))
