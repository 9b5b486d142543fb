"""`andiflow generate|train|testset|calibrate|predict|evaluate`: what the workflow's rules
and users call. Method settings come from `--settings` (JSON, a partial configuration in the
workflow's format); anything not given there takes the paper value of the schema."""

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from andiflow import GENERATOR_VERSION, andi_io, settings
from andiflow.atomic import atomic_path
from andiflow.seeds import derive_seed

DEFAULT_MODELS = "results/models"
DEFAULT_SCALE = "results/calibration/scale.json"


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from andiflow.ensemble import ModelFileError
    from andiflow.shards import ShardError

    try:
        args.config = settings.parse(args.settings)
        if hasattr(args, "device"):
            _setup_torch(args.threads)
        args.run(args)
    except (andi_io.InputFileError, ShardError, ModelFileError, settings.SettingsError) as err:
        print(f"andiflow: error: {err}", file=sys.stderr)
        return 2
    return 0


def generate(args) -> None:
    """Shards of `--n` trajectories at one length, the 2020 challenge recipe, one seed per shard;
    positions z-scored per trajectory, as training reads them."""
    from andiflow import shards, simulate
    from andiflow.normalize import zscore

    cfg = args.config
    size = cfg["data"]["shard_size"]
    n_shards = math.ceil(args.n / size)
    recipe = simulate.Recipe.from_settings(cfg["data"])
    for shard in [args.shard] if args.shard is not None else range(n_shards):
        if not 0 <= shard < n_shards:
            raise settings.SettingsError(f"--shard {shard} is outside 0..{n_shards - 1} for --n {args.n}")
        n = min(size, args.n - shard * size)
        seed = derive_seed(cfg["seed"], "generate", args.length, shard)
        t = simulate.simulate(n, args.length, 1, seed, recipe)
        arrays = dict(positions=zscore(t.positions[:, 0]), alpha=t.alpha, model=t.model, sigma=t.sigma)
        attrs = dict(seed=seed, base_seed=cfg["seed"], shard=shard, generator_version=GENERATOR_VERSION,
                     alphas=recipe.alphas, noise_sigmas=recipe.noise_sigmas, positions="z-scored")
        shards.write_shard(Path(args.output) / f"shard{shard}.h5", arrays, attrs)
        print(f"L={args.length} shard {shard + 1}/{n_shards}: {n} trajectories", flush=True)


def train(args) -> None:
    from andiflow import shards
    from andiflow import train as training

    data = shards.open_length(args.shards)
    resume_path = Path(args.output).with_suffix(".resume.pt")
    checkpoint, history = training.train_fold(data["positions"], data["alpha"], args.fold, args.config, args.device,
                                              log=lambda line: print(line, flush=True), resume_path=resume_path)
    history_path = args.history or Path(args.output).with_suffix(".csv")
    training.save(checkpoint, history, args.output, history_path)
    resume_path.unlink(missing_ok=True)
    print(f"best epoch {checkpoint['epoch']}: valid MAE {checkpoint['valid_mae']:.4f}", flush=True)


def testset(args) -> None:
    """A challenge-style set of trajectories (lengths uniform in a range) with its reference."""
    from andiflow import simulate

    cfg = args.config
    section = cfg["calibrate"] if args.purpose == "calibration" else cfg["testset"]
    dims = [1] if args.purpose == "calibration" else section["dims"]
    n = section["n"] if args.purpose == "calibration" else section["n_per_dim"]
    recipe = simulate.Recipe.from_settings(cfg["data"])
    trajectories, ref_dims, alphas, models = [], [], [], []
    for dim in dims:
        seed = derive_seed(cfg["seed"], args.purpose, dim)
        t, lengths = simulate.simulate_challenge(n, section["min_length"], section["max_length"], dim, seed, recipe)
        trajectories += [p[:, :T] for p, T in zip(t.positions, lengths)]
        ref_dims += [dim] * n
        alphas += t.alpha.tolist()
        models += [simulate.MODELS[m] for m in t.model]
    out = Path(args.output)
    andi_io.write_trajectories(out / "task1.txt", trajectories)
    andi_io.write_reference(out / "ref1.txt", ref_dims, alphas, models)
    print(f"{len(trajectories)} trajectories in {out}", flush=True)


def calibrate(args) -> None:
    from andiflow.calibrate import fit_scale, scale_grid

    cfg = args.config
    if cfg["calibrate"]["scale"] is not None:
        result = {"scale": cfg["calibrate"]["scale"], "source": "config (calibrate.scale)"}
    else:
        if not (args.trajectories and args.reference):
            raise settings.SettingsError("calibrate needs --trajectories and --reference, "
                                         "unless calibrate.scale fixes the scale")
        trajectories = andi_io.read_trajectories(args.trajectories)
        _, true, _ = andi_io.read_reference(args.reference)
        ensemble = _ensemble(args)
        _check_lengths(args.trajectories, trajectories, ensemble.min_length)
        raw, _ = ensemble.predict(trajectories)
        result = fit_scale(raw, true, scale_grid(cfg["calibrate"]["scale_grid"]), cfg["infer"]["clip"])
        result["source"] = f"fitted on {args.trajectories}"
    _write_json(args.output, result)
    print(f"scale {result['scale']:.4f} ({result['source']})", flush=True)


def predict(args) -> None:
    """alpha (and the ensemble's spread) for each trajectory of a task1.txt or each particle of a table."""
    from andiflow.ensemble import finish

    ensemble = _ensemble(args)
    scale, clip = _scale(args.scale), args.config["infer"]["clip"]
    if _is_table(args):
        return _predict_tracks(args, ensemble, scale, clip)
    trajectories = andi_io.read_trajectories(args.input)
    _check_lengths(args.input, trajectories, ensemble.min_length)
    raw, spread = ensemble.predict(trajectories)
    alpha = finish(raw, scale, clip)
    dims = [len(t) for t in trajectories]
    stds = spread * scale if args.with_std else None
    if args.output:
        andi_io.write_predictions(args.output, dims, alpha, stds)
        print(f"{len(alpha)} trajectories of {args.input} predicted into {args.output}", flush=True)
    else:
        sys.stdout.write(andi_io.format_predictions(dims, alpha, stds))


def _predict_tracks(args, ensemble, scale, clip) -> None:
    from andiflow import tracks as tr
    from andiflow.ensemble import finish

    table = tr.read_tracks(args.input, args.particle_column, args.frame_column, args.position_columns)
    if table.gaps:
        _warn(f"{args.input}: frames missing within particles {_ids(table.gaps)}; their points are used as "
              "consecutive (the gaps are bridged)")
    long_enough = [i for i, t in enumerate(table.trajectories) if t.shape[1] >= ensemble.min_length]
    short = [pid for pid, t in zip(table.particles, table.trajectories) if t.shape[1] < ensemble.min_length]
    if short:
        _warn(f"{args.input}: skipped particles {_ids(short)}: fewer points than the shortest trained "
              f"length ({ensemble.min_length})")
    estimates = {}
    if long_enough:
        raw, spread = ensemble.predict([table.trajectories[i] for i in long_enough])
        estimates = dict(zip(long_enough, zip(finish(raw, scale, clip), spread * scale)))
    rows = []
    for i, (pid, t) in enumerate(zip(table.particles, table.trajectories)):
        alpha, std = estimates.get(i, (None, None))
        note = "gaps bridged" if pid in table.gaps else ""
        if i not in estimates:
            note = f"skipped: fewer than {ensemble.min_length} points"
        rows.append(dict(particle=pid, dim=t.shape[0], n_points=t.shape[1], alpha=alpha, alpha_std=std, note=note))
    tr.write_alphas(args.output, rows)
    if args.output:
        print(f"{len(estimates)} of {len(rows)} particles of {args.input} predicted into {args.output}", flush=True)


def _is_table(args) -> bool:
    return args.format == "tracks" or (args.format == "auto" and Path(args.input).suffix.lower() == ".csv")


def _ids(ids, shown=20) -> str:
    text = ", ".join(map(str, ids[:shown]))
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _warn(message: str) -> None:
    print(f"andiflow: warning: {message}", file=sys.stderr, flush=True)


def evaluate(args) -> None:
    from andiflow import evaluate as ev
    from andiflow.simulate import Recipe

    cfg = args.config
    pred_dims, pred, spread = andi_io.read_predictions(args.predictions)
    dims, true, models = andi_io.read_reference(args.reference)
    if len(pred) != len(true) or (pred_dims != dims).any():
        raise andi_io.InputFileError(f"{args.predictions}: {len(pred)} predictions do not line up with the "
                                     f"{len(true)} trajectories of {args.reference} (count or dimensions differ)")
    edges = cfg["evaluate"]["length_edges"]
    lengths = trajectories = None
    if args.trajectories:
        trajectories = andi_io.read_trajectories(args.trajectories)
        lengths = np.array([t.shape[1] for t in trajectories])
    result = {"predictions": str(args.predictions), "lstm": ev.mae_table(pred, true, dims, lengths, models, edges)}
    if spread is not None:
        result["uncertainty"] = ev.uncertainty_ranking(spread, np.abs(pred - true))
    constant = float(np.median(Recipe.from_settings(cfg["data"]).alphas))
    result["constant"] = ev.mae_table(np.full(len(true), constant), true, dims, lengths, models, edges)
    if trajectories is not None:
        clip = cfg["infer"]["clip"]
        tamsd = [ev.tamsd_alpha(t, cfg["evaluate"]["tamsd_lag_fraction"]) for t in trajectories]
        result["tamsd"] = ev.mae_table(np.clip(tamsd, *clip), true, dims, lengths, models, edges)
    if args.output:
        _write_json(args.output, result)
    print(ev.summary(result), flush=True)


def report_training(args) -> None:
    from andiflow import plots

    plots.training(args.histories, args.curves, args.best)


def report_calibration(args) -> None:
    from andiflow import plots

    plots.calibration(args.scale_json, args.output)


def report_evaluation(args) -> None:
    from andiflow import plots

    _, pred, _ = andi_io.read_predictions(args.predictions)
    dims, true, models = andi_io.read_reference(args.reference)
    lengths = [t.shape[1] for t in andi_io.read_trajectories(args.trajectories)]
    plots.evaluation(pred, true, dims, lengths, models, args.scatter, args.by_length, args.by_model)


def _ensemble(args):
    from andiflow.ensemble import Ensemble

    return Ensemble.load(args.models, args.folds, args.device, args.config["infer"]["batch_values"])


def _check_lengths(path, trajectories, min_length) -> None:
    for lineno, t in enumerate(trajectories, start=1):
        if t.shape[1] < min_length:
            raise andi_io.InputFileError(f"{path}:{lineno}: trajectory of length {t.shape[1]} is shorter than "
                                         f"the shortest trained length ({min_length})")


def _setup_torch(threads) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)
    # Gradients through long sequences decay into denormal floats, which CPUs handle up to 10x
    # slower (L=200: 57 vs 432 samples/s); flushing them to zero changes nothing measurable.
    torch.set_flush_denormal(True)


def _scale(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    path = Path(value)
    if not path.is_file():
        raise andi_io.InputFileError(f"{path}: no scale file; run the workflow's calibration or give "
                                     "--scale NUMBER (the seed's value: 1.011)")
    return float(json.loads(path.read_text())["scale"])


def _write_json(path, data) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="andiflow", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name, func, help):
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--settings", metavar="JSON", help="partial configuration as JSON (default: paper values)")
        p.set_defaults(run=func)
        return p

    def torch_options(p):
        p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
        p.add_argument("--threads", type=int, help="PyTorch CPU threads")

    def ensemble_options(p):
        p.add_argument("--models", default=DEFAULT_MODELS, help=f"trained models (default: {DEFAULT_MODELS})")
        p.add_argument("--folds", type=int, nargs="+", help="folds to average (default: all found)")
        torch_options(p)

    p = command("generate", generate, "simulate training trajectories of one length (2020 challenge recipe)")
    p.add_argument("--length", type=int, required=True)
    p.add_argument("--n", type=int, required=True, help="number of trajectories of this length")
    p.add_argument("--shard", type=int, help="write only this shard (default: all)")
    p.add_argument("-o", "--output", required=True, help="folder for shard<k>.h5 files")

    p = command("train", train, "train the model of one (length, fold)")
    p.add_argument("shards", nargs="+", help="all shards of one length")
    p.add_argument("--fold", type=int, required=True)
    p.add_argument("-o", "--output", required=True, help="model file (.pt)")
    p.add_argument("--history", help="epoch table (default: the model file with .csv)")
    torch_options(p)

    p = command("testset", testset, "simulate a challenge-style set (task1.txt, ref1.txt)")
    p.add_argument("--purpose", choices=["testset", "calibration"], default="testset",
                   help="which settings section (and seed) to use")
    p.add_argument("-o", "--output", required=True, help="folder")

    p = command("calibrate", calibrate, "fit the scale factor on an external set")
    p.add_argument("--trajectories", help="task1.txt of the calibration set")
    p.add_argument("--reference", help="ref1.txt of the calibration set")
    p.add_argument("-o", "--output", required=True, help="scale.json")
    ensemble_options(p)

    p = command("predict", predict, "infer alpha for every trajectory of a task1.txt or table of tracks")
    p.add_argument("input", help="task1.txt-style file (dim;x...;y...;z...), or a CSV table of localisations")
    p.add_argument("-o", "--output", help="dim;alpha lines, or for a table a CSV with one row per particle "
                   "(default: standard output)")
    p.add_argument("--format", choices=["auto", "task1", "tracks"], default="auto",
                   help="input format (default: tracks for a .csv file, task1 otherwise)")
    p.add_argument("--with-std", action="store_true", help="task1 input: add the ensemble spread, dim;alpha;alpha_std")
    p.add_argument("--particle-column", default="particle")
    p.add_argument("--frame-column", default="frame")
    p.add_argument("--position-columns", nargs="+", default=["x", "y", "z"],
                   help="the first 1-3 that are present give the dimension (default: x y z)")
    p.add_argument("--scale", default=DEFAULT_SCALE, help=f"scale.json or a number (default: {DEFAULT_SCALE})")
    ensemble_options(p)

    p = command("evaluate", evaluate, "MAE of predictions against a reference, beside two baselines")
    p.add_argument("predictions")
    p.add_argument("reference")
    p.add_argument("--trajectories", help="the task1.txt predicted: adds MAE per length and the TAMSD baseline")
    p.add_argument("-o", "--output", help="JSON report")

    p = command("report-training", report_training, "figures of training: MAE per epoch, best MAE per length")
    p.add_argument("histories", nargs="+", help="L<length>/fold<k>.csv epoch tables")
    p.add_argument("--curves", required=True, help="figure of validation MAE per epoch (.png or .svg)")
    p.add_argument("--best", required=True, help="figure of best validation MAE against length")

    p = command("report-calibration", report_calibration, "figure of MAE against the scale factor")
    p.add_argument("scale_json")
    p.add_argument("-o", "--output", required=True)

    p = command("report-evaluation", report_evaluation, "figures of predicted against true alpha")
    p.add_argument("predictions")
    p.add_argument("reference")
    p.add_argument("--trajectories", required=True)
    p.add_argument("--scatter", required=True, help="predicted against true alpha, per dimension")
    p.add_argument("--by-length", required=True, help="MAE against trajectory length")
    p.add_argument("--by-model", required=True, help="MAE per diffusion model")
    return parser


if __name__ == "__main__":
    sys.exit(main())
