import numpy as np
import pytest

from andiflow import settings
from andiflow.simulate import Recipe


@pytest.fixture
def recipe():
    return Recipe.from_settings(settings.complete()["data"])


@pytest.fixture
def rng():
    return np.random.default_rng(0)
