# A task1.txt gives {name}.txt (dim;alpha;alpha_std;low;high), a table of tracks {name}.csv (one row per
# particle). `{name}.shipped.txt` is the same task1.txt predicted with the ensemble andiflow ships.
rule predict:
    input:
        trajectories=input_file("trajectories"),
        ensemble="results/ensemble/manifest.json",
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
        settings=settings_json(infer=inference_section()),
        interval=interval_level_option(),
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow predict {input.trajectories} -o {output} --with-std {params.interval} --models results/ensemble"
        " --backend {params.backend} --device {params.device} --threads {threads} --settings '{params.settings}' > {log} 2>&1"


rule predict_shipped:
    input:
        trajectories=input_file("trajectories"),
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
        settings=settings_json(infer=inference_section()),
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow predict {input.trajectories} -o {output} --backend {params.backend} --device {params.device} --threads {threads}"
        " --settings '{params.settings}' > {log} 2>&1"


# Task 2 lines (dim;p_attm;p_ctrw;p_fbm;p_lw;p_sbm) of a task1.txt, from the model task's members.
rule predict_models:
    input:
        trajectories=input_file("trajectories"),
        ensemble="results/ensemble/manifest.json",
    output:
        "results/predictions/{name}.task2.txt",
    log:
        "results/logs/predict/{name}.task2.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        settings=settings_json(infer=inference_section()),
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow predict {input.trajectories} --task model -o {output} --models results/ensemble"
        " --backend {params.backend} --device {params.device} --threads {threads} --settings '{params.settings}' > {log} 2>&1"
