# The only place that knows paths, lengths, shards and folds, and which settings each step sees.
import json
import math
from pathlib import Path

from andiflow import GENERATOR_VERSION

LENGTHS = dict(config["data"]["lengths"])
FOLDS = config["train"]["folds_used"]


wildcard_constraints:
    length=r"\d+",
    shard=r"\d+",
    fold=r"\d+",


def n_trajectories(wildcards):
    return LENGTHS[int(wildcards.length)]


def shards_of_length(wildcards):
    n_shards = math.ceil(n_trajectories(wildcards) / config["data"]["shard_size"])
    return expand("results/shards/L{length}/shard{shard}.h5", length=wildcards.length, shard=range(n_shards))


def all_histories():
    return expand("results/models/L{length}/fold{fold}.csv", length=LENGTHS, fold=FOLDS)


def all_models():
    return expand("results/models/L{length}/fold{fold}.pt", length=LENGTHS, fold=FOLDS)


def settings_json(**sections):
    """The --settings a step is given: only what determines its output, so that a change elsewhere
    in the config does not rerun it (Snakemake reruns a job whose params changed)."""
    return json.dumps(sections, sort_keys=True)


def recipe_settings():
    data = config["data"]
    return {k: data[k] for k in ("shard_size", "alphas", "noise_sigmas")}


def shard_provenance(wildcards):
    """Everything that determines a shard's content, for the between-workflow cache key."""
    return settings_json(seed=config["seed"], data=recipe_settings(), length=int(wildcards.length),
                         shard=int(wildcards.shard), rows=shard_rows(wildcards),
                         generator_version=GENERATOR_VERSION)


def gpus():
    """GPUs a job asks for: one when the configured device is CUDA (training, calibration, prediction)."""
    return 1 if config["device"] == "cuda" else 0


def training_settings():
    train = {k: v for k, v in config["train"].items() if k != "folds_used"}
    return settings_json(seed=config["seed"], model=config["model"], train=train,
                         infer={"batch_values": config["infer"]["batch_values"]})


def inference_section():
    return {k: config["infer"][k] for k in ("clip", "batch_values")}


def input_file(kind):
    def get(wildcards):
        return config["infer"]["inputs"][wildcards.name][kind]

    return get


def is_table(files):
    """A CSV table of tracks (predicted one row per particle), not a task1.txt."""
    return files["trajectories"].lower().endswith(".csv")


def prediction_files():
    return [f"results/predictions/{name}.{'csv' if is_table(files) else 'txt'}"
            for name, files in config["infer"]["inputs"].items()]


def evaluated_inputs():
    """Inputs in the challenge's format that come with a reference."""
    return [name for name, files in config["infer"]["inputs"].items()
            if "reference" in files and not is_table(files)]


def calibration_set():
    if config["calibrate"]["scale"] is not None:
        return {}
    return {"trajectories": "results/calibration/set/task1.txt", "reference": "results/calibration/set/ref1.txt"}


def print_evaluations():
    from andiflow.evaluate import summary

    for name in evaluated_inputs():
        path = Path(f"results/evaluation/{name}.json")
        if path.exists():  # not when the run built other targets only
            print(f"\n{summary(json.loads(path.read_text()))}")


# Job sizes, for schedulers such as SLURM (a local run ignores them unless --resources limits them).
# From speeds we measured: andi-datasets takes ~25 us + 0.75 us per point for one trajectory on one
# core; the LSTM trains at ~min(130k, 31M / L) samples/s on one H100 and ~90k / L per CPU thread.
# Runtimes carry a margin of 1.5-3x; a training job that still runs out resumes from its last epoch.
def shard_rows(wildcards):
    size = config["data"]["shard_size"]
    return min(size, n_trajectories(wildcards) - int(wildcards.shard) * size)


def generate_runtime(wildcards):
    seconds = shard_rows(wildcards) * (25 + 0.75 * int(wildcards.length)) * 1e-6
    return 10 + math.ceil(3 * seconds / 60)


def shard_mem_mb(wildcards):
    return 1000 + math.ceil(shard_rows(wildcards) * (int(wildcards.length) + 1) * 8 * 4 / 1e6)


def train_runtime(wildcards):
    length = int(wildcards.length)
    if config["device"] == "cuda":
        rate = min(130e3, 31e6 / length)
    else:
        rate = 90e3 / length * config["threads"]
    epochs = config["train"]["max_epochs"] or 40
    return 15 + math.ceil(1.5 * epochs * n_trajectories(wildcards) / rate / 60)


def train_mem_mb(wildcards):
    return 4000 + math.ceil(n_trajectories(wildcards) * int(wildcards.length) * 4 * 3 / 1e6)
