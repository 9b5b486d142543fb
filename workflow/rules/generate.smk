# One job per (dimension, length, shard): simulate, z-score, write. The shards are what training reads
# and what is worth keeping, so they are eligible for Snakemake's between-workflow cache: with --cache
# and SNAKEMAKE_OUTPUT_CACHE set, another workflow with the same data settings links them instead of
# generating them. The cache key is the job's command and params: params.made_by names everything
# that determines a shard, andiflow's generator version included. Every task of a dimension trains
# on its shards.
rule generate:
    output:
        shard_file(),
    log:
        "results/logs/generate/{dim}D_L{length}_shard{shard}.log",
    cache: "omit-software"
    conda:
        "../../envs/andiflow.yaml"
    resources:
        runtime=generate_runtime,
        mem_mb=shard_mem_mb,
    params:
        n=n_trajectories,
        made_by=shard_provenance,
        settings=settings_json(seed=config["seed"], data=shard_settings()),
    shell:
        "andiflow-step generate --length {wildcards.length} --dim {wildcards.dim} --n {params.n}"
        " --shard {wildcards.shard} -o {output} --settings {params.settings:q} > {log} 2>&1"


# A held-out set, challenge-style: HNU's external calibration set, the interval set, the test set.
rule held_out_set:
    output:
        trajectories="results/sets/{set}/task1.txt",
        reference="results/sets/{set}/ref1.txt",
    log:
        "results/logs/sets/{set}.log",
    wildcard_constraints:
        set="calibration|intervals|test",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=set_settings,
    shell:
        "andiflow-step held-out-set --set {wildcards.set} --trajectories {output.trajectories}"
        " --reference {output.reference} --settings {params.settings:q} > {log} 2>&1"
