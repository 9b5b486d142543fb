# One network per (task, dimension, length, fold), on the shards of its length and dimension: alpha's
# 1D networks are HNU's; its 2D and 3D ones (tasks.alpha.dims) and the diffusion model's classifiers
# (tasks.diffusion_model) read all axes at once.
rule train:
    input:
        shards=shards_of_length,
        init=warm_start_model,
    output:
        model="results/models/{task}/{dim}D/L{length}/fold{fold}.pt",
        history="results/models/{task}/{dim}D/L{length}/fold{fold}.csv",
    log:
        "results/logs/train/{task}_{dim}D_L{length}_fold{fold}.log",
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
        "andiflow-step train {input.shards} {params.init} --task {wildcards.task} --fold {wildcards.fold}"
        " -o {output.model} --history {output.history} --device {params.device} --threads {threads}"
        " --settings {params.settings:q} > {log} 2>&1"


# Each network as the ONNX file prediction runs, of every task.
rule export:
    input:
        "results/models/{task}/{dim}D/L{length}/fold{fold}.pt",
    output:
        "results/models/{task}/{dim}D/L{length}/fold{fold}.onnx",
    log:
        "results/logs/export/{task}_{dim}D_L{length}_fold{fold}.log",
    wildcard_constraints:
        task="|".join(TASKS),  # the segments task's networks too
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=settings_json(ensemble=baked("onnx_weights", "median")),
        export_version=EXPORT_VERSION,
    shell:
        "andiflow-step export {input} -o {output} --settings {params.settings:q} > {log} 2>&1"


# One task's networks alone, e.g. `snakemake results/models/diffusion_model.trained` to add the
# classifiers to alpha networks already trained whose shards are gone.
rule task_networks:
    input:
        task_networks,
    output:
        touch("results/models/{task}.trained"),
