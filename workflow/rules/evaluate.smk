rule evaluate:
    input:
        unpack(compared_predictions),
        predictions="results/predictions/{name}.txt",
        reference=input_file("reference"),
        trajectories=input_file("trajectories"),
    output:
        "results/evaluation/{name}.json",
    log:
        "results/logs/evaluate/{name}.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=settings_json(data=recipe_settings(), infer=inference_section(), evaluate=config["evaluate"]),
        compare=compare_option,
    shell:
        "andiflow evaluate {input.predictions} {input.reference} --trajectories {input.trajectories} {params.compare}"
        " -o {output} --settings '{params.settings}' > {log} 2>&1"


rule evaluate_models:
    input:
        predictions="results/predictions/{name}.task2.txt",
        reference=input_file("reference"),
        trajectories=input_file("trajectories"),
    output:
        "results/evaluation/{name}.model.json",
    log:
        "results/logs/evaluate/{name}.model.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=settings_json(evaluate=config["evaluate"]),
    shell:
        "andiflow evaluate {input.predictions} {input.reference} --trajectories {input.trajectories}"
        " -o {output} --settings '{params.settings}' > {log} 2>&1"
