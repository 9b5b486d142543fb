# The external sets (HNU's 1D calibration set for the scale; a 1D/2D/3D held-out set for the
# intervals), the scale, the interval table, and the ensemble folder that prediction reads.
rule models_manifest:
    input:
        models=all_models(config["tasks"]),
        histories=all_histories(config["tasks"]),
    output:
        "results/models/manifest.json",
    log:
        "results/logs/models_manifest.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=models_settings(),
        name=config["name"],
        command=rebuild_command(),
    shell:
        "andiflow ensemble {input.models} -o results/models --name {params.name} --command '{params.command}'"
        " --settings '{params.settings}' > {log} 2>&1"


rule external_set:
    output:
        trajectories="results/{purpose}/set/task1.txt",
        reference="results/{purpose}/set/ref1.txt",
    log:
        "results/logs/{purpose}_set.log",
    wildcard_constraints:
        purpose="calibrate|intervals",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=external_set_settings,
    shell:
        "andiflow testset --purpose {wildcards.purpose} -o results/{wildcards.purpose}/set"
        " --settings '{params.settings}' > {log} 2>&1"


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
        settings=settings_json(calibrate=config["calibrate"], infer=inference_section()),
        set_args=calibration_set_args,
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow calibrate {params.set_args} --models results/models --backend {params.backend} --device {params.device}"
        " --threads {threads} -o {output} --settings '{params.settings}' > {log} 2>&1"


rule intervals:
    input:
        trajectories="results/intervals/set/task1.txt",
        reference="results/intervals/set/ref1.txt",
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
        settings=settings_json(intervals=config["intervals"], infer=inference_section()),
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow intervals --trajectories {input.trajectories} --reference {input.reference} --scale {input.scale}"
        " --models results/models --backend {params.backend} --device {params.device} --threads {threads} -o {output}"
        " --settings '{params.settings}' > {log} 2>&1"


# The model task's temperature per dimension, on the same held-out set as the intervals.
rule temperature:
    input:
        trajectories="results/intervals/set/task1.txt",
        reference="results/intervals/set/ref1.txt",
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
        settings=settings_json(infer=inference_section()),
        device=config["device"],
        backend=backend(),
    shell:
        "andiflow temperature --trajectories {input.trajectories} --reference {input.reference} --models results/models"
        " --backend {params.backend} --device {params.device} --threads {threads} -o {output}"
        " --settings '{params.settings}' > {log} 2>&1"


rule ensemble:
    input:
        unpack(interval_table),
        unpack(temperature_table),
        models=all_models(config["tasks"]),
        histories=all_histories(config["tasks"]),
        scale="results/calibrate/scale.json",
    output:
        "results/ensemble/manifest.json",
    log:
        "results/logs/ensemble.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=ensemble_settings(),
        intervals=option("--intervals", "intervals"),
        temperature=option("--temperature", "temperature"),
        name=config["name"],
        command=rebuild_command(),
    shell:
        "andiflow ensemble {input.models} -o results/ensemble --name {params.name} --command '{params.command}'"
        " --scale {input.scale} {params.intervals} {params.temperature} --settings '{params.settings}' > {log} 2>&1"


rule card:
    input:
        unpack(model_evaluation_of_testset),
        ensemble="results/ensemble/manifest.json",
        evaluation="results/evaluation/testset.json",
    output:
        card="results/ensemble/MODEL_CARD.md",
        evaluation="results/ensemble/evaluation.json",
    log:
        "results/logs/card.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        models=option("--model-evaluation", "models"),
    shell:
        "andiflow card results/ensemble --evaluation {input.evaluation} {params.models} > {log} 2>&1"
