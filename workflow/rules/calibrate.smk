# The networks' manifest, the scale (HNU's, on the external 1D set), the intervals and the
# temperatures (on the interval set), the ensemble folder that prediction reads, its card, and
# `snakemake ship`, which copies it into the package.
rule models_manifest:
    input:
        models=trained("pt"),
        onnx=trained("onnx"),
        histories=trained("csv"),
    output:
        "results/models/manifest.json",
    log:
        "results/logs/models_manifest.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=models_settings(),
        command=rebuild_command(),
    shell:
        "andiflow-step models-manifest {input.models} -o {output} --command {params.command:q}"
        " --settings {params.settings:q} > {log} 2>&1"


rule calibrate:
    input:
        unpack(calibration_set),
        manifest="results/models/manifest.json",
    output:
        "results/calibrate/scale.json",
    log:
        "results/logs/calibrate.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        settings=settings_json(
            calibrate=config["calibrate"], ensemble=baked("clip"), batch_values=config["batch_values"]
        ),
        code=[INFERENCE_VERSION, CALIBRATION_VERSION],
        set_args=calibration_set_args,
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow-step calibrate {params.set_args} --models {input.manifest} --backend {params.backend}"
        " --device {params.device} --threads {threads} -o {output} --settings {params.settings:q} > {log} 2>&1"


rule intervals:
    input:
        trajectories="results/sets/intervals/task1.txt",
        reference="results/sets/intervals/ref1.txt",
        manifest="results/models/manifest.json",
        scale="results/calibrate/scale.json",
    output:
        "results/intervals/intervals.json",
    log:
        "results/logs/intervals.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        settings=settings_json(
            intervals=config["intervals"], ensemble=baked("clip"), batch_values=config["batch_values"]
        ),
        code=[INFERENCE_VERSION, CALIBRATION_VERSION],
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow-step intervals --trajectories {input.trajectories} --reference {input.reference}"
        " --scale {input.scale} --models {input.manifest} --backend {params.backend} --device {params.device}"
        " --threads {threads} -o {output} --settings {params.settings:q} > {log} 2>&1"


rule temperature:
    input:
        trajectories="results/sets/intervals/task1.txt",
        reference="results/sets/intervals/ref1.txt",
        manifest="results/models/manifest.json",
    output:
        "results/calibrate/temperature.json",
    log:
        "results/logs/temperature.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        settings=settings_json(batch_values=config["batch_values"]),
        code=[INFERENCE_VERSION, CALIBRATION_VERSION],
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow-step temperature --trajectories {input.trajectories} --reference {input.reference}"
        " --models {input.manifest} --backend {params.backend} --device {params.device} --threads {threads}"
        " -o {output} --settings {params.settings:q} > {log} 2>&1"


rule ensemble:
    input:
        unpack(interval_table),
        unpack(temperature_table),
        manifest="results/models/manifest.json",
        scale="results/calibrate/scale.json",
    output:
        directory("results/ensemble"),
    log:
        "results/logs/ensemble.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=ensemble_settings(),
        intervals=option("--intervals", "intervals"),
        temperature=option("--temperature", "temperature"),
        command=rebuild_command(),
    shell:
        "andiflow-step ensemble --models {input.manifest} --scale {input.scale} {params.intervals}"
        " {params.temperature} --command {params.command:q} -o {output} --settings {params.settings:q} > {log} 2>&1"


rule card:
    input:
        unpack(testset_evaluations),
        unpack(population_network),
        ensemble="results/ensemble",
    output:
        "results/card/MODEL_CARD.md",
    log:
        "results/logs/card.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        models=option("--model-evaluation", "model_evaluation"),
        population=option("--population", "population"),
    shell:
        "andiflow-step card --ensemble {input.ensemble} --evaluation {input.evaluation} {params.models}"
        " {params.population} -o {output} > {log} 2>&1"


# Not part of `all`: `snakemake ship --cores 1 --configfile ...` puts the ensemble, its card and the
# evaluations it quotes into src/andiflow/ensembles/<name>, exactly the files its manifest names.
rule ship:
    input:
        unpack(testset_evaluations),
        unpack(population_network),
        ensemble="results/ensemble",
        card="results/card/MODEL_CARD.md",
    output:
        # the folder is replaced whole; its manifest stands for it (a directory output would hold
        # Snakemake's timestamp file, which is not the ensemble's)
        f"{ship_folder()}/manifest.json",
    log:
        "results/logs/ship.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        models=option("--model-evaluation", "model_evaluation"),
        population=option("--population", "population"),
    shell:
        "andiflow-step ship --ensemble {input.ensemble} --card {input.card} --evaluation {input.evaluation}"
        " {params.models} {params.population} -o {output:q} > {log} 2>&1"
