"""`andiflow population`: the population each file's tracks come from (population_net.py)."""

from andiflow.cli.common import Columns, ensemble_options, load, read_as, reading_options, say, settings_option


def add_parser(sub, name):
    p = sub.add_parser(
        name,
        help="the population of each file's tracks: the mean of their alphas with its 90%% interval, their "
        "spread and each diffusion model's share, each with its own; of two files, also the difference of their "
        "means",
    )
    p.add_argument("inputs", nargs="+", metavar="input", help="files of tracks, any that `andiflow predict` reads")
    p.add_argument("-o", "--output", help="CSV with one row per file (default: stdout)")
    p.add_argument("--figure", metavar="PNG", help="draw the populations (means, intervals, spreads, shares)")
    p.add_argument(
        "--network",
        metavar="DIR",
        help="the folder of the ensemble's population network, where it is not in the ensemble's folder "
        "(the workflow's results/population/network)",
    )
    p.add_argument(
        "--precision",
        nargs="+",
        action=Columns,
        metavar="SIGMA|COLUMN",
        help="the localisation precision (sigma per axis), read by a second network (its interval holds the mean "
        "more often on one microscope's tracks): a number in the positions' unit (px where they are in px), or a "
        "table's column of each spot's (trackpy's ep, ThunderSTORM's 'uncertainty [nm]'; a track's is the median "
        "of its spots'), or one per axis (ep_x ep_y)",
    )
    reading_options(p)
    settings_option(p)
    ensemble_options(p)
    return p


def run(args) -> None:
    import importlib.util

    from andiflow import api, results
    from andiflow.errors import InputFileError, SettingsError

    columns = read_as(args)
    if args.figure and importlib.util.find_spec("matplotlib") is None:
        raise SettingsError("--figure needs matplotlib, which the base install leaves out: pip install matplotlib")
    if len(set(args.inputs)) < len(args.inputs):
        raise InputFileError(f"{', '.join(sorted({p for p in args.inputs if args.inputs.count(p) > 1}))}: given twice")
    inputs = {path: path for path in args.inputs}
    table = api.population(
        inputs, load(args), network=args.network, precision=precision(args.precision), warn=say, **columns
    )
    for _, row in table.iterrows():
        say(summary(row))
    if len(table) == 2 and table["alpha_mean"].notna().all():
        d = api.population_difference(table.iloc[0], table.iloc[1])
        say(
            f"{table['group'][1]} minus {table['group'][0]}: alpha mean {d['difference']:+.3f} "
            f"[{d['low']:+.3f}, {d['high']:+.3f}] (90%)"
        )
    results.write_table(args.output, table)
    if args.figure:
        from andiflow import plots

        plots.population(table, args.figure)


def precision(values: list | None):
    """--precision's values: a number, a column's name, or one per axis."""
    if values is None or len(values) > 1:
        return values
    try:
        return float(values[0])
    except ValueError:
        return values[0]


def summary(row) -> str:
    """One population in words."""
    import pandas as pd

    from andiflow.tasks import MODELS

    if pd.isna(row["alpha_mean"]):  # no answer: too few tracks
        return f"{row['group']}: {row['note']}"
    likely = [m for m in MODELS if row[f"share_{m}_high"] >= 0.05]
    shares = ", ".join(
        f"{m} {row[f'share_{m}']:.0%} [{row[f'share_{m}_low']:.0%}, {row[f'share_{m}_high']:.0%}]" for m in likely
    ) + (f", {', '.join(m for m in MODELS if m not in likely)} below 5%" if len(likely) < len(MODELS) else "")
    note = f"; {row['note']}" if row["note"] else ""
    return (
        f"{row['group']}: {row['tracks']} tracks; alpha mean {row['alpha_mean']:.3f} [{row['alpha_mean_low']:.3f}, "
        f"{row['alpha_mean_high']:.3f}] (90%), spread (sd) {row['alpha_sd']:.3f} [{row['alpha_sd_low']:.3f}, "
        f"{row['alpha_sd_high']:.3f}]; models {shares}{note}"
    )
