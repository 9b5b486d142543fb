# The only place that knows paths, lengths, shards and folds, and which settings each step sees.
import json
import math
import os

from andiflow import (
    CALIBRATION_VERSION,
    EXPORT_VERSION,
    GENERATOR_VERSION,
    INFERENCE_VERSION,
    POPULATION_VERSION,
    TRAINER_VERSION,
)
from andiflow.settings import KINDS
from andiflow.shards import plan
from andiflow.tasks import TASKS
from andiflow.tasks.segments import RECIPES

LENGTHS = dict(config["data"]["lengths"])
WHOLE_TRACK_TASKS = [t for t in TASKS if not TASKS[t].per_frame]  # segments has rules of its own


wildcard_constraints:
    task="|".join(WHOLE_TRACK_TASKS),
    other_task="|".join(t for t in WHOLE_TRACK_TASKS if t != "alpha"),
    length=r"\d+",
    shard=r"\d+",
    fold=r"\d+",
    dim=r"[123]",
    name=r"[A-Za-z0-9_-]+",


def n_trajectories(wildcards):
    return LENGTHS[int(wildcards.length)]


def shard_plan(wildcards):
    return plan(n_trajectories(wildcards), config["data"]["shard_size"])


SHARD = "results/shards/{dim}D/L{length}/shard{shard}.h5"


def shards_of_length(wildcards):
    """The shards a training job reads: those of its length and dimension, whatever its task."""
    shards = range(len(shard_plan(wildcards)))
    return expand(SHARD, dim=wildcards.dim, length=wildcards.length, shard=shards)


def shard_file():
    """Shards are kept unless data.keep_shards is false: then each is deleted once its networks are
    trained, and trained networks stay up to date without them (how committed networks are continued)."""
    return SHARD if config["data"]["keep_shards"] else temp(SHARD)


def model_file(task, dim, length, fold, suffix="pt"):
    """A trained network (.pt), its ONNX export (.onnx) or its epoch table (.csv), in the one layout."""
    return f"results/models/{task}/{dim}D/L{length}/fold{fold}.{suffix}"


def trained(suffix, tasks=None, dims=None):
    """Every trained network's file of the tasks (default: the configuration's), all lengths, each
    task's dimensions (or those of `dims` among them) and folds."""
    return [
        model_file(task, dim, length, fold, suffix)
        for task, section in config["tasks"].items()
        if task in WHOLE_TRACK_TASKS and (tasks is None or task in tasks)
        for dim in section["dims"]
        if dims is None or dim in dims
        for length in LENGTHS
        for fold in section["folds"]
    ]


def task_networks(wildcards):
    return trained("pt", [wildcards.task])


def warm_start_model(wildcards):
    """The network a training job starts from (train.warm_start): the same task's, dimension's and
    fold's network of the nearest shorter length ("chain"), or of one base length (a length: the
    star); none for HNU (null)."""
    mode, length = config["train"]["warm_start"], int(wildcards.length)
    shorter = [L for L in sorted(LENGTHS) if L < length]
    source = (shorter[-1] if shorter else None) if mode == "chain" else mode
    if source is None or source == length:
        return []
    # ancient: retraining the source (or a fresh clone's file dates) does not retrain what started
    # from it; a different source does, through the params.
    return ancient(model_file(wildcards.task, wildcards.dim, source, wildcards.fold))


def init_option(wildcards, input):
    return f"--init {input.init}" if input.init else ""


def settings_json(**sections):
    """The --settings a step is given: only what determines its output, so that a change elsewhere
    in the config does not rerun it (Snakemake reruns a job whose params changed)."""
    return json.dumps(sections, sort_keys=True)


def baked(*keys):
    """Keys of the `ensemble` section: how the networks are exported and combined."""
    return {k: config["ensemble"][k] for k in keys}


def recipe_settings():
    """The data recipe: what every simulated set depends on (the shard size only shapes training data)."""
    return {k: config["data"][k] for k in ("alphas", "noise_sigmas")}


def shard_settings():
    return {**recipe_settings(), "shard_size": config["data"]["shard_size"]}


def shard_provenance(wildcards):
    """Everything that determines a shard's content, for the between-workflow cache key."""
    dim = int(wildcards.dim)
    return settings_json(
        seed=config["seed"],
        data=shard_settings(),
        length=int(wildcards.length),
        shard=int(wildcards.shard),
        rows=shard_rows(wildcards),
        generator_version=GENERATOR_VERSION,
        **({"dim": dim} if dim > 1 else {}),  # the keys 1D shards have always had
    )


def backend():
    """Networks run in PyTorch on a GPU, else in ONNX Runtime (as users' predictions do)."""
    return "torch" if config["device"] == "cuda" else "onnx"


def gpus():
    """GPUs a job asks for: one when the configured device is CUDA (training, calibration, prediction)."""
    return 1 if config["device"] == "cuda" else 0


def training_settings():
    """The network's own kind only (another kind's section does not retrain it), and the alpha grid
    that a distribution output is over."""
    model = {k: v for k, v in config["model"].items() if k not in KINDS or k == config["model"]["kind"]}
    return settings_json(
        seed=config["seed"], data={"alphas": config["data"]["alphas"]}, model=model, train=config["train"]
    )


def input_file(kind):
    def get(wildcards):
        return config["inputs"][wildcards.name][kind]

    return get


def is_table(files):
    """A tracker's file (.csv, .tsv, .xml: predicted one row per particle), not a task1.txt."""
    return files["trajectories"].lower().endswith((".csv", ".tsv", ".xml"))


def prediction_files():
    return [
        f"results/predictions/{name}.{'csv' if is_table(files) else 'txt'}" for name, files in config["inputs"].items()
    ]


def evaluated_inputs():
    """Inputs in the challenge's format that come with a reference."""
    return [name for name, files in config["inputs"].items() if "reference" in files and not is_table(files)]


def other_tasks():
    """The tasks beside alpha that the configuration trains."""
    return [task for task in config["tasks"] if task in WHOLE_TRACK_TASKS and task != "alpha"]


def task_evaluations():
    """The evaluations (and confusion figures) of the other tasks on the inputs with a reference."""
    names = evaluated_inputs()
    return [f"results/evaluation/{n}.{task}.json" for task in other_tasks() for n in names] + [
        f"results/report/{n}_confusion.png" for n in names if "diffusion_model" in config["tasks"]
    ]


def compared_predictions(wildcards):
    """The shipped ensemble's predictions of the same file, when evaluate.compare_shipped."""
    if not config["evaluate"]["compare_shipped"]:
        return {}
    return {"shipped": f"results/predictions/{wildcards.name}.shipped.txt"}


def compare_option(wildcards, input):
    return f"--compare shipped={input.shipped}" if "shipped" in input.keys() else ""


def shipped_manifest():
    """The manifest of the ensemble andiflow ships as its default (what `predict_shipped` runs)."""
    from andiflow.api import DEFAULT, SHIPPED

    return str(SHIPPED / DEFAULT / "manifest.json")


def interval_table(wildcards):
    """The calibrated intervals (beyond HNU), unless intervals.level is null."""
    return {} if config["intervals"]["level"] is None else {"intervals": "results/intervals/intervals.json"}


def temperature_table(wildcards):
    """The diffusion_model task's temperatures, when the workflow trains that task."""
    return {"temperature": "results/calibrate/temperature.json"} if "diffusion_model" in config["tasks"] else {}


def testset_evaluations(wildcards):
    """The test set's evaluations the card and the shipped ensemble quote."""
    files = {"evaluation": "results/evaluation/testset.json"}
    if "diffusion_model" in config["tasks"]:
        files["model_evaluation"] = "results/evaluation/testset.diffusion_model.json"
    return files


def population_network(wildcards):
    """The ensemble's population networks (population.smk): where population.train is true, the first,
    and the one that reads a localisation precision where population.precision.train is true too."""
    if not config["population"]["train"]:
        return {}
    precision = ["results/population/network_precision"] if config["population"]["precision"]["train"] else []
    return {"population": ["results/population/network", *precision]}


def population_settings(network):
    """The training settings of one population network (population.smk): the first's leave out the second's."""
    population = config["population"]
    if network != "network_precision":
        population = {k: v for k, v in population.items() if k != "precision"}
    return settings_json(seed=config["seed"], intervals={"level": config["intervals"]["level"]}, population=population)


def population_files():
    """The population and its figure of each table of tracks among the inputs, where there is a network."""
    if not config["population"]["train"]:
        return []
    tables = [name for name, files in config["inputs"].items() if is_table(files)]
    return expand(["results/populations/{name}.csv", "results/report/{name}_population.png"], name=tables)


def option(flag, key):
    """params: `flag <the input named key>` when the rule has that optional input, else nothing."""

    def get(wildcards, input):
        return f"{flag} {input[key]}" if key in input.keys() else ""

    return get


def interval_level_option():
    level = config["intervals"]["level"]
    return "" if level is None else f"--interval {level}"


def calibration_set(wildcards):
    """HNU's external set, unless calibrate.scale fixes the scale."""
    if config["calibrate"]["scale"] is not None:
        return {}
    return {"trajectories": "results/sets/calibration/task1.txt", "reference": "results/sets/calibration/ref1.txt"}


def calibration_set_args(wildcards, input):
    return " ".join(f"--{k} {input[k]}" for k in ("trajectories", "reference") if k in input.keys())


def set_settings(wildcards):
    """What a held-out set is made of: the recipe, the seed and its section of `sets`."""
    return settings_json(
        seed=config["seed"], data=recipe_settings(), sets={wildcards.set: config["sets"][wildcards.set]}
    )


# what made the networks, recorded in the networks' manifest
MADE_BY = ("name", "seed", "device", "threads", "workdir", "tasks", "data", "model", "train", "ensemble")


def models_settings():
    return settings_json(**{k: config[k] for k in MADE_BY})


def ensemble_settings():
    """What made the ensemble, its calibration and its sets included (for its manifest and card)."""
    return settings_json(**{k: config[k] for k in (*MADE_BY, "sets", "calibrate", "intervals")})


def rebuild_command():
    """The command that made this run's ensemble (its config files and --config values), for its manifest."""
    files = [os.path.relpath(f, workflow.basedir) for f in workflow.overwrite_configfiles]
    values = list(workflow.config_settings.config_args or [])
    return " ".join(
        [
            "snakemake --cores all",
            *(["--configfile", *files] if files else []),
            *(["--config", *values] if values else []),
        ]
    )


def ship_folder():
    """Where `snakemake ship` puts the ensemble: the package's ensembles/<name>, from the workdir."""
    return os.path.relpath(os.path.join(workflow.basedir, "src", "andiflow", "ensembles", config["name"]))


def model_card():
    """The ensemble's card, written from the evaluation of the generated test set."""
    return ["results/card/MODEL_CARD.md"] if "testset" in evaluated_inputs() else []


def print_evaluations():
    from pathlib import Path

    from andiflow.evaluate import model_summary, summary

    for name in evaluated_inputs():
        for path, text in (
            (f"results/evaluation/{name}.json", summary),
            (f"results/evaluation/{name}.diffusion_model.json", model_summary),
        ):
            if Path(path).exists():  # not when the run built other targets only
                print(f"\n{text(json.loads(Path(path).read_text()))}")


# Job sizes, for schedulers such as SLURM (a local run ignores them unless --resources limits them).
# From speeds we measured: andi-datasets takes ~25 us + 0.75 us per point for one trajectory on one
# core; the LSTM trains at ~min(130k, 31M / L) samples/s on one H100 and ~90k / L per CPU thread.
# Runtimes carry a margin of 1.5-3x; a training job that still runs out resumes from its last epoch.
def shard_rows(wildcards):
    return shard_plan(wildcards)[int(wildcards.shard)]


def generate_runtime(wildcards):
    seconds = shard_rows(wildcards) * (25 + 0.75 * int(wildcards.dim) * int(wildcards.length)) * 1e-6
    return 10 + math.ceil(3 * seconds / 60)


def shard_mem_mb(wildcards):
    values = shard_rows(wildcards) * int(wildcards.dim) * (int(wildcards.length) + 1)
    return 1000 + math.ceil(values * 8 * 4 / 1e6)


def train_runtime(wildcards):
    length = int(wildcards.length)
    if config["device"] == "cuda":
        rate = min(130e3, 31e6 / length)
    else:
        rate = 90e3 / length * config["threads"]
    epochs = config["train"]["max_epochs"] or 40
    return 15 + math.ceil(1.5 * epochs * n_trajectories(wildcards) / rate / 60)


def train_mem_mb(wildcards):
    values = n_trajectories(wildcards) * int(wildcards.dim) * int(wildcards.length)
    return 4000 + math.ceil(values * 4 * 3 / 1e6)


def alpha_targets():
    """The alpha ensemble (and the diffusion model's networks in it), its predictions, evaluations,
    card and report, when the configuration trains alpha."""
    if "alpha" not in config["tasks"]:
        return []
    return [
        "results/ensemble",
        prediction_files(),
        expand("results/evaluation/{name}.json", name=evaluated_inputs()),
        task_evaluations(),
        model_card(),
        *population_network(None).values(),
        population_files(),
        "results/report/training_curves.png",
        "results/report/calibration.png",
        expand("results/report/{name}_predicted_vs_true.png", name=evaluated_inputs()),
    ]


# The segments task's data, networks and sets (workflow/rules/segments.smk).
SEGMENTS = config["segments"]
SEGMENTS_LENGTH = SEGMENTS["data"]["length"]
SEGMENTS_SHARD = "results/shards/segments/L{length}/shard{shard}.h5"
SEGMENTS_TESTS = ("defaults", "varied", "benchmark")  # the recipes the test set is made in


def segments_shards(wildcards=None):
    rows = plan(SEGMENTS["data"]["tracks"], config["data"]["shard_size"])
    return expand(SEGMENTS_SHARD, length=SEGMENTS_LENGTH, shard=range(len(rows)))


def segments_rows(wildcards):
    return plan(SEGMENTS["data"]["tracks"], config["data"]["shard_size"])[int(wildcards.shard)]


def segments_members():
    folds = config["tasks"].get("segments", {}).get("folds", [])
    return [model_file("segments", 2, SEGMENTS_LENGTH, fold, "onnx") for fold in folds]


def segments_targets():
    if "segments" not in config["tasks"]:
        return []
    return (
        ["results/segments/ensemble"]
        + expand("results/evaluation/segments/test_{recipe}.json", recipe=SEGMENTS_TESTS)
        + expand("results/report/segments_test_{recipe}.png", recipe=SEGMENTS_TESTS)
    )
