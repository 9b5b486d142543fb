# One job per (length, shard): simulate, z-score, write. The shards are what training reads and
# what is worth keeping, so they are eligible for Snakemake's between-workflow cache: with --cache and
# SNAKEMAKE_OUTPUT_CACHE set, another workflow with the same data settings links them instead of
# generating them. The cache key is the job's command and params: params.made_by names everything
# that determines a shard, andiflow's generator version included.
rule generate:
    output:
        shard_file(),
    log:
        "results/logs/generate/L{length}_shard{shard}.log",
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
        "andiflow generate --length {wildcards.length} --n {params.n} --shard {wildcards.shard}"
        " -o results/shards/L{wildcards.length} --settings '{params.settings}' > {log} 2>&1"


# The model task's 2D and 3D shards: the same recipe, lengths and numbers of trajectories, a seed of
# their own (1D shards and their jobs are exactly as before, so trained models stay up to date).
rule generate_axes:
    output:
        shard_file("{dim}D/"),
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
        "andiflow generate --length {wildcards.length} --dim {wildcards.dim} --n {params.n} --shard {wildcards.shard}"
        " -o results/shards/{wildcards.dim}D/L{wildcards.length} --settings '{params.settings}' > {log} 2>&1"


rule testset:
    output:
        trajectories="results/testset/task1.txt",
        reference="results/testset/ref1.txt",
    log:
        "results/logs/testset.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=settings_json(seed=config["seed"], data=recipe_settings(), testset=config["testset"]),
    shell:
        "andiflow testset --purpose testset -o results/testset --settings '{params.settings}' > {log} 2>&1"
