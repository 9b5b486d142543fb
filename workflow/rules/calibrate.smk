rule calibration_set:
    output:
        trajectories="results/calibration/set/task1.txt",
        reference="results/calibration/set/ref1.txt",
    params:
        settings=settings_json(seed=config["seed"], data=recipe_settings(), calibrate=config["calibrate"]),
    conda:
        "../../envs/andiflow.yaml"
    log:
        "results/logs/calibration_set.log",
    shell:
        "andiflow testset --purpose calibration -o results/calibration/set --settings '{params.settings}' > {log} 2>&1"


rule calibrate:
    input:
        unpack(lambda wildcards: calibration_set()),
        models=all_models(),
    output:
        "results/calibration/scale.json",
    params:
        settings=settings_json(calibrate=config["calibrate"], infer=inference_section()),
        set_args=" ".join(f"--{k} {v}" for k, v in calibration_set().items()),
        folds=FOLDS,
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpus(),
    conda:
        "../../envs/andiflow.yaml"
    log:
        "results/logs/calibrate.log",
    shell:
        "andiflow calibrate {params.set_args} --models results/models --folds {params.folds}"
        " --device {params.device} --threads {threads} -o {output} --settings '{params.settings}' > {log} 2>&1"
