"""`andiflow population`: the population each file's tracks come from, and two files compared."""

from andiflow.cli.common import ensemble_options, level, load, read_as, reading_options, say, settings_option


def add_parser(sub, name):
    p = sub.add_parser(
        name,
        help="the population of alpha (its mean and spread, with intervals) and the share of each diffusion "
        "model, from all the tracks of a file; for two files, the difference of their mean alphas",
    )
    p.add_argument("inputs", nargs="+", metavar="FILE", help="files of tracks (any format `andiflow predict` reads)")
    p.add_argument("-o", "--output", help="CSV, one row per file (default: stdout)")
    p.add_argument("--level", type=level, default=0.9, help="level of the central intervals (default: 0.9)")
    p.add_argument("--plot", metavar="PNG", help="a figure of each file's population (needs matplotlib)")
    reading_options(p)
    settings_option(p)
    ensemble_options(p)
    return p


def run(args) -> None:
    import pandas as pd

    from andiflow import api, results

    ens = load(args)
    rows = [api.population(path, ens, args.level, **read_as(args)).assign(group=str(path)) for path in args.inputs]
    table = pd.concat(rows, ignore_index=True)
    for row in table.itertuples():
        say(_summary(row, args.level))
    if len(args.inputs) == 2:
        first, second = args.inputs
        diff = api.population_difference(first, second, ens, args.level, **read_as(args))
        say(
            f"{second} - {first}: mean alpha {diff['difference']:+.3f} "
            f"[{diff['low']:+.3f}, {diff['high']:+.3f}] ({args.level:.0%})"
        )
        table = pd.concat(
            [table, pd.DataFrame([dict(group=f"{second} - {first}", alpha_mean=diff["difference"],
                                       alpha_mean_low=diff["low"], alpha_mean_high=diff["high"])])],
            ignore_index=True,
        )  # fmt: skip
    results.write_table(args.output, table)
    if args.plot:
        from andiflow import plots

        plots.population(table[table["group"].isin(map(str, args.inputs))], args.plot, args.level)


def _summary(row, level: float) -> str:
    if not row.n_tracks or row.n_tracks < 2:
        return f"{row.group}: {row.n_tracks} tracks read, too few for a population"
    text = (
        f"{row.group}: {row.n_tracks} tracks: alpha mean {row.alpha_mean:.3f} [{row.alpha_mean_low:.3f}, "
        f"{row.alpha_mean_high:.3f}], sd {row.alpha_sd:.3f} [{row.alpha_sd_low:.3f}, {row.alpha_sd_high:.3f}] "
        f"({level:.0%})"
    )
    shares = {
        k[6:]: v for k, v in row._asdict().items() if k.startswith("share_") and not k.endswith(("_low", "_high"))
    }
    if shares:
        text += "; " + ", ".join(f"{m} {v:.2f}" for m, v in sorted(shares.items(), key=lambda kv: -kv[1]))
    return text
