# The only place that knows paths, lengths, shards and folds, and which settings each step sees.
import json
import math

MODELS_DIR = "results/models"
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


def all_models():
    return expand(MODELS_DIR + "/L{length}/fold{fold}.pt", length=LENGTHS, fold=FOLDS)


def settings_json(**sections):
    """The --settings a step is given: only what determines its output, so that a change elsewhere
    in the config does not rerun it (Snakemake reruns a job whose params changed)."""
    return json.dumps(sections, sort_keys=True)


def recipe_settings():
    data = config["data"]
    return {k: data[k] for k in ("shard_size", "alphas", "noise_sigmas")}


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


def evaluated_inputs():
    return [name for name, files in config["infer"]["inputs"].items() if "reference" in files]


def calibration_set():
    if config["calibrate"]["scale"] is not None:
        return {}
    return {"trajectories": "results/calibration/set/task1.txt", "reference": "results/calibration/set/ref1.txt"}


def print_evaluations():
    from andiflow.evaluate import summary

    for name in evaluated_inputs():
        with open(f"results/evaluation/{name}.json") as f:
            print("\n" + summary(json.load(f)))
