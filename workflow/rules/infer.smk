# A task1.txt gives {name}.txt (dim;alpha;alpha_std;low;high), a table of tracks {name}.csv (one row per
# particle). `{name}.shipped.txt` is the same task1.txt predicted with the ensemble andiflow ships;
# `{name}.<task>.txt` the challenge lines of another task (Task 2: dim;p_attm;p_ctrw;p_fbm;p_lw;p_sbm).
rule predict:
    input:
        trajectories=input_file("trajectories"),
        ensemble="results/ensemble",
    output:
        "results/predictions/{name}.{ext}",
    log:
        "results/logs/predict/{name}.{ext}.log",
    wildcard_constraints:
        ext="txt|csv",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        settings=settings_json(batch_values=config["batch_values"]),
        code=INFERENCE_VERSION,
        interval=interval_level_option(),
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow predict {input.trajectories:q} -o {output} --with-std {params.interval} --models {input.ensemble}"
        " --backend {params.backend} --device {params.device} --threads {threads} --settings {params.settings:q}"
        " > {log} 2>&1"


rule predict_shipped:
    input:
        trajectories=input_file("trajectories"),
        ensemble=shipped_manifest(),
    output:
        "results/predictions/{name}.shipped.txt",
    log:
        "results/logs/predict/{name}.shipped.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        settings=settings_json(batch_values=config["batch_values"]),
        code=INFERENCE_VERSION,
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow predict {input.trajectories:q} -o {output} --models {input.ensemble:q} --backend {params.backend}"
        " --device {params.device} --threads {threads} --settings {params.settings:q} > {log} 2>&1"


rule predict_task:
    input:
        trajectories=input_file("trajectories"),
        ensemble="results/ensemble",
    output:
        "results/predictions/{name}.{other_task}.txt",
    log:
        "results/logs/predict/{name}.{other_task}.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        settings=settings_json(batch_values=config["batch_values"]),
        code=INFERENCE_VERSION,
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow predict {input.trajectories:q} --task {wildcards.other_task} -o {output} --models {input.ensemble}"
        " --backend {params.backend} --device {params.device} --threads {threads} --settings {params.settings:q}"
        " > {log} 2>&1"
