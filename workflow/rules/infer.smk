# A task1.txt gives {name}.txt (dim;alpha;alpha_std), a CSV table of tracks {name}.csv (one row per particle).
rule predict:
    input:
        trajectories=input_file("trajectories"),
        models=all_models(),
        scale="results/calibration/scale.json",
    output:
        "results/predictions/{name}.{ext}",
    wildcard_constraints:
        ext="txt|csv",
    params:
        settings=settings_json(infer=inference_section()),
        folds=FOLDS,
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpus(),
    conda:
        "../../envs/andiflow.yaml"
    log:
        "results/logs/predict/{name}.{ext}.log",
    shell:
        "andiflow predict {input.trajectories} -o {output} --with-std --models results/models --folds {params.folds}"
        " --scale {input.scale} --device {params.device} --threads {threads} --settings '{params.settings}' > {log} 2>&1"
