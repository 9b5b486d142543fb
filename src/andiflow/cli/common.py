"""What every command shares: settings, errors as one line, the ensemble options, JSON out."""

import argparse
import json
import sys
import warnings
from pathlib import Path

from andiflow import settings
from andiflow.atomic import atomic_path
from andiflow.errors import AndiflowError, InputFileError
from andiflow.workers import cores


def run_command(args) -> int:
    """Run args.run(args) with the settings parsed (args.config), every warning on one line and an
    AndiflowError as `andiflow: error: ...` (exit status 2)."""
    warnings.showwarning = lambda message, *_, **__: warn(str(message))
    try:
        args.config = settings.parse(getattr(args, "settings", None))
        if getattr(args, "backend", "torch") == "torch" and hasattr(args, "device"):
            args.device = setup_torch(args)
        args.run(args)
    except AndiflowError as err:
        print(f"andiflow: error: {err}", file=sys.stderr)
        return 2
    return 0


def settings_option(p) -> None:
    p.add_argument("--settings", metavar="JSON", help="sections of a resolved configuration, as JSON")


def ensemble_options(p, default=None) -> None:
    p.add_argument(
        "--models",
        default=default,
        help="a shipped ensemble's name, a folder with manifest.json, or a manifest"
        + (" (default: the shipped default ensemble)" if not default else ""),
    )
    p.add_argument(
        "--backend",
        choices=["onnx", "torch"],
        default="onnx",
        help="run the networks in ONNX Runtime (default) or PyTorch (needs the workflow extra; for a GPU)",
    )
    torch_options(p)


def reading_options(p) -> None:
    """How a table's columns and missing frames are read (tracks.py)."""
    from andiflow.tracks import GAPS

    p.add_argument(
        "--particle-column", help="a table's particle column (default: recognised: particle, track_id, TRACK_ID, ...)"
    )
    p.add_argument("--frame-column", help="a table's frame column (default: recognised: frame, FRAME, t, ...)")
    p.add_argument(
        "--position-columns",
        nargs="+",
        action=Columns,
        help="the first 1-3 that are present give the dimension (default: recognised: x y z, 'x [nm]', ...)",
    )
    p.add_argument(
        "--gaps",
        choices=GAPS,
        default="bridge",
        help="frames missing within a particle: use its points as consecutive (bridge, the default: the "
        "best measured), fill them on straight lines (interpolate), or keep its longest run of consecutive "
        "frames (split); its note says which",
    )


class Columns(argparse.Action):
    """An option taking one or more columns' names (nargs "+"), which would also take the input files
    written after it: a name that is an existing file is refused, saying how to write it."""

    def __call__(self, parser, namespace, values, option_string=None):
        files = [v for v in values if Path(v).is_file()]
        if files:
            raise argparse.ArgumentError(
                self,
                f"{files[0]!r} is a file, not a column: put the input files before {option_string}, "
                "or all of them after --",
            )
        setattr(namespace, self.dest, values)


def read_as(args) -> dict:
    """The reading options as tracks.read_tracks takes them."""
    return dict(particle=args.particle_column, frame=args.frame_column, positions=args.position_columns, gaps=args.gaps)


def torch_options(p) -> None:
    p.add_argument("--device", help="cpu or cuda (default: cuda if PyTorch sees one)")
    p.add_argument(
        "--threads",
        type=int,
        default=cores(),
        help="CPU cores: worker processes of one thread each (ONNX), or PyTorch's threads "
        f"(default: the cores this process may use, {cores()} here)",
    )


def load(args):
    """The ensemble the options name, batched as the settings say."""
    from andiflow.api import load_ensemble

    batch_values = args.config["batch_values"]
    ens = load_ensemble(
        args.models, backend=args.backend, device=args.device, threads=args.threads, batch_values=batch_values
    )
    if args.models is None:
        print(f"andiflow: using the shipped ensemble {ens.describe()} (--models names another)", file=sys.stderr)
    return ens


def setup_torch(args) -> str:
    """The device: the command line's, else the GPU when PyTorch sees one, else the CPU; and the threads."""
    import torch

    torch.set_num_threads(args.threads)
    # Gradients through long sequences decay into denormal floats, which CPUs handle up to 10x
    # slower (L=200: 57 vs 432 samples/s); flushing them to zero changes nothing measurable.
    torch.set_flush_denormal(True)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise settings.SettingsError(f"device {device} was asked for, but PyTorch sees no GPU here (use cpu)")
    return device


def level(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a level between 0 and 1 (e.g. 0.9)")
    return value


def scale(value: str) -> float:
    """A number, or the scale of a scale.json written by `andiflow-step calibrate`."""
    try:
        return float(value)
    except ValueError:
        pass
    path = Path(value)
    if not path.is_file():
        raise InputFileError(
            f"{path}: no scale file; give --scale NUMBER (HNU's value: 1.011) "
            "or a scale.json written by `andiflow-step calibrate`"
        )
    return float(json.loads(path.read_text())["scale"])


def warn(message: str) -> None:
    print(f"andiflow: warning: {message}", file=sys.stderr, flush=True)


def say(message: str) -> None:
    print(f"andiflow: {message}", file=sys.stderr, flush=True)


def write_json(path, data) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
