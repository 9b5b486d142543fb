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
        settings=settings_json(data=recipe_settings(), ensemble=baked("clip"), evaluate=config["evaluate"]),
        compare=compare_option,
    shell:
        "andiflow evaluate {input.predictions} {input.reference:q} --trajectories {input.trajectories:q} --task alpha"
        " {params.compare} -o {output} --settings {params.settings:q} > {log} 2>&1"


rule evaluate_task:
    input:
        predictions="results/predictions/{name}.{other_task}.txt",
        reference=input_file("reference"),
        trajectories=input_file("trajectories"),
    output:
        "results/evaluation/{name}.{other_task}.json",
    log:
        "results/logs/evaluate/{name}.{other_task}.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=settings_json(evaluate=config["evaluate"]),
    shell:
        "andiflow evaluate {input.predictions} {input.reference:q} --trajectories {input.trajectories:q}"
        " --task {wildcards.other_task} -o {output} --settings {params.settings:q} > {log} 2>&1"
