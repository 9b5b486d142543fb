rule train:
    input:
        shards=shards_of_length,
        init=warm_start_model,
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
        "andiflow train {input.shards} {params.init} --fold {wildcards.fold} -o {output.model} --history {output.history}"
        " --device {params.device} --threads {threads} --settings '{params.settings}' > {log} 2>&1"
