# Figures for `snakemake --report report.html`, each with a caption in workflow/report/.
# HNU's networks only (alpha, 1D): one figure does not mix networks of other tasks or dimensions.
rule report_training:
    input:
        trained("csv", ["alpha"], dims=[1]),
    output:
        curves=report(
            "results/report/training_curves.png", caption="../report/training_curves.rst", category="Training"
        ),
        best=report(
            "results/report/best_mae_by_length.png", caption="../report/best_mae_by_length.rst", category="Training"
        ),
    log:
        "results/logs/report/training.log",
    conda:
        "../../envs/andiflow.yaml"
    shell:
        "andiflow-step report-training {input} --curves {output.curves} --best {output.best} > {log} 2>&1"


rule report_calibration:
    input:
        "results/calibrate/scale.json",
    output:
        report("results/report/calibration.png", caption="../report/calibration.rst", category="Calibration"),
    log:
        "results/logs/report/calibration.log",
    conda:
        "../../envs/andiflow.yaml"
    shell:
        "andiflow-step report-calibration {input} -o {output} > {log} 2>&1"


rule report_evaluation:
    input:
        predictions="results/predictions/{name}.txt",
        reference=input_file("reference"),
        trajectories=input_file("trajectories"),
    output:
        scatter=report(
            "results/report/{name}_predicted_vs_true.png",
            caption="../report/predicted_vs_true.rst",
            category="Evaluation",
            subcategory="{name}",
        ),
        by_length=report(
            "results/report/{name}_mae_by_length.png",
            caption="../report/mae_by_length.rst",
            category="Evaluation",
            subcategory="{name}",
        ),
        by_model=report(
            "results/report/{name}_mae_by_model.png",
            caption="../report/mae_by_model.rst",
            category="Evaluation",
            subcategory="{name}",
        ),
    log:
        "results/logs/report/{name}.log",
    conda:
        "../../envs/andiflow.yaml"
    shell:
        "andiflow-step report-evaluation {input.predictions} {input.reference} --trajectories {input.trajectories}"
        " --scatter {output.scatter} --by-length {output.by_length} --by-model {output.by_model} > {log} 2>&1"


rule report_confusion:
    input:
        "results/evaluation/{name}.diffusion_model.json",
    output:
        report(
            "results/report/{name}_confusion.png",
            caption="../report/confusion.rst",
            category="Evaluation",
            subcategory="{name}",
        ),
    log:
        "results/logs/report/{name}.confusion.log",
    conda:
        "../../envs/andiflow.yaml"
    shell:
        "andiflow-step report-confusion {input} -o {output} > {log} 2>&1"
