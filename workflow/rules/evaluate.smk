rule evaluate:
    input:
        predictions="results/predictions/{name}.txt",
        reference=input_file("reference"),
        trajectories=input_file("trajectories"),
    output:
        "results/evaluation/{name}.json",
    params:
        settings=settings_json(data=recipe_settings(), infer=inference_section(), evaluate=config["evaluate"]),
    conda:
        "../../envs/andiflow.yaml"
    log:
        "results/logs/evaluate/{name}.log",
    shell:
        "andiflow evaluate {input.predictions} {input.reference} --trajectories {input.trajectories}"
        " -o {output} --settings '{params.settings}' > {log} 2>&1"
