import numpy as np
import pytest

from andiflow.calibrate import fit_scale, fit_temperature, scale_grid
from andiflow.tasks import MODELS
from andiflow.tasks.diffusion_model import softmax


def test_recovers_a_known_scale(rng):
    true = rng.choice(np.arange(0.05, 2.01, 0.05), size=5000)
    raw = true / 1.02 + rng.normal(0, 0.01, size=true.size)
    result = fit_scale(raw, true, scale_grid({"start": 0.9, "stop": 1.1, "step": 0.001}), (0.05, 2.0))
    assert result["scale"] == pytest.approx(1.02, abs=0.002)
    assert result["mae_after"] < result["mae_before"]
    assert len(result["curve"]["scale"]) == 201


def test_grid_includes_both_ends():
    grid = scale_grid({"start": 0.9, "stop": 1.1, "step": 0.0005})
    assert grid[0] == pytest.approx(0.9) and grid[-1] == pytest.approx(1.1) and len(grid) == 401


def test_temperature_scaling_finds_the_temperature_the_labels_were_drawn_at(rng):
    logits = rng.normal(scale=3.0, size=(4000, 5))
    p = softmax(logits, 2.0)
    true = [MODELS[(row.cumsum() < u).sum()] for row, u in zip(p, rng.random(4000))]
    dims = np.repeat([1, 2], 2000)
    fitted = fit_temperature(logits, true, dims)
    assert set(fitted) == {"1", "2"} and fitted["1"]["n"] == 2000
    for fit in fitted.values():
        assert fit["temperature"] == pytest.approx(2.0, abs=0.25)
        assert fit["nll_after"] <= fit["nll_before"]
