import numpy as np
import pytest

from andiflow.calibrate import fit_scale, scale_grid


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
