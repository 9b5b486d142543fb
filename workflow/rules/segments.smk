# The segments task (the 2024 challenge; tasks/segments.py): its own shards, networks, sets and
# ensemble, beside alpha's. One shard job per shard of segments.data; one training job per fold on
# all of them; the segmentation tuned and its intervals calibrated on the validation set; the test
# sets (the challenge's defaults, a wider variety, and its public benchmark's recipe) scored by the
# challenge's scorer.


rule generate_segments:
    output:
        SEGMENTS_SHARD if config["data"]["keep_shards"] else temp(SEGMENTS_SHARD),
    log:
        "results/logs/generate/segments_L{length}_shard{shard}.log",
    conda:
        "../../envs/andiflow.yaml"
    resources:
        runtime=lambda wildcards: 10 + math.ceil(3 * segments_rows(wildcards) * 0.015 / 60),
    params:
        n=SEGMENTS["data"]["tracks"],
        generator_version=GENERATOR_VERSION,
        settings=settings_json(
            seed=config["seed"],
            data={"shard_size": config["data"]["shard_size"]},
            segments={"data": SEGMENTS["data"]},
        ),
    shell:
        "andiflow-step generate-segments --length {wildcards.length} --n {params.n} --shard {wildcards.shard}"
        " -o {output} --settings {params.settings:q} > {log} 2>&1"


rule train_segments:
    input:
        segments_shards,
    output:
        model="results/models/segments/2D/L{length}/fold{fold}.pt",
        history="results/models/segments/2D/L{length}/fold{fold}.csv",
    log:
        "results/logs/train/segments_2D_L{length}_fold{fold}.log",
    wildcard_constraints:
        length=str(SEGMENTS_LENGTH),  # its shards are of segments.data.length alone
    conda:
        "../../envs/andiflow.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        runtime=24 * 60,
        mem_mb=lambda wildcards: 4000 + math.ceil(SEGMENTS["data"]["tracks"] * SEGMENTS_LENGTH * 10 * 4 * 2 / 1e6),
    params:
        settings=settings_json(seed=config["seed"], segments={"model": SEGMENTS["model"]}, train=config["train"]),
        trainer_version=TRAINER_VERSION,
        device=config["device"],
    shell:
        "andiflow-step train {input} --task segments --fold {wildcards.fold} -o {output.model}"
        " --history {output.history} --device {params.device} --threads {threads}"
        " --settings {params.settings:q} > {log} 2>&1"


# Tracks of 20-200 frames as a field of view's file of the challenge (trajs_fov_0.csv) with their
# labels as the challenge's reference lines (traj_labs_fov_0.txt) and each track's experiment.
rule segments_set:
    output:
        tracks="results/sets/segments_{set}_{recipe}/trajs_fov_0.csv",
        labels="results/sets/segments_{set}_{recipe}/traj_labs_fov_0.txt",
        experiments="results/sets/segments_{set}_{recipe}/experiments.csv",
    log:
        "results/logs/sets/segments_{set}_{recipe}.log",
    wildcard_constraints:
        set="validation|test",
        recipe="|".join(RECIPES),
    conda:
        "../../envs/andiflow.yaml"
    params:
        generator_version=GENERATOR_VERSION,
        settings=lambda wildcards: settings_json(
            seed=config["seed"],
            segments={
                "data": {k: SEGMENTS["data"][k] for k in ("tracks_per_experiment", "particles")},
                "sets": {wildcards.set: SEGMENTS["sets"][wildcards.set]},
            },
        ),
    shell:
        "andiflow-step segments-set --set {wildcards.set} --recipe {wildcards.recipe} --folder $(dirname {output.tracks})"
        " --settings {params.settings:q} > {log} 2>&1"


# The members, the segmentation (peak threshold and gap) tuned on the validation set, in the training
# recipe, the intervals of segment alpha and K calibrated there, and the networks as one file by
# AnDi-J's plug-in contract (export.AnDiJ).
rule segments_ensemble:
    input:
        members=segments_members(),
        networks=[m.replace(".onnx", ".pt") for m in segments_members()],
        tracks=f"results/sets/segments_validation_{SEGMENTS['data']['recipe']}/trajs_fov_0.csv",
        labels=f"results/sets/segments_validation_{SEGMENTS['data']['recipe']}/traj_labs_fov_0.txt",
    output:
        directory("results/segments/ensemble"),
    log:
        "results/logs/segments_ensemble.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        settings=settings_json(name=config["name"], seed=config["seed"], segments=SEGMENTS, train=config["train"]),
        export_version=EXPORT_VERSION,
        inference_version=INFERENCE_VERSION,
        calibration_version=CALIBRATION_VERSION,
    shell:
        "andiflow-step segments-ensemble {input.members} --tracks {input.tracks} --labels {input.labels}"
        " -o {output} --settings {params.settings:q} > {log} 2>&1"


rule evaluate_segments:
    input:
        ensemble="results/segments/ensemble",
        tracks="results/sets/segments_test_{recipe}/trajs_fov_0.csv",
        labels="results/sets/segments_test_{recipe}/traj_labs_fov_0.txt",
        experiments="results/sets/segments_test_{recipe}/experiments.csv",
    output:
        predictions="results/predictions/segments/test_{recipe}.txt",
        evaluation="results/evaluation/segments/test_{recipe}.json",
    log:
        "results/logs/evaluate/segments_test_{recipe}.log",
    conda:
        "../../envs/andiflow.yaml"
    params:
        inference_version=INFERENCE_VERSION,
    shell:
        "(andiflow predict {input.tracks} --models {input.ensemble} --task segments -o {output.predictions}"
        " && andiflow-step evaluate-segments {output.predictions} --labels {input.labels}"
        " --experiments {input.experiments} -o {output.evaluation}) > {log} 2>&1"


rule report_segments:
    input:
        ensemble="results/segments/ensemble",
        tracks="results/sets/segments_test_{recipe}/trajs_fov_0.csv",
    output:
        report("results/report/segments_test_{recipe}.png", caption="../report/segments.rst", category="Segments"),
    log:
        "results/logs/report/segments_test_{recipe}.log",
    conda:
        "../../envs/andiflow.yaml"
    shell:
        "andiflow-step report-segments {input.tracks} --ensemble {input.ensemble} -o {output} > {log} 2>&1"


# `snakemake ship_segments --cores 1 --configfile config/segments-gpu.yaml` (or segments-cpu.yaml): the ensemble into the package.
rule ship_segments:
    input:
        ensemble="results/segments/ensemble",
        evaluations=expand("results/evaluation/segments/test_{recipe}.json", recipe=SEGMENTS_TESTS),
        histories=[m.replace(".onnx", ".csv") for m in segments_members()],
    output:
        f"{ship_folder()}/manifest.json",
    log:
        "results/logs/ship_segments.log",
    conda:
        "../../envs/andiflow.yaml"
    shell:
        "andiflow-step ship-segments --ensemble {input.ensemble} --evaluations {input.evaluations}"
        " --histories {input.histories} -o {output:q} > {log} 2>&1"
