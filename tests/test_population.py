"""The population of many short tracks: deconvolved from each track's likelihood over the alpha grid."""

import numpy as np
import pytest
import torch
from conftest import assemble, network

from andiflow.deconvolve import alpha_population
from andiflow.ensemble import Ensemble
from andiflow.model import build

GRID = np.round(np.arange(0.05, 2.0001, 0.05), 2)


def likelihoods(mean, sd, n, error, seed):
    """Tracks of a population N(mean, sd) read with Gaussian error `error`: each track's likelihood."""
    rng = np.random.default_rng(seed)
    read = rng.normal(mean, sd, n) + rng.normal(0, error, n)
    found = np.exp(-0.5 * ((GRID[None] - read[:, None]) / error) ** 2)
    return found / found.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("mean, sd", [(0.4, 0.05), (0.9, 0.15), (1.4, 0.1)])
def test_mean_and_spread_net_of_each_tracks_error(mean, sd):
    found = alpha_population(likelihoods(mean, sd, 600, error=0.3, seed=int(mean * 10)), GRID)
    assert found["mean_low"] <= mean <= found["mean_high"] and abs(found["mean"] - mean) < 0.04
    assert abs(found["sd"] - sd) < 0.06 and found["sd_low"] <= found["sd"] <= found["sd_high"]
    # the point estimates' own spread is inflated by their error: the deconvolved one is not
    assert found["sd"] < 0.2


@pytest.fixture
def ensemble(tmp_path):
    torch.manual_seed(0)
    settings = dict(kind="convlstm", output="distribution", grid=GRID.tolist(), hidden_size=8)
    settings.update(num_layers=1, dropout=0.0, features=4, block=4)
    for L in (10, 20):
        for fold in (0, 1):
            network(tmp_path, "alpha", 1, L, fold, settings, state_dict=build(settings).state_dict())
    assemble(tmp_path, name="t")
    return tmp_path


def test_onnx_members_give_the_likelihoods_pytorch_gives(ensemble):
    rng = np.random.default_rng(4)
    trajectories = [np.cumsum(rng.normal(size=(d, n)), axis=1) for n, d in ((12, 1), (33, 2), (25, 3))]
    by_onnx = Ensemble.load(ensemble).alpha_likelihoods(trajectories)
    by_torch = Ensemble.load(ensemble, backend="torch").alpha_likelihoods(trajectories)
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5)
    np.testing.assert_allclose(by_onnx.sum(axis=1), 1)
    # a 2D trajectory read axis by axis: the product of its axes' likelihoods
    one = Ensemble.load(ensemble).alpha_likelihoods([trajectories[1][:1], trajectories[1][1:]])
    product = one[0] * one[1]
    np.testing.assert_allclose(by_onnx[1], product / product.sum(), rtol=1e-6)
