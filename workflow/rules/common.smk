# The only place that knows paths, lengths, shards and folds, and which settings each step sees.
import json
import math
import os
from pathlib import Path

from andiflow import GENERATOR_VERSION, TRAINER_VERSION
from andiflow.shards import plan
from andiflow.settings import KINDS
from andiflow.tasks import TASKS

LENGTHS = dict(config["data"]["lengths"])
FOLDS = config["train"]["folds_used"]
FOLDS_OF = {"alpha": FOLDS, "model": config["model_folds"] or FOLDS}  # each task's folds
DIMS = (1, 2, 3)  # the model task trains classifiers of each, reading all axes at once
ALPHA_DIMS = config["alpha_dims"]  # alpha's networks: 1D (HNU's), and of 2D and 3D where asked


wildcard_constraints:
    length=r"\d+",
    shard=r"\d+",
    fold=r"\d+",
    dim=r"[123]",
    name=r"[A-Za-z0-9_-]+",


def n_trajectories(wildcards):
    return LENGTHS[int(wildcards.length)]


def shard_plan(wildcards):
    return plan(n_trajectories(wildcards), config["data"]["shard_size"])


def shard_path(dim_folder=""):
    """1D shards (HNU's data: alpha's and the 1D classifiers') in results/shards/L<length>, where they
    have always been; the 2D and 3D ones (the model task's, alpha_dims') in results/shards/<d>D/L<length>."""
    return f"results/shards/{dim_folder}L{{length}}/shard{{shard}}.h5"


def shards_of_length(wildcards):
    """The shards a training job reads: 1D (HNU's data), or its own dimension's (networks of 2D/3D)."""
    n_shards = len(shard_plan(wildcards))
    dim = dim_of(wildcards)
    return expand(shard_path("" if dim == 1 else f"{dim}D/"), length=wildcards.length, shard=range(n_shards))


def shard_file(dim_folder=""):
    """Shards are kept unless data.keep_shards is false: then each is deleted once its models are
    trained, and trained models stay up to date without them (how committed models are continued)."""
    path = shard_path(dim_folder)
    return path if config["data"]["keep_shards"] else temp(path)


def dim_of(wildcards) -> int:
    """The dimension a job works in: its `dim` wildcard; 1 for HNU's jobs, which have none."""
    return int(wildcards.get("dim", 1))


def model_file(task, length, fold, dim=1, suffix="pt"):
    """A trained model (.pt) or its epoch table (.csv): results/models/L<length>/fold<k> for HNU's 1D
    alpha networks, results/models/<dim>D/L<length>/fold<k> for alpha's of 2D and 3D (alpha_dims),
    results/models/model/<dim>D/L<length>/fold<k> for the model task's classifiers of each dimension."""
    if task == "alpha":
        folder = "results/models" if dim == 1 else f"results/models/{dim}D"
    else:
        folder = f"results/models/{TASKS[task].folder}/{dim}D"
    return f"{folder}/L{length}/fold{fold}.{suffix}"


def warm_start_model(task="alpha"):
    """The model a training job starts from (train.warm_start): the same task's and fold's model of
    the nearest shorter length ("chain"), or of one base length (a length: the star); none for HNU
    (null)."""

    def get(wildcards):
        mode, length = config["train"]["warm_start"], int(wildcards.length)
        shorter = [L for L in sorted(LENGTHS) if L < length]
        source = (shorter[-1] if shorter else None) if mode == "chain" else mode
        if source is None or source == length:
            return []
        # ancient: retraining the source (or a fresh clone's file dates) does not retrain what started
        # from it; a different source does, through the params.
        return ancient(model_file(task, source, wildcards.fold, dim_of(wildcards)))

    return get


def train_command(task_option=""):
    """The training job's command; the model task adds --task model (alpha's command stays HNU's)."""
    return (
        "andiflow train {input.shards} {params.init} --fold {wildcards.fold} -o {output.model} --history {output.history}"
        + task_option
        + " --device {params.device} --threads {threads} --settings '{params.settings}' > {log} 2>&1"
    )


def init_option(wildcards, input):
    return f"--init {input.init}" if input.init else ""


def trained(suffix, tasks=("alpha",)):
    """Every trained model file (.pt) or epoch table (.csv) of the tasks, all lengths, the task's folds
    and dimensions (alpha's: alpha_dims; the model task's: all three)."""
    return [
        model_file(task, length, fold, dim, suffix)
        for task in tasks
        for dim in (ALPHA_DIMS if task == "alpha" else DIMS)
        for length in LENGTHS
        for fold in FOLDS_OF[task]
    ]


def all_histories(tasks=("alpha",)):
    return trained("csv", tasks)


def all_models(tasks=("alpha",)):
    return trained("pt", tasks)


def settings_json(**sections):
    """The --settings a step is given: only what determines its output, so that a change elsewhere
    in the config does not rerun it (Snakemake reruns a job whose params changed)."""
    return json.dumps(sections, sort_keys=True)


def recipe_settings():
    """The data recipe: what every simulated set depends on (the shard size only shapes training data)."""
    return {k: config["data"][k] for k in ("alphas", "noise_sigmas")}


def shard_settings():
    return {**recipe_settings(), "shard_size": config["data"]["shard_size"]}


def shard_provenance(wildcards):
    """Everything that determines a shard's content, for the between-workflow cache key."""
    return settings_json(
        seed=config["seed"],
        data=shard_settings(),
        length=int(wildcards.length),
        shard=int(wildcards.shard),
        rows=shard_rows(wildcards),
        generator_version=GENERATOR_VERSION,
        **({"dim": dim_of(wildcards)} if dim_of(wildcards) > 1 else {}),  # 1D keys as before
    )


def backend():
    """Models run in PyTorch on a GPU, else in ONNX Runtime (as users' predictions do)."""
    return "torch" if config["device"] == "cuda" else "onnx"


def gpus():
    """GPUs a job asks for: one when the configured device is CUDA (training, calibration, prediction)."""
    return 1 if config["device"] == "cuda" else 0


def training_settings():
    """The model's own kind only (another kind's section does not retrain it), and the alpha grid
    that a distribution output is over."""
    train = {k: v for k, v in config["train"].items() if k != "folds_used"}
    model = {k: v for k, v in config["model"].items() if k not in KINDS or k == config["model"]["kind"]}
    return settings_json(seed=config["seed"], data={"alphas": config["data"]["alphas"]}, model=model, train=train)


def inference_section():
    return {k: config["infer"][k] for k in ("clip", "batch_values")}


def input_file(kind):
    def get(wildcards):
        return config["infer"]["inputs"][wildcards.name][kind]

    return get


def is_table(files):
    """A tracker's file (.csv, .tsv, .xml: predicted one row per particle), not a task1.txt."""
    return files["trajectories"].lower().endswith((".csv", ".tsv", ".xml"))


def prediction_files():
    return [
        f"results/predictions/{name}.{'csv' if is_table(files) else 'txt'}"
        for name, files in config["infer"]["inputs"].items()
    ]


def evaluated_inputs():
    """Inputs in the challenge's format that come with a reference."""
    return [name for name, files in config["infer"]["inputs"].items() if "reference" in files and not is_table(files)]


def compared_predictions(wildcards):
    """The shipped ensemble's predictions of the same file, when evaluate.compare_shipped."""
    if not config["evaluate"]["compare_shipped"]:
        return {}
    return {"shipped": f"results/predictions/{wildcards.name}.shipped.txt"}


def compare_option(wildcards, input):
    return f"--compare shipped={input.shipped}" if "shipped" in input.keys() else ""


def interval_table(wildcards):
    """The calibrated intervals (beyond HNU), unless intervals.level is null."""
    return {} if config["intervals"]["level"] is None else {"intervals": "results/intervals/intervals.json"}


def temperature_table(wildcards):
    """The model task's temperatures, when the workflow trains that task."""
    return {"temperature": "results/calibrate/temperature.json"} if "model" in config["tasks"] else {}


def model_evaluation_of_testset(wildcards):
    """The test set's Task 2 evaluation, for the card, when the workflow trains the model task."""
    return {"models": "results/evaluation/testset.model.json"} if "model" in config["tasks"] else {}


def model_evaluations():
    """The Task 2 evaluations and confusion figures of the inputs with a reference, when the workflow
    trains the model task."""
    if "model" not in config["tasks"]:
        return []
    names = evaluated_inputs()
    return [f"results/evaluation/{n}.model.json" for n in names] + [f"results/report/{n}_confusion.png" for n in names]


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
    return {"trajectories": "results/calibrate/set/task1.txt", "reference": "results/calibrate/set/ref1.txt"}


def calibration_set_args(wildcards, input):
    return " ".join(f"--{k} {input[k]}" for k in ("trajectories", "reference") if k in input.keys())


def external_set_settings(wildcards):
    """What a calibration or interval set is made of: its size and lengths (not the scale grid or the
    interval level, which do not change the trajectories)."""
    section = config[wildcards.purpose]
    keys = ("n", "n_per_dim", "min_length", "max_length", "long_tracks")
    made_of = {k: section[k] for k in keys if section.get(k) is not None}
    return settings_json(seed=config["seed"], data=recipe_settings(), **{wildcards.purpose: made_of})


# the inference keys that `andiflow ensemble` reads: how members are exported and combined
ASSEMBLY_KEYS = ("windows", "onnx_weights", "median")


def models_settings():
    """What made the models, and how they are combined: the settings the models' manifest records."""
    keys = ("name", "seed", "device", "threads", "workdir", "data", "model", "train")
    return settings_json(**{k: config[k] for k in keys}, infer={k: config["infer"][k] for k in ASSEMBLY_KEYS})


def ensemble_settings():
    """What made the ensemble, calibration and its test set included (for its manifest and card)."""
    keys = (
        "name",
        "seed",
        "device",
        "threads",
        "workdir",
        "tasks",
        "alpha_dims",
        "model_folds",
        "data",
        "model",
        "train",
        "calibrate",
        "intervals",
        "testset",
    )
    infer = {k: config["infer"][k] for k in ("clip", *ASSEMBLY_KEYS)}
    return settings_json(**{k: config[k] for k in keys}, infer=infer)


def rebuild_command():
    """The command that made this run's ensemble, for its manifest."""
    files = [os.path.relpath(f, workflow.basedir) for f in workflow.overwrite_configfiles]
    return " ".join(["snakemake --cores all", *(["--configfile", *files] if files else [])])


def model_card():
    """The ensemble's card, written from the evaluation of the generated test set."""
    return ["results/ensemble/MODEL_CARD.md"] if "testset" in evaluated_inputs() else []


def print_evaluations():
    from andiflow.evaluate import model_summary, summary

    for name in evaluated_inputs():
        for path, text in (
            (f"results/evaluation/{name}.json", summary),
            (f"results/evaluation/{name}.model.json", model_summary),
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
    seconds = shard_rows(wildcards) * (25 + 0.75 * dim_of(wildcards) * int(wildcards.length)) * 1e-6
    return 10 + math.ceil(3 * seconds / 60)


def shard_mem_mb(wildcards):
    values = shard_rows(wildcards) * dim_of(wildcards) * (int(wildcards.length) + 1)
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
    values = n_trajectories(wildcards) * dim_of(wildcards) * int(wildcards.length)
    return 4000 + math.ceil(values * 4 * 3 / 1e6)
