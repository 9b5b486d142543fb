"""The configuration schema and the validation every command runs."""

import jsonschema
import pytest

from andiflow import settings
from andiflow.errors import SettingsError


def test_the_schema_is_a_valid_json_schema():
    jsonschema.validators.validator_for(settings.SCHEMA).check_schema(settings.SCHEMA)


def test_the_schemas_defaults_are_valid():  # so a command given no settings need not validate them
    settings._validate(settings.resolve())


def test_a_bad_value_is_refused_naming_where_it_is():
    with pytest.raises(SettingsError, match=r"invalid configuration at train\.batch_size: .*"):
        settings.resolve({"train": {"batch_size": 0}})
    with pytest.raises(SettingsError, match=r"at segments\.data\.recipe: 'benchmark' is not one of"):
        settings.parse('{"segments": {"data": {"recipe": "benchmark"}}}')
    assert settings.resolve()["train"]["batch_size"] > 0


def test_the_population_network_needs_what_it_reads():
    with pytest.raises(SettingsError, match=r"population\.train: needs intervals\.level") as refused:
        settings.resolve({"population": {"train": True}})
    assert "population.pool.dims: [1, 2, 3] have no tasks.diffusion_model networks" in str(refused.value)
    classified = {"tasks": {"alpha": {}, "diffusion_model": {"dims": [2]}}, "intervals": {"level": 0.9}}
    with pytest.raises(SettingsError, match=r"population\.pool\.dims: \[1, 3\]"):
        settings.resolve(classified | {"population": {"train": True}})
    pool = {"dims": [2], "min_length": 5}
    with pytest.raises(SettingsError, match=r"population\.pool\.min_length: below the shortest trained length"):
        settings.resolve(classified | {"population": {"train": True, "pool": pool}})
    assert settings.resolve(classified | {"population": {"train": True, "pool": {"dims": [2]}}})["population"]["train"]
