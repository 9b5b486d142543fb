"""`andiflow predict`: alpha (and the diffusion model) for every trajectory of a file."""

from andiflow.cli.common import (
    ensemble_options,
    level,
    load,
    read_as,
    reading_options,
    say,
    scale,
    settings_option,
    warn,
)
from andiflow.segmenter import STATE_MIXES
from andiflow.tasks import TASKS


def add_parser(sub, name):
    p = sub.add_parser(name, help="infer alpha for every trajectory of a task1.txt or table of tracks")
    p.add_argument(
        "input",
        help="task1.txt (dim;x...;y...;z...), a CSV table of localisations (trackpy), "
        "a TrackMate spots CSV or model XML, a tracks XML (ISBI 2012), or Icy's tracks XML",
    )
    p.add_argument(
        "-o", "--output", help="dim;alpha lines, or for a table a CSV with one row per particle (default: stdout)"
    )
    p.add_argument(
        "--format",
        choices=["auto", "task1", "table", "trackmate-csv", "trackmate-xml", "tracks-xml", "icy-xml"],
        default="auto",
        help="input format (default: recognised from the content)",
    )
    p.add_argument("--with-std", action="store_true", help="task1 input: add the ensemble spread, dim;alpha;alpha_std")
    p.add_argument(
        "--task",
        choices=sorted(TASKS),
        help="task1 input: write Task 1 lines (dim;alpha, the default) or Task 2 lines "
        "(dim;p_attm;p_ctrw;p_fbm;p_lw;p_sbm); a table gets the columns of every task the ensemble has "
        "(model, p_<model> of the diffusion_model task), of alpha alone with --task alpha. segments: where "
        "each track's motion changes, with each segment's alpha, K and state (the 2024 challenge; default "
        "ensemble segments-gpu): a .txt output gets the challenge's lines, any other a CSV of one row per "
        "segment",
    )
    p.add_argument(
        "--pixel-size", type=float, metavar="UM", help="segments: µm per position unit, for K in µm²/s^alpha"
    )
    p.add_argument(
        "--per-frame",
        action="store_true",
        help="segments: the networks' outputs at every frame (p_changepoint, alpha, log10_K, p_<state>) "
        "instead of the segments",
    )
    p.add_argument(
        "--state-mix",
        choices=STATE_MIXES,
        default="training",
        help="segments: read each segment's state by the training recipe's mix of states (default) or by "
        "the mix of the file's segments (for a file of one experiment or condition)",
    )
    p.add_argument(
        "--frame-interval",
        type=float,
        metavar="S",
        help="segments: seconds between frames, for K in µm²/s^alpha (default: the file's, where it says)",
    )
    p.add_argument(
        "--interval",
        type=level,
        metavar="P",
        help="add the calibrated central interval at level P (task1: ;low;high; tables: at the "
        "ensemble's level unless given)",
    )
    reading_options(p)
    p.add_argument("--scale", type=scale, help="scale.json or a number (default: the ensemble's)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first particle or line that cannot have an alpha, naming it (default: give it an "
        "empty alpha and the reason, and predict the others)",
    )
    settings_option(p)
    ensemble_options(p)
    return p


def run(args) -> None:
    from andiflow import api

    columns = read_as(args)
    if args.task == "segments":
        ens = api.load_ensemble(args.models or api.SEGMENTS_DEFAULT)
        if args.models is None:
            say(f"using the shipped ensemble {ens.describe()} (--models names another)")
        summary = api.predict_segments_into(
            args.input, args.output, ens, format=args.format, pixel_size=args.pixel_size,
            frame_interval=args.frame_interval, per_frame=args.per_frame, state_mix=args.state_mix, info=say,
            strict=args.strict, **columns,
        )  # fmt: skip
        if args.output:
            print(summary, flush=True)
        return
    summary = api.predict_into(
        args.input, args.output, load(args), task=args.task, format=args.format, interval=args.interval,
        with_std=args.with_std, scale=args.scale, strict=args.strict, warn=warn, info=say, **columns,
    )  # fmt: skip
    if args.output:
        print(summary, flush=True)
