# andiflow: the HNU LSTM method for the anomalous exponent alpha (AnDi 2020, Task 1).
#   generate (and normalize) -> train -> calibrate -> predict -> evaluate
# The default config is a laptop demo; `--configfile config/paper.yaml` is the full method.

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml", set_default=True)


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "results/calibration/scale.json",
        prediction_files(),
        expand("results/evaluation/{name}.json", name=evaluated_inputs()),
        "results/report/training_curves.png",
        "results/report/calibration.png",
        expand("results/report/{name}_predicted_vs_true.png", name=evaluated_inputs()),
    default_target: True


onsuccess:
    print_evaluations()
