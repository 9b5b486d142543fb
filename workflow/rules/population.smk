# The population network (beyond HNU; population_net.py): pools of simulated tracks of each dimension read
# by the ensemble, one job each; the network trained on populations drawn from them and scored on the
# held-out pools; `ship` puts it beside the ensemble.
POPULATION = config["population"]
POPULATION_POOL = "results/population/pools/{part}_{dim}D.npz"


rule population_pool:
    input:
        ensemble="results/ensemble",
    output:
        temp(POPULATION_POOL),
    log:
        "results/logs/population/pool_{part}_{dim}D.log",
    wildcard_constraints:
        part="train|held_out",
        dim="[123]",
    conda:
        "../../envs/andiflow.yaml"
    resources:
        runtime=lambda wildcards: 10 + math.ceil(POPULATION["pool"]["per_model"] * 5 * 0.004 / 60),
    params:
        generator_version=GENERATOR_VERSION,
        population_version=POPULATION_VERSION,
        settings=settings_json(
            seed=config["seed"],
            intervals={"level": config["intervals"]["level"]},
            population={"pool": POPULATION["pool"]},
        ),
    shell:
        "andiflow-step population-pool --dim {wildcards.dim} --part {wildcards.part} --ensemble {input.ensemble}"
        " -o {output} --settings {params.settings:q} > {log} 2>&1"


# One training job on all the pools: the first network (`network`), or the one that also reads a
# localisation precision (`network_precision`). A rebuilt ensemble (a fresh clone rebuilds it from the
# committed networks) retrains them: a network is a function of the ensemble's answers.
rule train_population:
    input:
        ensemble="results/ensemble",
        pools=expand(POPULATION_POOL, part="train", dim=POPULATION["pool"]["dims"]),
        held_out=expand(POPULATION_POOL, part="held_out", dim=POPULATION["pool"]["dims"]),
    output:
        directory("results/population/{network}"),
    log:
        "results/logs/population/train_{network}.log",
    wildcard_constraints:
        network="network|network_precision",
    conda:
        "../../envs/andiflow.yaml"
    resources:
        runtime=lambda wildcards: 10 + math.ceil(POPULATION["steps"] * 0.05 / 60),
    params:
        population_version=POPULATION_VERSION,
        settings=lambda wildcards: population_settings(wildcards.network),
        precision=lambda wildcards: "--precision" if wildcards.network == "network_precision" else "",
    shell:
        "andiflow-step train-population --pools {input.pools} --held-out {input.held_out}"
        " --ensemble {input.ensemble} -o {output} {params.precision} --settings {params.settings:q} > {log} 2>&1"


# A table of tracks among the workflow's inputs: the population of its tracks (one row), and its figure.
rule population_of_input:
    input:
        trajectories=input_file("trajectories"),
        ensemble="results/ensemble",
        network="results/population/network",
    output:
        table="results/populations/{name}.csv",
        figure=report(
            "results/report/{name}_population.png", caption="../report/population.rst", category="Populations"
        ),
    log:
        "results/logs/predict/{name}.population.log",
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    params:
        settings=settings_json(batch_values=config["batch_values"]),
        code=INFERENCE_VERSION,
    shell:
        "andiflow population {input.trajectories:q} -o {output.table} --figure {output.figure}"
        " --models {input.ensemble} --network {input.network} --threads {threads} --settings {params.settings:q}"
        " > {log} 2>&1"
