"""`andiflow predict|evaluate`: what users run; `andiflow generate|train|testset|calibrate|intervals|
ensemble|card|report-*`: the steps the workflow's rules run. Each command reads its arguments, calls
the library and writes. Method settings come from `--settings` (JSON, a partial configuration in the
workflow's format); anything not given there takes the paper value of the schema. Only training, and
models run with `--backend torch`, need PyTorch."""

import argparse
import json
import sys
import warnings
from pathlib import Path

from andiflow import GENERATOR_VERSION, andi_io, settings
from andiflow.atomic import atomic_path
from andiflow.errors import AndiflowError, ModelFileError
from andiflow.seeds import derive_seed
from andiflow.tasks import MODELS, TASKS

USER_COMMANDS = ("predict", "evaluate")  # the others are the steps the workflow's rules run


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    warnings.showwarning = lambda message, *_, **__: _warn(str(message))  # one line each, no source line
    try:
        args.config = settings.parse(args.settings)
        given = settings.given(args.settings)
        args.threads = getattr(args, "threads", None) or given.get("threads") or 1
        if getattr(args, "backend", "torch") == "torch" and hasattr(args, "device"):
            args.device = _setup_torch(args, given)
        args.run(args)
    except AndiflowError as err:
        print(f"andiflow: error: {err}", file=sys.stderr)
        return 2
    return 0


def generate(args) -> None:
    """Shards of `--n` trajectories at one length, the 2020 challenge recipe, one seed per shard."""
    from andiflow import shards, simulate

    cfg = args.config
    rows = shards.plan(args.n, cfg["data"]["shard_size"])
    if args.shard is not None and not 0 <= args.shard < len(rows):
        raise settings.SettingsError(f"--shard {args.shard} is outside 0..{len(rows) - 1} for --n {args.n}")
    recipe = simulate.Recipe.from_settings(cfg["data"])
    for shard in [args.shard] if args.shard is not None else range(len(rows)):
        # 1D shards keep the seeds they had before 2D/3D shards existed
        seed = derive_seed(cfg["seed"], "generate", args.length, shard, *([args.dim] if args.dim > 1 else []))
        arrays = simulate.training_shard(args.length, rows[shard], seed, recipe, args.dim)
        attrs = dict(
            seed=seed,
            base_seed=cfg["seed"],
            shard=shard,
            generator_version=GENERATOR_VERSION,
            alphas=recipe.alphas,
            noise_sigmas=recipe.noise_sigmas,
            positions="z-scored",
        )
        shards.write_shard(Path(args.output) / f"shard{shard}.h5", arrays, attrs)
        in_dim = f" {args.dim}D" if args.dim > 1 else ""
        print(f"L={args.length}{in_dim} shard {shard + 1}/{len(rows)}: {rows[shard]} trajectories", flush=True)


def train(args) -> None:
    from andiflow import shards
    from andiflow import train as training

    data = shards.open_length(args.shards)
    resume_path = Path(args.output).with_suffix(".resume.pt")
    task = TASKS[args.task]
    best, history = training.train_fold(
        data["positions"],
        data[task.target],
        args.fold,
        args.config,
        args.device,
        log=lambda line: print(line, flush=True),
        resume_path=resume_path,
        init=args.init,
        task=task.name,
    )
    history_path = args.history or Path(args.output).with_suffix(".csv")
    training.save(
        dict(best, trained_on=training.device_name(args.device)), history, args.config, args.output, history_path
    )
    resume_path.unlink(missing_ok=True)
    print(f"best epoch {best['epoch']}: {task.metric} {best[task.metric]:.4f}", flush=True)


def testset(args) -> None:
    """A challenge-style set of trajectories (lengths uniform in a range) with its reference; the
    interval set also gets its long tracks (intervals.long_tracks)."""
    from andiflow import simulate

    cfg = args.config
    section = cfg[args.purpose]
    dims = [1] if args.purpose == "calibrate" else [1, 2, 3] if args.purpose == "intervals" else section["dims"]
    n = section["n"] if args.purpose == "calibrate" else section["n_per_dim"]
    seed_stage = "calibration" if args.purpose == "calibrate" else args.purpose
    spans = [(n, section["min_length"], section["max_length"], seed_stage)]
    if section.get("long_tracks"):
        long = section["long_tracks"]
        spans.append((long["n_per_dim"], section["max_length"] + 1, long["max_length"], f"{seed_stage}-long"))
    recipe = simulate.Recipe.from_settings(cfg["data"])
    columns = [[], [], [], []]  # trajectories, dimensions, alphas, models
    for count, low, high, stage in spans:
        for column, part in zip(columns, simulate.challenge_set(count, dims, low, high, cfg["seed"], stage, recipe)):
            column += part
    trajectories, ref_dims, alphas, models = columns
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
            raise settings.SettingsError(
                "calibrate needs --trajectories and --reference, unless calibrate.scale fixes the scale"
            )
        _, true, _ = andi_io.read_reference(args.reference)
        raw, _ = _ensemble(args).predict(andi_io.read_trajectories(args.trajectories), _line(args.trajectories))
        result = fit_scale(raw, true, scale_grid(cfg["calibrate"]["scale_grid"]), cfg["infer"]["clip"])
        result["source"] = f"fitted on {args.trajectories}"
    _write_json(args.output, result)
    print(f"scale {result['scale']:.4f} ({result['source']})", flush=True)


def temperature(args) -> None:
    """The model task's temperature per dimension, fitted on a held-out set whose reference names models."""
    from andiflow.calibrate import fit_temperature

    dims, models = andi_io.read_reference_models(args.reference)
    mean_log_p = _ensemble(args).mean_log_probabilities(andi_io.read_trajectories(args.trajectories))
    result = fit_temperature(mean_log_p, models, dims)
    _write_json(args.output, result)
    for d, fit in result.items():
        print(f"{d}D: temperature {fit['temperature']:.2f}, NLL {fit['nll_before']:.4f} -> {fit['nll_after']:.4f}")


def intervals(args) -> None:
    """The interval table: split-conformal on a held-out set, predicted with the calibrated scale."""
    from andiflow import intervals as iv

    trajectories = andi_io.read_trajectories(args.trajectories)
    dims, true, _ = andi_io.read_reference(args.reference)
    est = _ensemble(args).estimate(
        trajectories, scale=_scale(args.scale), where=_line(args.trajectories), with_model=False
    )
    lengths = [t.shape[1] for t in trajectories]
    table = iv.calibrate(
        est["alpha"], true, dims, lengths, est["std"], args.config["intervals"], args.config["infer"]["clip"]
    )
    _write_json(args.output, table)
    for bins, cov in table["split_halves"].items():
        print(
            f"{bins} spread bin(s), fitted on even rows, on odd rows: coverage {cov['all']['coverage']:.3f}, "
            f"mean width {cov['all']['width']:.3f}",
            flush=True,
        )


def ensemble(args) -> None:
    """An ensemble folder: the models, their checksums, the scale and interval table, the manifest."""
    from andiflow.ensemble import assemble

    scale = _scale(args.scale) if args.scale else None
    table = json.loads(Path(args.intervals).read_text()) if args.intervals else None
    temperature = None
    if args.temperature:
        fitted = json.loads(Path(args.temperature).read_text())
        temperature = {d: fit["temperature"] for d, fit in fitted.items()}
    manifest = assemble(
        args.models,
        args.output,
        name=args.name,
        settings=args.config,
        command=args.command,
        scale=scale,
        intervals=table,
        clip=args.config["infer"]["clip"],
        windows=args.config["infer"]["windows"],
        temperature=temperature,
        onnx_weights=args.config["infer"]["onnx_weights"],
        median=args.config["infer"]["median"],
    )
    print(f"{len(manifest['members'])} models in {args.output}", flush=True)


def predict(args) -> None:
    """alpha (and spread, interval) for each trajectory of a task1.txt, or each particle of a table."""
    from andiflow import api, tracks

    ens = _ensemble(args)
    scale = _scale(args.scale) if args.scale else None
    fmt = tracks.detect_format(args.input) if args.format == "auto" else args.format
    level = args.interval or (_default_level(ens) if fmt != "task1" else None)
    columns = dict(particle=args.particle_column, frame=args.frame_column, positions=args.position_columns)
    if args.task == "model" and not ens.classifiers_of:
        raise ModelFileError(f"{ens.describe()}: has no members of the model task (--task model)")
    classify = fmt != "task1" or args.task == "model"  # task1's alpha lines need no classifiers
    table = api.predict_file(args.input, ens, scale, level, _warn, fmt, args.strict, classify, **columns)
    if fmt != "task1":
        tracks.write_alphas(args.output, table)
    elif args.task == "model":
        p = [table[f"p_{name}"].astype(float) for name in MODELS]
        andi_io.write_predictions(args.output, table["dim"].astype(float), *p)
    else:
        andi_io.write_predictions(
            args.output,
            table["dim"].astype(float),
            table["alpha"].astype(float),
            table["alpha_std"].astype(float) if args.with_std else None,
            *(table[c].astype(float) for c in ("alpha_low", "alpha_high")) if level else (None, None),
        )
    if args.output:
        rows = "particles" if fmt != "task1" else "trajectories"
        summary = f"{table['alpha'].notna().sum()} of {len(table)} {rows}"
        print(f"{summary} of {args.input} predicted into {args.output}", flush=True)


def evaluate(args) -> None:
    import numpy as np

    from andiflow import evaluate as ev

    cfg = args.config
    if andi_io.is_model_predictions(args.predictions):
        result = ev.evaluate_models(
            args.predictions, args.reference, args.trajectories, length_edges=cfg["evaluate"]["length_edges"]
        )
        if args.output:
            _write_json(args.output, result)
        return print(ev.model_summary(result), flush=True)
    compare = dict(item.split("=", 1) for item in args.compare)
    result = ev.evaluate(
        args.predictions,
        args.reference,
        args.trajectories,
        compare=compare,
        constant=float(np.median(settings.alpha_grid(cfg["data"]["alphas"]))),
        clip=cfg["infer"]["clip"],
        tamsd_lag_fraction=cfg["evaluate"]["tamsd_lag_fraction"],
        length_edges=cfg["evaluate"]["length_edges"],
    )
    if args.output:
        _write_json(args.output, result)
    print(ev.summary(result), flush=True)


def card(args) -> None:
    """The ensemble's MODEL_CARD.md, and beside it the evaluation it quotes (evaluation.json)."""
    from andiflow.card import model_card
    from andiflow.ensemble import read_manifest

    manifest, folder = read_manifest(args.ensemble)
    evaluation = json.loads(Path(args.evaluation).read_text())
    _write_json(folder / "evaluation.json", evaluation)
    model_evaluation = None
    if args.model_evaluation:
        model_evaluation = json.loads(Path(args.model_evaluation).read_text())
        _write_json(folder / "model_evaluation.json", model_evaluation)
    with atomic_path(folder / "MODEL_CARD.md") as tmp:
        Path(tmp).write_text(model_card(manifest, evaluation, model_evaluation))


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


def _ensemble(args):
    from andiflow.api import load_ensemble

    batch_values = args.config["infer"]["batch_values"]
    ens = load_ensemble(
        args.models, backend=args.backend, device=args.device, threads=args.threads, batch_values=batch_values
    )
    if args.models is None:
        print(f"andiflow: using the shipped ensemble {ens.describe()} (--models names another)", file=sys.stderr)
    return ens


def _default_level(ens):
    """Tables get intervals at the level the ensemble was calibrated for, when it has a table."""
    table = ens.manifest.get("intervals")
    return table["level"] if table else None


def _level(text: str) -> float:
    level = float(text)
    if not 0 < level < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a level between 0 and 1 (e.g. 0.9)")
    return level


def _line(path):
    return lambda i: f"{path}:{i + 1}"


def _warn(message: str) -> None:
    print(f"andiflow: warning: {message}", file=sys.stderr, flush=True)


def _setup_torch(args, given: dict) -> str:
    """The device and threads: the command line's, else the settings', else the CPU (or the GPU when
    there is one) and one thread."""
    import torch

    torch.set_num_threads(args.threads)
    # Gradients through long sequences decay into denormal floats, which CPUs handle up to 10x
    # slower (L=200: 57 vs 432 samples/s); flushing them to zero changes nothing measurable.
    torch.set_flush_denormal(True)
    device = args.device or given.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise settings.SettingsError(f"device {device} was asked for, but PyTorch sees no GPU here (use cpu)")
    return device


def _scale(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    path = Path(value)
    if not path.is_file():
        raise andi_io.InputFileError(
            f"{path}: no scale file; give --scale NUMBER (HNU's value: 1.011) "
            "or a scale.json written by `andiflow calibrate`"
        )
    return float(json.loads(path.read_text())["scale"])


def _write_json(path, data) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="andiflow", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name, func, help):
        help = help if name in USER_COMMANDS else f"[a workflow step] {help}"
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--settings", metavar="JSON", help="partial configuration as JSON (default: paper values)")
        p.set_defaults(run=func)
        return p

    def torch_options(p):
        p.add_argument("--device", help="cpu or cuda (default: the settings' device, else cuda if present)")
        p.add_argument("--threads", type=int, help="PyTorch CPU threads (default: the settings', else 1)")

    def ensemble_options(p, default):
        p.add_argument(
            "--models",
            default=default,
            help="a shipped ensemble's name or a folder with manifest.json"
            + (" (default: the shipped default ensemble)" if not default else ""),
        )
        p.add_argument(
            "--backend",
            choices=["onnx", "torch"],
            default="onnx",
            help="run the models in ONNX Runtime (default) or PyTorch (needs the workflow extra; for a GPU)",
        )
        p.add_argument(
            "--device", help="with --backend torch: cpu or cuda (default: the settings', else cuda if present)"
        )
        p.add_argument("--threads", type=int, help="CPU threads (default: the settings', else 1)")

    p = command("generate", generate, "simulate training trajectories of one length (2020 challenge recipe)")
    p.add_argument("--length", type=int, required=True)
    p.add_argument("--n", type=int, required=True, help="number of trajectories of this length")
    p.add_argument("--shard", type=int, help="write only this shard (default: all)")
    p.add_argument("--dim", type=int, choices=(1, 2, 3), default=1, help="dimension (default: 1, HNU's data)")
    p.add_argument("-o", "--output", required=True, help="folder for shard<k>.h5 files")

    p = command("train", train, "train the model of one (length, fold)")
    p.add_argument("shards", nargs="+", help="all shards of one length")
    p.add_argument("--fold", type=int, required=True)
    p.add_argument("-o", "--output", required=True, help="model file (.pt)")
    p.add_argument("--history", help="epoch table (default: the model file with .csv)")
    p.add_argument("--init", help="warm start: begin from this model file's weights (another length's model)")
    p.add_argument("--task", choices=sorted(TASKS), default="alpha", help="what to learn (default: alpha)")
    torch_options(p)

    p = command("testset", testset, "simulate a challenge-style set (task1.txt, ref1.txt)")
    p.add_argument(
        "--purpose",
        choices=["testset", "calibrate", "intervals"],
        default="testset",
        help="which settings section (and seed) to use",
    )
    p.add_argument("-o", "--output", required=True, help="folder")

    p = command("calibrate", calibrate, "fit the scale factor on an external set")
    p.add_argument("--trajectories", help="task1.txt of the calibration set")
    p.add_argument("--reference", help="ref1.txt of the calibration set")
    p.add_argument("-o", "--output", required=True, help="scale.json")
    ensemble_options(p, "results/models")

    p = command("intervals", intervals, "calibrate the intervals on a held-out set (split-conformal)")
    p.add_argument("--trajectories", required=True, help="task1.txt of the held-out set")
    p.add_argument("--reference", required=True, help="its ref1.txt")
    p.add_argument("--scale", required=True, help="scale.json or a number")
    p.add_argument("-o", "--output", required=True, help="intervals.json")
    ensemble_options(p, "results/models")

    p = command("ensemble", ensemble, "write an ensemble folder (models, manifest) from trained models")
    p.add_argument("models", nargs="+", help="model files L<length>/fold<k>.pt")
    p.add_argument("-o", "--output", required=True, help="folder (models are copied into it if elsewhere)")
    p.add_argument("--name", required=True)
    p.add_argument("--command", required=True, help="the command that rebuilds the ensemble")
    p.add_argument("--scale", help="scale.json or a number")
    p.add_argument("--intervals", help="intervals.json")
    p.add_argument("--temperature", help="temperature.json of the model task")

    p = command(
        "temperature", temperature, "calibrate the model task's probabilities on a held-out set (one per dimension)"
    )
    p.add_argument("--trajectories", required=True, help="task1.txt of the held-out set")
    p.add_argument("--reference", required=True, help="its ref1.txt, naming each trajectory's model")
    p.add_argument("-o", "--output", required=True, help="temperature.json")
    ensemble_options(p, "results/models")

    p = command("predict", predict, "infer alpha for every trajectory of a task1.txt or table of tracks")
    p.add_argument(
        "input",
        help="task1.txt (dim;x...;y...;z...), a CSV table of localisations (trackpy), "
        "a TrackMate spots CSV or model XML, or a tracks XML (ISBI 2012)",
    )
    p.add_argument(
        "-o",
        "--output",
        help="dim;alpha lines, or for a table a CSV with one row per particle (default: standard output)",
    )
    p.add_argument(
        "--format",
        choices=["auto", "task1", "table", "trackmate-csv", "trackmate-xml", "tracks-xml"],
        default="auto",
        help="input format (default: recognised from the content)",
    )
    p.add_argument("--with-std", action="store_true", help="task1 input: add the ensemble spread, dim;alpha;alpha_std")
    p.add_argument(
        "--task",
        choices=sorted(TASKS),
        default="alpha",
        help="task1 input: write Task 1 lines (dim;alpha) or Task 2 lines (dim;p_attm;p_ctrw;p_fbm;p_lw;p_sbm); "
        "tables get both (model, p_<model> columns) from an ensemble that has the model task",
    )
    p.add_argument(
        "--interval",
        type=_level,
        metavar="P",
        help="add the calibrated central interval at level P (task1: ;low;high; tables: at the "
        "ensemble's level unless given)",
    )
    p.add_argument("--particle-column", default="particle")
    p.add_argument("--frame-column", default="frame")
    p.add_argument(
        "--position-columns",
        nargs="+",
        default=["x", "y", "z"],
        help="the first 1-3 that are present give the dimension (default: x y z)",
    )
    p.add_argument("--scale", help="scale.json or a number (default: the ensemble's)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first particle or line that cannot have an alpha, naming it (default: give it an "
        "empty alpha and the reason, and predict the others)",
    )
    ensemble_options(p, None)

    p = command(
        "evaluate",
        evaluate,
        "MAE of alpha predictions (dim;alpha lines) against a reference, beside two baselines; or, for Task 2 "
        "predictions (dim;p_attm;...;p_sbm), micro-F1, confusion and calibration against a reference naming models",
    )
    p.add_argument("predictions")
    p.add_argument("reference")
    p.add_argument("--trajectories", help="the task1.txt predicted: adds MAE per length and the TAMSD baseline")
    p.add_argument(
        "--compare",
        nargs="*",
        default=[],
        metavar="NAME=FILE",
        help="other predictions of the same trajectories to show beside (e.g. shipped=FILE)",
    )
    p.add_argument("-o", "--output", help="JSON report")

    p = command("card", card, "write MODEL_CARD.md into an ensemble folder, from its manifest and test-set evaluation")
    p.add_argument("ensemble", help="ensemble folder")
    p.add_argument("--evaluation", required=True, help="evaluation JSON of its test set (copied beside the card)")
    p.add_argument("--model-evaluation", help="the Task 2 evaluation JSON of the same test set (copied likewise)")

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

    p = command("report-confusion", report_confusion, "figure of the model task's confusion matrix")
    p.add_argument("evaluation", help="the JSON evaluate writes for Task 2 predictions")
    p.add_argument("-o", "--output", required=True, help="figure (.png or .svg)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
