rule predict:
    input:
        trajectories=input_file("trajectories"),
        models=all_models(),
        scale="results/calibration/scale.json",
    output:
        "results/predictions/{name}.txt",
    params:
        settings=settings_json(infer=inference_section()),
        folds=FOLDS,
        device=config["device"],
    threads: config["threads"]
    log:
        "results/logs/predict/{name}.log",
    shell:
        "andiflow predict {input.trajectories} -o {output} --models " + MODELS_DIR + " --folds {params.folds}"
        " --scale {input.scale} --device {params.device} --threads {threads} --settings '{params.settings}' > {log} 2>&1"
