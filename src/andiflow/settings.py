"""The one configuration schema: validation and the paper defaults, shared by the CLI and the workflow."""

import copy
import hashlib
import json
from collections.abc import Mapping
from importlib.resources import files

import yaml

from andiflow.errors import SettingsError
from andiflow.tasks import TASKS

# libyaml's loader where PyYAML has it: it reads the schema in a tenth of the time, at every command's start
SCHEMA = yaml.load(
    files("andiflow").joinpath("config.schema.yaml").read_text(), getattr(yaml, "CSafeLoader", yaml.SafeLoader)
)
KINDS = SCHEMA["properties"]["model"]["properties"]["kind"]["enum"]  # the encoders model.kind picks


# keys of earlier configurations, and where their values live now
MOVED = {
    ("alpha_dims",): "tasks.alpha.dims",
    ("model_folds",): "tasks.diffusion_model.folds",
    ("train", "folds_used"): "tasks.alpha.folds (and tasks.diffusion_model.folds)",
    **{("calibrate", key): f"sets.calibration.{key}" for key in ("min_length", "max_length")},
    ("calibrate", "n"): "sets.calibration.n_per_dim",
    **{("intervals", key): f"sets.intervals.{key}" for key in ("n_per_dim", "min_length", "max_length", "long_tracks")},
    ("testset",): "sets.test",
    **{("infer", key): f"ensemble.{key}" for key in ("clip", "windows", "onnx_weights", "median")},
    ("infer", "batch_values"): "batch_values",
    ("infer", "inputs"): "inputs",
}


def resolve(config: dict | None = None) -> dict:
    """The one complete configuration: every missing key filled with its paper default, validated
    against the schema and checked across sections. The workflow resolves its config once, here, and
    user commands given no settings resolve an empty one (HNU's values)."""
    given, config = bool(config), copy.deepcopy(dict(config or {}))
    _refuse_moved_keys(config)
    _fill_defaults(SCHEMA, config)
    if given:  # the schema's defaults alone are valid (tests/test_settings.py checks them once)
        _validate(config)
    check_config(config)
    return config


def _population_problems(config: dict) -> list[str]:
    """The population network reads the ensemble's intervals and model probabilities of every pool dimension."""
    population, problems = config["population"], []
    if config["intervals"]["level"] is None:
        problems.append("population.train: needs intervals.level (it reads each track's interval)")
    missing = set(population["pool"]["dims"]) - set(config["tasks"].get("diffusion_model", {}).get("dims", []))
    if missing:
        problems.append(f"population.pool.dims: {sorted(missing)} have no tasks.diffusion_model networks to read")
    if population["tracks"][0] > population["tracks"][1]:
        problems.append("population.tracks: the fewest is above the most")
    pool = population["pool"]
    if pool["min_length"] < min(length for length, _ in config["data"]["lengths"]):
        problems.append("population.pool.min_length: below the shortest trained length (data.lengths)")
    if pool["min_length"] > pool["max_length"]:
        problems.append("population.pool.min_length: above population.pool.max_length")
    return problems


def check_config(config: dict) -> None:
    """What the schema cannot say: settings that contradict each other, in a complete configuration.
    Raised when the workflow is parsed, naming the key, rather than inside a job hours later."""
    lengths = sorted(length for length, _ in config["data"]["lengths"])
    train, low, high = config["train"], *config["ensemble"]["clip"]
    problems = [
        f"tasks.{task}.folds: fold {k} is outside 0..{train['n_folds'] - 1} (train.n_folds)"
        for task, section in config["tasks"].items()
        for k in section["folds"]
        if k >= train["n_folds"]
    ]
    if "diffusion_model" in config["tasks"] and "alpha" not in config["tasks"]:
        problems.append("tasks.diffusion_model: needs tasks.alpha (its networks join alpha's ensemble)")
    if low >= high:
        problems.append(f"ensemble.clip: low {low} is not below high {high}")
    if config["population"]["train"]:
        problems += _population_problems(config)
    for name, held_out in config["sets"].items():
        if held_out["min_length"] < lengths[0]:
            problems.append(
                f"sets.{name}.min_length: {held_out['min_length']} is below the shortest trained "
                f"length ({lengths[0]}, data.lengths)"
            )
        if held_out["min_length"] > held_out["max_length"]:
            problems.append(f"sets.{name}.min_length: above sets.{name}.max_length")
    long = config["sets"]["intervals"]["long_tracks"]
    if long and long["max_length"] <= config["sets"]["intervals"]["max_length"]:
        problems.append("sets.intervals.long_tracks.max_length: not above sets.intervals.max_length")
    if isinstance(train["warm_start"], int) and train["warm_start"] not in lengths:
        problems.append(f"train.warm_start: length {train['warm_start']} is not one of data.lengths")
    if len(set(lengths)) != len(lengths):
        problems.append("data.lengths: a length is listed twice")
    if problems:
        raise SettingsError("impossible configuration: " + "; ".join(problems))


class Given(Mapping):
    """The sections of the configuration a workflow step was given, read-only. A key it was not given
    is an error naming the key: a step never falls back on a default the workflow did not resolve."""

    def __init__(self, values: dict, where: str = ""):
        self._values, self._where = values, where

    def __getitem__(self, key):
        if key not in self._values:
            raise SettingsError(
                f"this step was given no value for {self._where}{key} (--settings holds "
                f"{', '.join(self._where + k for k in sorted(self._values)) or 'nothing'})"
            )
        value = self._values[key]
        return Given(value, f"{self._where}{key}.") if isinstance(value, dict) else value

    def get(self, key, default=None):
        return self[key] if key in self._values else default

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


def parse(text: str | None):
    """The settings of a command: with --settings (JSON, sections of a resolved configuration, as the
    workflow passes them), exactly those, validated, as a Given; without, the resolved paper config."""
    if not text:
        return resolve()
    try:
        values = json.loads(text)
    except json.JSONDecodeError as err:
        raise SettingsError(f"--settings is not valid JSON: {err}") from None
    _refuse_moved_keys(values)
    _validate(values, partial=True)
    return Given(values)


def plain(config) -> dict:
    """A configuration (or part of one) as plain dicts, for JSON."""
    return copy.deepcopy(config._values if isinstance(config, Given) else dict(config))


def _validate(config: dict, partial: bool = False) -> None:
    import jsonschema  # here: a command given no settings validates nothing, and its import takes 0.1 s

    schema = {**SCHEMA, "required": []} if partial else SCHEMA
    # jsonschema.validate would check the schema itself first, at every call: tests/test_settings.py does
    err = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(schema)(schema).iter_errors(config))
    if err is not None:
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise SettingsError(f"invalid configuration at {where}: {err.message}")


def _refuse_moved_keys(config: dict) -> None:
    for path, new in MOVED.items():
        section = config
        for key in path[:-1]:
            section = section.get(key) if isinstance(section, dict) else None
        if isinstance(section, dict) and path[-1] in section:
            raise SettingsError(f"{'.'.join(path)}: this key has moved to {new} (see config/README.md)")
    if isinstance(config.get("tasks"), list):
        raise SettingsError(
            "tasks: now a section per task, e.g. tasks: {alpha: {dims: [1], folds: [0, 1, 2]}, "
            "diffusion_model: {dims: [1, 2, 3], folds: [0]}} (see config/README.md)"
        )


def default(*path: str):
    """The schema's (paper) default of one key, e.g. default("ensemble", "clip")."""
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return node["default"]


SHARED_MODEL_KEYS = ("hidden_size", "num_layers", "dropout")  # the LSTM every kind ends in, and the head


def model_settings(config, task: str = "alpha", axes: int = 1) -> dict:
    """The settings a network is built from and saved with: its encoder's kind, the head its task
    names (`output`), the shared LSTM keys, its own kind's section (never another kind's keys), what
    the head is over (the alpha grid, the classes), and `axes` for a network reading d > 1 axes."""
    section = TASKS[task].model_section(config)
    kind = section["kind"]
    if TASKS[task].per_frame:  # framewise.py: one head, what the kind's section and min_length say
        return dict(kind=kind, dropout=section["dropout"], min_length=section["min_length"], **section[kind])
    head = TASKS[task].head(section)
    settings = dict(kind=kind, output=head, **{k: section[k] for k in SHARED_MODEL_KEYS}, **section.get(kind, {}))
    settings.update(TASKS[task].head_settings(config))
    if axes > 1:
        settings["axes"] = axes
    return settings


def digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _fill_defaults(schema: dict, value) -> None:
    if not isinstance(value, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        sub = SCHEMA["$defs"][sub["$ref"].rsplit("/", 1)[1]] if "$ref" in sub else sub
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            _fill_defaults(sub, value[key])
