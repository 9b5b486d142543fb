rule train:
    input:
        shards_of_length,
    output:
        model="results/models/L{length}/fold{fold}.pt",
        history="results/models/L{length}/fold{fold}.csv",
    params:
        settings=training_settings(),
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpus(),
        runtime=train_runtime,
        mem_mb=train_mem_mb,
    conda:
        "../../envs/andiflow.yaml"
    log:
        "results/logs/train/L{length}_fold{fold}.log",
    shell:
        "andiflow train {input} --fold {wildcards.fold} -o {output.model} --history {output.history}"
        " --device {params.device} --threads {threads} --settings '{params.settings}' > {log} 2>&1"
