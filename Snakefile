# andiflow: the HNU LSTM method for the anomalous exponent alpha (AnDi 2020, Task 1), and beyond it.
#   generate -> train -> export -> calibrate -> predict -> evaluate   (and `snakemake ship`)
# With no --configfile this runs the laptop demo (config/config.yaml). A file given with --configfile
# states what differs from HNU's method, the schema's defaults: `--configfile config/paper.yaml` is
# the full method.

import os

from snakemake.utils import min_version

from andiflow.settings import resolve

min_version("9.0")

# where envs/andiflow.yaml installs andiflow from, under --software-deployment-method conda
os.environ.setdefault("ANDIFLOW_ROOT", workflow.basedir)

if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# validated, completed with the paper defaults and checked across sections, once: every job is given
# the resolved values it needs
config.update(resolve(config))


workdir: config["workdir"]


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/segments.smk"
include: "workflow/rules/population.smk"


rule all:
    default_target: True
    input:
        alpha_targets(),
        segments_targets(),


onsuccess:
    print_evaluations()
