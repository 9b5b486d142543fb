"""`andiflow evaluate`: predictions (Task 1 or Task 2 lines) against a reference."""

from andiflow.cli.common import settings_option, write_json
from andiflow.tasks import TASKS


def add_parser(sub, name):
    p = sub.add_parser(
        name,
        help="MAE of alpha predictions (dim;alpha lines) against a reference, beside two baselines; or, for Task 2 "
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
    p.add_argument(
        "--task",
        choices=sorted(TASKS),
        help="what the predictions answer (default: Task 2 lines, six fields, are the diffusion_model's)",
    )
    p.add_argument("-o", "--output", help="JSON report")
    settings_option(p)
    return p


def run(args) -> None:
    from andiflow import evaluate

    compare = dict(item.split("=", 1) for item in args.compare)
    result, text = evaluate.evaluate_file(
        args.predictions, args.reference, args.trajectories, compare, args.config, args.task
    )
    if args.output:
        write_json(args.output, result)
    print(text, flush=True)
