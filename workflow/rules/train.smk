rule train:
    input:
        shards=shards_of_length,
        init=warm_start_model(),
    output:
        model="results/models/L{length}/fold{fold}.pt",
        history="results/models/L{length}/fold{fold}.csv",
    log:
        "results/logs/train/L{length}_fold{fold}.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        runtime=train_runtime,
        mem_mb=train_mem_mb,
    params:
        settings=training_settings(),
        # not used by the command: a change of andiflow's training code changes it, and so retrains
        trainer_version=TRAINER_VERSION,
        init=init_option,
        device=config["device"],
    shell:
        train_command()


# Alpha's networks of 2D and 3D (alpha_dims, beyond HNU): the same recipe on shards of their own
# dimension, all axes read at once; HNU reads such a trajectory axis by axis with the 1D networks.
use rule train as train_axes with:
    output:
        model=model_file("alpha", "{length}", "{fold}", "{dim}"),
        history=model_file("alpha", "{length}", "{fold}", "{dim}", "csv"),
    log:
        "results/logs/train/{dim}D_L{length}_fold{fold}.log",


# The model task (Task 2, beyond HNU): the same encoder, lengths and folds, a classifier head, one
# classifier per dimension reading its own shards, all axes at once (a 2D Levy walk's x axis alone,
# read by a classifier trained on 1D walks, is taken for fbm: benchmarks/classifier_axes.py).
rule train_classifier:
    input:
        shards=shards_of_length,
        init=warm_start_model("model"),
    output:
        model=model_file("model", "{length}", "{fold}", "{dim}"),
        history=model_file("model", "{length}", "{fold}", "{dim}", "csv"),
    log:
        "results/logs/train/model_{dim}D_L{length}_fold{fold}.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        runtime=train_runtime,
        mem_mb=train_mem_mb,
    params:
        settings=training_settings(),
        trainer_version=TRAINER_VERSION,
        init=init_option,
        device=config["device"],
    shell:
        train_command(" --task model")


# The classifiers alone: how to add the model task to alpha models already trained whose shards are
# gone (in the same run as `all`, remade shards would retrain the alpha models too).
rule classifiers:
    input:
        all_models(["model"]),
