rule generate:
    output:
        temp("results/shards/raw/L{length}/shard{shard}.h5"),
    params:
        n=n_trajectories,
        settings=settings_json(seed=config["seed"], data=recipe_settings()),
    log:
        "results/logs/generate/L{length}_shard{shard}.log",
    shell:
        "andiflow generate --length {wildcards.length} --n {params.n} --shard {wildcards.shard}"
        " -o results/shards/raw/L{wildcards.length} --settings '{params.settings}' > {log} 2>&1"


rule testset:
    output:
        trajectories="results/testset/task1.txt",
        reference="results/testset/ref1.txt",
    params:
        settings=settings_json(seed=config["seed"], data=recipe_settings(), testset=config["testset"]),
    log:
        "results/logs/testset.log",
    shell:
        "andiflow testset --purpose testset -o results/testset --settings '{params.settings}' > {log} 2>&1"
