"""`andiflow generate|normalize|train|testset|calibrate|predict|evaluate`: what the workflow's rules
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
        if getattr(args, "threads", None):
            import torch

            torch.set_num_threads(args.threads)
        args.run(args)
    except (andi_io.InputFileError, ShardError, ModelFileError, settings.SettingsError) as err:
        print(f"andiflow: error: {err}", file=sys.stderr)
        return 2
    return 0


def generate(args) -> None:
    """Shards of `--n` trajectories at one length, the 2020 challenge recipe, one seed per shard."""
    from andiflow import shards, simulate

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
        arrays = dict(positions=t.positions[:, 0], alpha=t.alpha, model=t.model, sigma=t.sigma)
        attrs = dict(seed=seed, base_seed=cfg["seed"], shard=shard, generator_version=GENERATOR_VERSION,
                     alphas=recipe.alphas, noise_sigmas=recipe.noise_sigmas, normalized=False)
        shards.write_shard(Path(args.output) / f"shard{shard}.h5", arrays, attrs)
        print(f"L={args.length} shard {shard + 1}/{n_shards}: {n} trajectories", flush=True)


def normalize(args) -> None:
    from andiflow import shards
    from andiflow.normalize import zscore

    arrays, attrs = shards.read_shard(args.input)
    arrays["positions"] = zscore(arrays["positions"])
    shards.write_shard(args.output, arrays, {**attrs, "normalized": True})


def train(args) -> None:
    from andiflow import shards
    from andiflow import train as training
    from andiflow.normalize import zscore

    first, _ = shards.read_shard(args.shards[0])
    data = shards.open_length(args.shards, first["positions"].shape[1])
    positions = data["positions"] if _all_normalized(args.shards) else zscore(data["positions"])
    checkpoint, history = training.train_fold(positions, data["alpha"], args.fold, args.config, args.device)
    history_path = args.history or Path(args.output).with_suffix(".csv")
    training.save(checkpoint, history, args.output, history_path)
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
        ensemble = _ensemble(args, trajectories)
        raw = ensemble.predict(trajectories)
        result = fit_scale(raw, true, scale_grid(cfg["calibrate"]["scale_grid"]), cfg["infer"]["clip"])
        result["source"] = f"fitted on {args.trajectories}"
    _write_json(args.output, result)
    print(f"scale {result['scale']:.4f} ({result['source']})", flush=True)


def predict(args) -> None:
    from andiflow.ensemble import finish

    trajectories = andi_io.read_trajectories(args.input)
    ensemble = _ensemble(args, trajectories)
    alpha = finish(ensemble.predict(trajectories), _scale(args.scale), args.config["infer"]["clip"])
    dims = [len(t) for t in trajectories]
    if args.output:
        andi_io.write_predictions(args.output, dims, alpha)
    else:
        sys.stdout.write(andi_io.format_predictions(dims, alpha))


def evaluate(args) -> None:
    from andiflow import evaluate as ev
    from andiflow.simulate import Recipe

    cfg = args.config
    pred_dims, pred, _ = andi_io.read_reference(args.predictions)
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
    constant = float(np.median(Recipe.from_settings(cfg["data"]).alphas))
    result["constant"] = ev.mae_table(np.full(len(true), constant), true, dims, lengths, models, edges)
    if trajectories is not None:
        clip = cfg["infer"]["clip"]
        tamsd = [ev.tamsd_alpha(t, cfg["evaluate"]["tamsd_lag_fraction"]) for t in trajectories]
        result["tamsd"] = ev.mae_table(np.clip(tamsd, *clip), true, dims, lengths, models, edges)
    if args.output:
        _write_json(args.output, result)
    print(ev.summary(result), flush=True)


def _ensemble(args, trajectories):
    from andiflow.ensemble import Ensemble

    folds = args.folds if args.folds else None
    ensemble = Ensemble.load(args.models, folds, args.device, args.config["infer"]["batch_values"])
    path = getattr(args, "input", None) or args.trajectories
    for lineno, t in enumerate(trajectories, start=1):
        if t.shape[1] < ensemble.min_length:
            raise andi_io.InputFileError(f"{path}:{lineno}: trajectory of length {t.shape[1]} is shorter than "
                                         f"the shortest trained length ({ensemble.min_length})")
    return ensemble


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


def _all_normalized(paths) -> bool:
    from andiflow import shards

    return all(bool(shards.read_shard(p)[1].get("normalized")) for p in paths)


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

    p = command("normalize", normalize, "z-score the positions of every trajectory of a shard")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)

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

    p = command("predict", predict, "infer alpha for every trajectory of a task1.txt")
    p.add_argument("input", help="task1.txt-style file (dim;x...;y...;z...)")
    p.add_argument("-o", "--output", help="prediction file dim;alpha (default: standard output)")
    p.add_argument("--scale", default=DEFAULT_SCALE, help=f"scale.json or a number (default: {DEFAULT_SCALE})")
    ensemble_options(p)

    p = command("evaluate", evaluate, "MAE of predictions against a reference, beside two baselines")
    p.add_argument("predictions")
    p.add_argument("reference")
    p.add_argument("--trajectories", help="the task1.txt predicted: adds MAE per length and the TAMSD baseline")
    p.add_argument("-o", "--output", help="JSON report")
    return parser


if __name__ == "__main__":
    sys.exit(main())
