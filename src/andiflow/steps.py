"""`andiflow-step NAME ...`: the steps the workflow's rules run, each writing the paths it is given.
Method settings come from `--settings`: the sections of the workflow's resolved configuration the step
needs, and nothing is filled in (a key it needs and was not given is an error naming it). Only
training, export, assembly and networks run with `--backend torch` need PyTorch."""

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from andiflow import GENERATOR_VERSION, andi_io, settings
from andiflow.atomic import atomic_path
from andiflow.cli.common import ensemble_options, load, run_command, scale, settings_option, torch_options, write_json
from andiflow.errors import SettingsError
from andiflow.tasks import TASKS
from andiflow.tasks.segments import RECIPES


def _shard_rows(args, cfg) -> list[int]:
    """Rows of each shard of `--n` (data.shard_size each); `--shard` must be one of them."""
    from andiflow import shards

    rows = shards.plan(args.n, cfg["data"]["shard_size"])
    if not 0 <= args.shard < len(rows):
        raise SettingsError(f"--shard {args.shard} is outside 0..{len(rows) - 1} for --n {args.n}")
    return rows


def _shard_attrs(seed: int, cfg, args, **recipe) -> dict:
    """What every shard records of how it was made, and its recipe."""
    return dict(seed=seed, base_seed=cfg["seed"], shard=args.shard, generator_version=GENERATOR_VERSION, **recipe)


def generate(args) -> None:
    """One shard of `--n` trajectories at one length and dimension (the 2020 challenge recipe)."""
    from andiflow import shards, simulate

    cfg = args.config
    rows = _shard_rows(args, cfg)
    recipe = simulate.Recipe.from_settings(cfg["data"])
    seed = shards.shard_seed(cfg["seed"], args.length, args.shard, args.dim)
    arrays = simulate.training_shard(args.length, rows[args.shard], seed, recipe, args.dim)
    attrs = _shard_attrs(seed, cfg, args, alphas=recipe.alphas, noise_sigmas=recipe.noise_sigmas, positions="z-scored")
    shards.write_shard(args.output, arrays, attrs)
    print(f"L={args.length} {args.dim}D shard {args.shard + 1}/{len(rows)}: {rows[args.shard]} trajectories")


def generate_segments(args) -> None:
    """One shard of `--n` 2D tracks of the segments task (the 2024 challenge's models, phenom.py), with
    labels per frame."""
    from andiflow import phenom, shards

    cfg = args.config
    rows = _shard_rows(args, cfg)
    data = cfg["segments"]["data"]
    recipe = phenom.PhenomRecipe(data["recipe"], data["tracks_per_experiment"], data["particles"])
    seed = shards.segments_seed(cfg["seed"], recipe.name, args.length, args.shard)
    arrays = phenom.simulate_phenom(rows[args.shard], args.length, seed, recipe)
    attrs = _shard_attrs(
        seed,
        cfg,
        args,
        recipe=recipe.name,
        tracks_per_experiment=recipe.tracks_per_experiment,
        particles=recipe.particles,
        positions="px",
    )
    shards.write_shard(args.output, arrays, attrs, kind="segments")
    print(f"segments L={args.length} shard {args.shard + 1}/{len(rows)}: {rows[args.shard]} tracks ({recipe.name})")


def segments_set(args) -> None:
    """A held-out set of the segments task in one recipe, as the 2024 challenge's files of one field of
    view: trajs_fov_0.csv (traj_idx, frame, x, y), traj_labs_fov_0.txt (the reference lines) and
    experiments.csv (each track's experiment and model)."""
    import pandas as pd

    from andiflow import phenom
    from andiflow.seeds import derive_seed

    section = args.config["segments"]["sets"][args.set]
    data = args.config["segments"]["data"]
    recipe = phenom.PhenomRecipe(args.recipe, data["tracks_per_experiment"], data["particles"])
    found = phenom.held_out_tracks(section["tracks"], derive_seed(section["seed"], args.recipe), recipe)
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    positions = pd.concat(
        pd.DataFrame({"traj_idx": i, "frame": np.arange(t["positions"].shape[1]), "x": t["positions"][0],
                      "y": t["positions"][1]})
        for i, t in enumerate(found)
    )  # fmt: skip
    experiments = pd.DataFrame(
        {
            "traj_idx": range(len(found)),
            "experiment": [t["experiment"] for t in found],
            "model": [t["model"] for t in found],
        }
    )
    with atomic_path(folder / "trajs_fov_0.csv") as tmp:
        positions.to_csv(tmp, index=False)
    with atomic_path(folder / "traj_labs_fov_0.txt") as tmp:
        Path(tmp).write_text("".join(phenom.label_line(i, t) + "\n" for i, t in enumerate(found)))
    with atomic_path(folder / "experiments.csv") as tmp:
        experiments.to_csv(tmp, index=False)
    print(f"{len(found)} tracks ({args.recipe}) in {folder}", flush=True)


def segments_ensemble(args) -> None:
    """The segments ensemble: its members, the segmentation tuned on the validation set, the
    intervals calibrated there, and the same networks as one file by AnDi-J's plug-in contract."""
    from andiflow import segments_score

    cfg = settings.plain(args.config)
    networks = [Path(m).with_suffix(".pt") for m in args.members]
    report = segments_score.build_ensemble(args.members, networks, args.tracks, args.labels, args.output, cfg)
    print(json.dumps(report, indent=1), flush=True)


def evaluate_segments(args) -> None:
    """Score a file of the 2024 challenge's lines against the reference, with the challenge's scorer."""
    from andiflow import segments_score

    scores = segments_score.evaluate(args.predictions, args.labels, args.experiments)
    write_json(args.output, scores)
    print(segments_score.summary(scores), flush=True)


def ship_segments(args) -> None:
    """The segments ensemble into a package folder, with its card and its test sets' evaluations (the
    folder replaced whole)."""
    import pandas as pd

    from andiflow import segments_score

    source, out = Path(args.ensemble), Path(args.output).parent
    manifest = json.loads((source / "manifest.json").read_text())
    evaluations = {Path(p).stem.removeprefix("test_"): json.loads(Path(p).read_text()) for p in args.evaluations}
    histories = {int(Path(p).stem.removeprefix("fold")): pd.read_csv(p) for p in args.histories}
    staging = out.with_name(f".{out.name}.shipping")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(".snakemake_timestamp"))  # directory()'s mark
    (staging / "MODEL_CARD.md").write_text(segments_score.card(manifest, evaluations, histories))
    (staging / "evaluation.json").write_text(json.dumps(evaluations, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    print(f"{len(manifest['members'])} segments networks shipped in {out}", flush=True)


def report_segments(args) -> None:
    """Tracks coloured by segment and the distributions of segment alpha and K, of a file of tracks."""
    from andiflow import plots, segmenter, tracks

    found = tracks.read_tracks(args.tracks)
    table = segmenter.SegmentsEnsemble.load(args.ensemble).table(found)
    plots.segments(table, dict(zip(found.particles, found.trajectories)), args.output)


def train(args) -> None:
    from andiflow import shards
    from andiflow import train as training

    data = shards.open_length(args.shards)
    resume_path = Path(args.output).with_suffix(".resume.pt")
    task = TASKS[args.task]
    best, history = training.train_fold(
        data["positions"],
        task.targets(data),
        args.fold,
        args.config,
        args.device,
        log=lambda line: print(line, flush=True),
        resume_path=resume_path,
        init=args.init,
        task=task.name,
        recipe=shards.recipe_of(args.shards[0]),
    )
    best["trained_on"] = training.device_name(args.device)
    training.save(best, history, args.config, args.output, args.history)
    resume_path.unlink(missing_ok=True)
    print(f"best epoch {best['epoch']}: {task.metric} {best[task.metric]:.4f}", flush=True)


def export(args) -> None:
    """A trained network as ONNX, its weights stored as ensemble.onnx_weights says, a distribution read
    out by ensemble.median."""
    from andiflow.export import export_onnx
    from andiflow.model import load_checkpoint

    model, meta = load_checkpoint(args.model)
    model.median = args.config["ensemble"]["median"]
    export_onnx(model, meta["length"], args.output, args.config["ensemble"]["onnx_weights"])


def held_out_set(args) -> None:
    """A held-out set (task1.txt, ref1.txt), challenge-style, as sets.<--set> says."""
    from andiflow import simulate

    trajectories, dims, alphas, models = simulate.held_out_set(args.config, args.set)
    andi_io.write_trajectories(args.trajectories, trajectories)
    andi_io.write_reference(args.reference, dims, alphas, models)
    print(f"{len(trajectories)} trajectories in {args.trajectories}", flush=True)


def models_manifest(args) -> None:
    """The manifest of trained networks (and their ONNX exports beside them), for calibration."""
    from andiflow.manifest import manifest_of, members_of, write_manifest

    cfg, folder = args.config, Path(args.output).parent
    baked = cfg["ensemble"]
    members = members_of(args.models, folder, baked["onnx_weights"], baked["median"])
    made_by = dict(name=cfg["name"], settings=settings.plain(cfg), command=args.command)
    write_manifest(folder, manifest_of(members, clip=baked["clip"], windows=baked["windows"], **made_by))
    print(f"{len(members)} networks in {args.output}", flush=True)


def calibrate(args) -> None:
    from andiflow.calibrate import fit_scale, scale_grid

    cfg = args.config
    if cfg["calibrate"]["scale"] is not None:
        result = {"scale": cfg["calibrate"]["scale"], "source": "config (calibrate.scale)"}
    else:
        if not (args.trajectories and args.reference):
            raise SettingsError(
                "calibrate needs --trajectories and --reference, unless calibrate.scale fixes the scale"
            )
        _, true, _ = andi_io.read_reference(args.reference)
        raw = load(args).raw_alpha(andi_io.read_trajectories(args.trajectories), _line(args.trajectories))
        result = fit_scale(raw["alpha"], true, scale_grid(cfg["calibrate"]["scale_grid"]), cfg["ensemble"]["clip"])
        result["source"] = f"fitted on {args.trajectories}"
    write_json(args.output, result)
    print(f"scale {result['scale']:.4f} ({result['source']})", flush=True)


def temperature(args) -> None:
    """The diffusion_model task's temperature per dimension, fitted on a held-out set."""
    from andiflow.calibrate import fit_temperature

    dims, models = andi_io.read_reference_models(args.reference)
    mean_log_p = load(args).mean_log_probabilities(andi_io.read_trajectories(args.trajectories))
    result = fit_temperature(mean_log_p, models, dims)
    write_json(args.output, result)
    for d, fit in result.items():
        print(f"{d}D: temperature {fit['temperature']:.2f}, NLL {fit['nll_before']:.4f} -> {fit['nll_after']:.4f}")


def intervals(args) -> None:
    """The interval table: split-conformal on a held-out set, predicted with the calibrated scale."""
    from andiflow import intervals as iv

    trajectories = andi_io.read_trajectories(args.trajectories)
    dims, true, _ = andi_io.read_reference(args.reference)
    est = load(args).estimate(trajectories, scale=args.scale, where=_line(args.trajectories), classify=False)
    lengths = [t.shape[1] for t in trajectories]
    cfg = args.config
    table = iv.calibrate(est["alpha"], true, dims, lengths, est["std"], cfg["intervals"], cfg["ensemble"]["clip"])
    write_json(args.output, table)
    for bins, cov in table["split_halves"].items():
        print(
            f"{bins} spread bin(s), fitted on even rows, on odd rows: coverage {cov['all']['coverage']:.3f}, "
            f"mean width {cov['all']['width']:.3f}",
            flush=True,
        )


def ensemble(args) -> None:
    """The ensemble folder prediction reads: the networks' files, and the manifest with the scale, the
    interval table, the temperatures and the settings that made it all."""
    from andiflow.manifest import copy_members, read_manifest, write_manifest

    manifest, source = read_manifest(args.models)
    fitted = json.loads(Path(args.temperature).read_text()) if args.temperature else None
    manifest.update(
        scale=args.scale,
        intervals=json.loads(Path(args.intervals).read_text()) if args.intervals else None,
        temperature={d: fit["temperature"] for d, fit in fitted.items()} if fitted else None,
        settings=settings.plain(args.config),
        command=args.command,
    )
    out = Path(args.output)
    copy_members(manifest, source, out)
    write_manifest(out, manifest)
    print(f"{len(manifest['members'])} networks in {out}", flush=True)


def card(args) -> None:
    """The ensemble's MODEL_CARD.md, from its manifest and its test set's evaluations."""
    from andiflow.card import model_card
    from andiflow.manifest import read_manifest

    manifest, _ = read_manifest(args.ensemble)
    evaluation = json.loads(Path(args.evaluation).read_text())
    model_evaluation = json.loads(Path(args.model_evaluation).read_text()) if args.model_evaluation else None
    populations = [json.loads(file.read_text()) for file in population_descriptions(args.population)]
    with atomic_path(args.output) as tmp:
        Path(tmp).write_text(model_card(manifest, evaluation, model_evaluation, populations))


def population_descriptions(folders) -> list[Path]:
    """The population networks' descriptions in the folders (population.json, population_precision.json)."""
    from andiflow.population_net import DESCRIPTION, PRECISION_DESCRIPTION

    files = [Path(folder) / name for folder in folders or () for name in (DESCRIPTION, PRECISION_DESCRIPTION)]
    return [file for file in files if file.is_file()]


def ship(args) -> None:
    """Into a package folder: exactly the ONNX files the manifest names, the manifest, the card and the
    evaluations it quotes; the folder is replaced whole."""
    from andiflow.manifest import MANIFEST, copy_members, read_manifest

    manifest, source = read_manifest(args.ensemble)
    out = Path(args.output).parent
    staging = out.with_name(f".{out.name}.shipping")
    shutil.rmtree(staging, ignore_errors=True)
    copy_members(manifest, source, staging, keys=("onnx",))
    files = {MANIFEST: source / MANIFEST, "MODEL_CARD.md": args.card, "evaluation.json": args.evaluation}
    if args.model_evaluation:
        files["model_evaluation.json"] = args.model_evaluation
    for file in population_descriptions(args.population):  # the ensemble's population networks
        files |= {file.name: file, (onnx := json.loads(file.read_text())["onnx"]): file.with_name(onnx)}
    for name, path in files.items():
        shutil.copyfile(path, staging / name)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    print(f"{len(manifest['members'])} ONNX networks shipped in {out}", flush=True)


def population_pool(args) -> None:
    """A pool of simulated tracks of one dimension read by the ensemble, for the population network:
    each track's features and truth (population_train.py)."""
    from andiflow import seeds
    from andiflow.api import load_ensemble
    from andiflow.population_train import read_pool, simulate_pool

    cfg = args.config["population"]
    pool = cfg["pool"]
    per_model = pool["per_model"] if args.part == "train" else pool["held_out_per_model"]
    seed = seeds.derive_seed(args.config["seed"], f"population_{args.part}", args.dim)
    found, truth = simulate_pool(per_model, args.dim, seed, pool)
    ens = load_ensemble(args.ensemble, threads=1)
    arrays = read_pool(ens, found, truth, args.config["intervals"]["level"], pool["max_length"])
    with atomic_path(args.output) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    print(f"{args.dim}D {args.part} pool: {len(arrays['x'])} of {len(found)} tracks read", flush=True)


def train_population(args) -> None:
    """The population network of an ensemble: trained on populations drawn from the training pools,
    scored on the held-out pools, written as population.onnx and population.json in `--output`; with
    `--precision`, the network that also reads a localisation precision (population_precision.*)."""
    import torch

    from andiflow import seeds
    from andiflow.manifest import sha256
    from andiflow.members import one_thread_session
    from andiflow.population_net import DESCRIPTION, FEATURES, PRECISION, PRECISION_DESCRIPTION
    from andiflow.population_train import (
        export,
        held_out_scores,
        precision_settings,
        share_bounds,
        train,
        with_precision,
    )

    torch.set_num_threads(1)
    cfg = args.config["population"]
    join = lambda parts: {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}  # noqa: E731
    pools, held_out = ([{k: v for k, v in np.load(p).items()} for p in paths] for paths in (args.pools, args.held_out))
    pools, held_out = join(pools), join(held_out)
    described, name, features = {}, DESCRIPTION, list(FEATURES)
    if args.precision:
        pools, held_out = with_precision(pools), with_precision(held_out)
        cfg = precision_settings(settings.plain(cfg))
        described = {"max_precision_ratio": float(pools["x"][:, -1].max())}
        name, features = PRECISION_DESCRIPTION, [*features, PRECISION]
    seed = seeds.derive_seed(args.config["seed"], "population", int(args.precision))
    net = train(pools, cfg, seed)
    scores = held_out_scores(net, held_out, tuple(cfg["tracks"]), cfg["held_out_populations"], seed + 1)
    out = Path(args.output)
    staging = out.with_name(f".{out.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    onnx = Path(name).with_suffix(".onnx").name
    export(net, staging / onnx)
    exported = one_thread_session(staging / onnx)  # the intervals of the shares the shipped file gives
    level = args.config["intervals"]["level"]
    shares = share_bounds(lambda x: exported.run(None, {"tracks": x[None]})[1][0], held_out, cfg, seed + 2, level)
    description = dict(
        onnx=onnx,
        onnx_sha256=sha256(staging / onnx),
        ensemble_sha256=sha256(Path(args.ensemble) / "manifest.json"),
        features=features,
        level=level,
        max_length=cfg["pool"]["max_length"],
        tracks=cfg["tracks"],
        **described,
        settings=settings.plain(cfg),
        held_out=scores,
        shares=shares,
    )
    write_json(staging / name, description)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    for row in scores:
        print(row, flush=True)


def report_training(args) -> None:
    from andiflow import plots

    plots.training(args.histories, args.curves, args.best)


def report_calibration(args) -> None:
    from andiflow import plots

    plots.calibration(args.scale_json, args.output)


def report_evaluation(args) -> None:
    from andiflow import plots

    pred = andi_io.read_predictions(args.predictions)
    dims, true, models = andi_io.read_reference(args.reference)
    lengths = [t.shape[1] for t in andi_io.read_trajectories(args.trajectories)]
    plots.evaluation(pred["alpha"], true, dims, lengths, models, args.scatter, args.by_length, args.by_model)


def report_confusion(args) -> None:
    from andiflow import plots

    plots.confusion(json.loads(Path(args.evaluation).read_text()), args.output)


def _line(path):
    return lambda i: f"{path}:{i + 1}"


def main(argv=None) -> int:
    return run_command(_parser().parse_args(argv))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="andiflow-step", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="STEP")

    def step(func, help):
        p = sub.add_parser(func.__name__.replace("_", "-"), help=help, description=help)
        settings_option(p)
        p.set_defaults(run=func)
        return p

    def held_out_files(p):
        p.add_argument("--trajectories", required=True, help="task1.txt of the held-out set")
        p.add_argument("--reference", required=True, help="its ref1.txt")

    p = step(generate, "simulate one shard of training trajectories (2020 challenge recipe)")
    p.add_argument("--length", type=int, required=True)
    p.add_argument("--n", type=int, required=True, help="number of trajectories of this length (all shards)")
    p.add_argument("--shard", type=int, required=True, help="which shard of them to write")
    p.add_argument("--dim", type=int, choices=(1, 2, 3), default=1)
    p.add_argument("-o", "--output", required=True, help="the shard (.h5)")

    p = step(generate_segments, "simulate one shard of tracks whose motion changes (2024 challenge models)")
    p.add_argument("--length", type=int, required=True, help="frames per track (at most 200)")
    p.add_argument("--n", type=int, required=True, help="number of tracks of this length (all shards)")
    p.add_argument("--shard", type=int, required=True, help="which shard of them to write")
    p.add_argument("-o", "--output", required=True, help="the shard (.h5)")

    p = step(segments_set, "simulate a held-out set of the segments task, as the 2024 challenge's files")
    p.add_argument("--set", choices=["validation", "test"], required=True, help="which of segments.sets")
    p.add_argument("--recipe", choices=RECIPES, required=True)
    p.add_argument("--folder", required=True, help="where its three files are written")

    p = step(segments_ensemble, "the segments ensemble: members, tuned segmentation, calibrated intervals")
    p.add_argument("members", nargs="+", help="the segments networks' ONNX files, their .pt beside them")
    p.add_argument("--tracks", required=True, help="the validation set's trajs_fov_0.csv")
    p.add_argument("--labels", required=True, help="its traj_labs_fov_0.txt")
    p.add_argument("-o", "--output", required=True, help="the ensemble folder")

    p = step(evaluate_segments, "score segments with the 2024 challenge's scorer")
    p.add_argument("predictions", help="the challenge's lines of the predicted segments")
    p.add_argument("--labels", required=True, help="the reference lines")
    p.add_argument("--experiments", required=True, help="experiments.csv of the set")
    p.add_argument("-o", "--output", required=True, help="the evaluation (.json)")

    p = step(ship_segments, "copy the segments ensemble, its card and evaluations into a package folder")
    p.add_argument("--ensemble", required=True, help="the segments ensemble folder")
    p.add_argument("--evaluations", nargs="+", required=True, help="its test sets' test_<recipe>.json")
    p.add_argument("--histories", nargs="+", required=True, help="its networks' fold<k>.csv epoch tables")
    p.add_argument("-o", "--output", required=True, help="src/andiflow/ensembles/<name>/manifest.json")

    p = step(report_segments, "figure of segments: tracks coloured by segment, segment alpha and K")
    p.add_argument("tracks", help="a file of tracks")
    p.add_argument("--ensemble", required=True, help="the segments ensemble folder")
    p.add_argument("-o", "--output", required=True, help="the figure (.png)")

    p = step(train, "train the network of one (task, dimension, length, fold)")
    p.add_argument("shards", nargs="+", help="all shards of one length and dimension")
    p.add_argument("--task", choices=sorted(TASKS), required=True)
    p.add_argument("--fold", type=int, required=True)
    p.add_argument("-o", "--output", required=True, help="the network (.pt)")
    p.add_argument("--history", required=True, help="its epoch table (.csv)")
    p.add_argument("--init", help="warm start: begin from this network's weights (another length's)")
    torch_options(p)

    p = step(export, "export a trained network to ONNX")
    p.add_argument("model", help="the network (.pt)")
    p.add_argument("-o", "--output", required=True, help="the ONNX file")

    p = step(held_out_set, "simulate a held-out set, challenge-style (task1.txt, ref1.txt)")
    p.add_argument("--set", choices=["calibration", "intervals", "test"], required=True, help="which of sets")
    p.add_argument("--trajectories", required=True, help="task1.txt to write")
    p.add_argument("--reference", required=True, help="ref1.txt to write")

    p = step(models_manifest, "the manifest of trained networks lying in the one layout")
    p.add_argument("models", nargs="+", help="<task>/<dim>D/L<length>/fold<k>.pt files, their .onnx beside them")
    p.add_argument("-o", "--output", required=True, help="manifest.json in the folder of that layout")
    p.add_argument("--command", required=True, help="the command that rebuilds them")

    p = step(calibrate, "fit the scale factor on an external set")
    p.add_argument("--trajectories", help="task1.txt of the calibration set")
    p.add_argument("--reference", help="ref1.txt of the calibration set")
    p.add_argument("-o", "--output", required=True, help="scale.json")
    ensemble_options(p, "results/models")

    p = step(intervals, "calibrate the intervals on a held-out set (split-conformal)")
    held_out_files(p)
    p.add_argument("--scale", required=True, type=scale, help="scale.json or a number")
    p.add_argument("-o", "--output", required=True, help="intervals.json")
    ensemble_options(p, "results/models")

    p = step(temperature, "calibrate the diffusion_model task's probabilities (one temperature per dimension)")
    held_out_files(p)
    p.add_argument("-o", "--output", required=True, help="temperature.json")
    ensemble_options(p, "results/models")

    p = step(ensemble, "write the ensemble folder from the networks' manifest and the calibration")
    p.add_argument("--models", required=True, help="the networks' manifest.json")
    p.add_argument("--scale", required=True, type=scale, help="scale.json or a number")
    p.add_argument("--intervals", help="intervals.json")
    p.add_argument("--temperature", help="temperature.json")
    p.add_argument("--command", required=True, help="the command that rebuilds the ensemble")
    p.add_argument("-o", "--output", required=True, help="the ensemble folder")

    p = step(card, "write an ensemble's MODEL_CARD.md")
    p.add_argument("--ensemble", required=True, help="ensemble folder")
    p.add_argument("--evaluation", required=True, help="evaluation JSON of its test set")
    p.add_argument("--model-evaluation", help="the Task 2 evaluation JSON of the same test set")
    p.add_argument("--population", nargs="+", help="the folders of its population networks")
    p.add_argument("-o", "--output", required=True, help="MODEL_CARD.md")

    p = step(ship, "copy an ensemble, its card and evaluations into a package folder")
    p.add_argument("--ensemble", required=True, help="ensemble folder")
    p.add_argument("--card", required=True)
    p.add_argument("--evaluation", required=True)
    p.add_argument("--model-evaluation")
    p.add_argument("--population", nargs="+", help="the folders of its population networks (population*.json, *.onnx)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="the manifest.json of the folder it replaces, src/andiflow/ensembles/<name>",
    )

    p = step(population_pool, "simulate and read a pool of tracks of one dimension for the population network")
    p.add_argument("--dim", type=int, choices=(1, 2, 3), required=True)
    p.add_argument("--part", choices=["train", "held_out"], required=True)
    p.add_argument("--ensemble", required=True, help="the ensemble folder whose answers the network reads")
    p.add_argument("-o", "--output", required=True, help="the pool (.npz)")

    p = step(train_population, "train the population network of an ensemble on its pools")
    p.add_argument("--pools", nargs="+", required=True, help="training pools (.npz)")
    p.add_argument("--held-out", nargs="+", required=True, help="held-out pools (.npz)")
    p.add_argument("--ensemble", required=True, help="the ensemble folder the pools were read by")
    p.add_argument(
        "-o", "--output", required=True, help="the folder of the network (population*.onnx, population*.json)"
    )
    p.add_argument("--precision", action="store_true", help="the network that also reads a localisation precision")

    p = step(report_training, "figures of training: validation metric per epoch, best per length")
    p.add_argument("histories", nargs="+", help="<task>/<dim>D/L<length>/fold<k>.csv epoch tables of one task")
    p.add_argument("--curves", required=True)
    p.add_argument("--best", required=True)

    p = step(report_calibration, "figure of MAE against the scale factor")
    p.add_argument("scale_json")
    p.add_argument("-o", "--output", required=True)

    p = step(report_evaluation, "figures of predicted against true alpha")
    p.add_argument("predictions")
    p.add_argument("reference")
    p.add_argument("--trajectories", required=True)
    p.add_argument("--scatter", required=True)
    p.add_argument("--by-length", required=True)
    p.add_argument("--by-model", required=True)

    p = step(report_confusion, "figure of the diffusion_model task's confusion matrix")
    p.add_argument("evaluation")
    p.add_argument("-o", "--output", required=True)
    return parser


if __name__ == "__main__":
    sys.exit(main())
