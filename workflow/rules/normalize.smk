rule normalize:
    input:
        "results/shards/raw/L{length}/shard{shard}.h5",
    output:
        "results/shards/L{length}/shard{shard}.h5",
    log:
        "results/logs/normalize/L{length}_shard{shard}.log",
    shell:
        "andiflow normalize {input} -o {output} > {log} 2>&1"
