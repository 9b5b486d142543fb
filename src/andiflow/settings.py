"""The one configuration schema: validation and the paper defaults, shared by the CLI and the workflow."""

import copy
import hashlib
import json
from importlib.resources import files

import jsonschema
import numpy as np
import yaml

from andiflow.errors import SettingsError
from andiflow.tasks import MODELS

SCHEMA = yaml.safe_load(files("andiflow").joinpath("config.schema.yaml").read_text())
KINDS = SCHEMA["properties"]["model"]["properties"]["kind"]["enum"]  # the encoders model.kind picks


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


def check_config(config: dict) -> None:
    """What the schema cannot say: settings that contradict each other. Raised when the workflow is
    parsed, naming the key, rather than inside a job hours later."""
    lengths = sorted(length for length, _ in config["data"]["lengths"])
    train, low, high = config["train"], *config["infer"]["clip"]
    problems = [
        f"{key}: fold {k} is outside 0..{train['n_folds'] - 1} (train.n_folds)"
        for key, folds in (("train.folds_used", train["folds_used"]), ("model_folds", config["model_folds"] or []))
        for k in folds
        if k >= train["n_folds"]
    ]
    if low >= high:
        problems.append(f"infer.clip: low {low} is not below high {high}")
    for section in ("calibrate", "testset", "intervals"):
        if config[section]["min_length"] < lengths[0]:
            problems.append(
                f"{section}.min_length: {config[section]['min_length']} is below the shortest trained "
                f"length ({lengths[0]}, data.lengths)"
            )
        if config[section]["min_length"] > config[section]["max_length"]:
            problems.append(f"{section}.min_length: above {section}.max_length")
    long = config["intervals"]["long_tracks"]
    if long and long["max_length"] <= config["intervals"]["max_length"]:
        problems.append("intervals.long_tracks.max_length: not above intervals.max_length")
    if isinstance(train["warm_start"], int) and train["warm_start"] not in lengths:
        problems.append(f"train.warm_start: length {train['warm_start']} is not one of data.lengths")
    if len(set(lengths)) != len(lengths):
        problems.append("data.lengths: a length is listed twice")
    if problems:
        raise SettingsError("impossible configuration: " + "; ".join(problems))


def alpha_grid(alphas: dict) -> np.ndarray:
    """The alpha grid `{start, stop, step}` (inclusive), rounded to 2 decimals as the labels are."""
    return np.round(np.arange(alphas["start"], alphas["stop"] + alphas["step"] / 2, alphas["step"]), 2)


SHARED_MODEL_KEYS = ("hidden_size", "num_layers", "dropout")  # the LSTM every kind ends in, and the head


def model_settings(config: dict, task: str = "alpha", axes: int = 1) -> dict:
    """The settings a model is built from and saved with, from a complete configuration: its kind and
    output, the shared LSTM keys, its own kind's section (never another kind's keys), and for a
    distribution output the alpha grid it is over. The `model` task's output is `classes`, one per
    diffusion model (tasks.MODELS); its 2D and 3D classifiers read `axes` channels."""
    section = config["model"]
    kind = section["kind"]
    output = "classes" if task == "model" else section["output"]
    settings = dict(kind=kind, output=output, **{k: section[k] for k in SHARED_MODEL_KEYS}, **section.get(kind, {}))
    if output == "distribution":
        settings["grid"] = alpha_grid(config["data"]["alphas"]).tolist()
    if output == "classes":
        settings["classes"] = list(MODELS)
    if axes > 1:
        settings["axes"] = axes
    return settings


def parse(text: str | None) -> dict:
    """A configuration given on the command line as JSON text (the workflow passes its sections so)."""
    if not text:
        return complete()
    try:
        config = complete(json.loads(text))
    except json.JSONDecodeError as err:
        raise SettingsError(f"--settings is not valid JSON: {err}") from None
    check_config(config)
    return config


def given(text: str | None) -> dict:
    """The keys a --settings text states itself (parse fills in the rest)."""
    return json.loads(text) if text else {}


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
