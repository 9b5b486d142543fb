"""The one configuration schema: validation and the paper defaults, shared by the CLI and the workflow."""

import copy
import hashlib
import json
from importlib.resources import files

import jsonschema
import yaml

SCHEMA = yaml.safe_load(files("andiflow").joinpath("config.schema.yaml").read_text())


class SettingsError(ValueError):
    pass


def complete(config: dict | None = None) -> dict:
    """Validate a (partial) configuration and fill every missing key with its paper default."""
    config = copy.deepcopy(config or {})
    _fill_defaults(SCHEMA, config)
    try:
        jsonschema.validate(config, SCHEMA)
    except jsonschema.ValidationError as err:
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise SettingsError(f"invalid configuration at {where}: {err.message}") from None
    return config


def parse(text: str | None) -> dict:
    """A configuration given on the command line as JSON text (the workflow passes its sections so)."""
    if not text:
        return complete()
    try:
        return complete(json.loads(text))
    except json.JSONDecodeError as err:
        raise SettingsError(f"--settings is not valid JSON: {err}") from None


def digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _fill_defaults(schema: dict, value) -> None:
    if not isinstance(value, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            _fill_defaults(sub, value[key])
