"""The configuration schema and the validation every command runs."""

import jsonschema
import pytest

from andiflow import settings
from andiflow.errors import SettingsError


def test_the_schema_is_a_valid_json_schema():
    jsonschema.validators.validator_for(settings.SCHEMA).check_schema(settings.SCHEMA)


def test_a_bad_value_is_refused_naming_where_it_is():
    with pytest.raises(SettingsError, match=r"invalid configuration at train\.batch_size: .*"):
        settings.resolve({"train": {"batch_size": 0}})
    with pytest.raises(SettingsError, match=r"at segments\.data\.recipe: 'benchmark' is not one of"):
        settings.parse('{"segments": {"data": {"recipe": "benchmark"}}}')
    assert settings.resolve()["train"]["batch_size"] > 0
