# andiflow: the HNU LSTM method for the anomalous exponent alpha (AnDi 2020, Task 1).
#   generate (and normalize) -> train -> calibrate -> predict -> evaluate
# The default config is a laptop demo; `--configfile config/paper.yaml` is the full method.

import os

from snakemake.utils import min_version, validate

from andiflow.settings import check_config

min_version("9.0")

# where envs/andiflow.yaml installs andiflow from, under --software-deployment-method conda
os.environ.setdefault("ANDIFLOW_ROOT", workflow.basedir)


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml", set_default=True)
check_config(config)


workdir: config["workdir"]


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/ensemble/manifest.json",
        prediction_files(),
        expand("results/evaluation/{name}.json", name=evaluated_inputs()),
        model_evaluations(),
        model_card(),
        "results/report/training_curves.png",
        "results/report/calibration.png",
        expand("results/report/{name}_predicted_vs_true.png", name=evaluated_inputs()),


onsuccess:
    print_evaluations()
