"""The model card of an ensemble: what it is, how it was made, and how well it does, written from its
manifest and the evaluation of its test set (so that every number can be checked against them)."""

from andiflow.evaluate import NAMES
from andiflow.population_net import PRECISION
from andiflow.settings import model_settings

SCHEDULES = {"plateau": "x1/5 on a plateau, HNU's rule", "cosine": "cosine decay to 0"}


def model_card(manifest: dict, evaluation: dict, model_evaluation: dict | None = None, populations=()) -> str:
    """The card; with the Task 2 evaluation of the same test set, its section on the diffusion model;
    with its population networks' descriptions (population.json, population_precision.json), theirs."""
    cfg, members = manifest["settings"], manifest["members"]
    return (
        "\n".join(
            [
                f"# Model card: {manifest['name']}",
                "",
                _method(cfg) + " Made by andiflow's own workflow; rebuild it with",
                "",
                f"    {manifest['command']}",
                "",
                *_training(cfg, members),
                *_calibration(manifest),
                *_test(cfg, evaluation),
                *(_models(manifest, model_evaluation) if model_evaluation else []),
                *(line for description in populations for line in _population(description)),
            ]
        )
        + "\n"
    )


ENCODERS = {
    "lstm": "HNU's LSTM over the z-scored positions",
    "wavenet": "WADNet's WaveNet encoder (gated dilated convolutions) and LSTM",
    "convlstm": "a convolutional LSTM over blocks of RMS-scaled displacements",
}
RULES = {
    "head_tail": "the nearest smaller trained length reads the head and tail windows (HNU's rule)",
    "whole": "the model of the nearest smaller trained length reads the whole trajectory",
}


def _method(cfg: dict) -> str:
    model = cfg["model"]
    median = "interpolated (grouped-data) median" if cfg["ensemble"]["median"] == "interpolated" else "median"
    output = (
        f"alpha as a distribution over its grid, read out by its {median}"
        if model["output"] == "distribution"
        else "alpha by regression"
    )
    return (
        f"The anomalous exponent alpha (AnDi 2020, Task 1) from one model per trajectory length: "
        f"{ENCODERS[model['kind']]}, {output}; {RULES[cfg['ensemble']['windows']]}; mean over folds"
        f"{_axes(cfg['tasks']['alpha']['dims'])}, one scale factor, clip."
    )


def _axes(dims: list) -> str:
    """How a 2D/3D trajectory is read: axis by axis (HNU), or by alpha's networks of its dimension."""
    by_axis = "/".join(f"{d}D" for d in (2, 3) if d not in dims)
    own = "/".join(f"{d}D" for d in (2, 3) if d in dims)
    if not own:
        return " and over the axes of a 2D/3D trajectory"
    read = f"a {own} trajectory is read by networks of its dimension, all axes at once"
    return f" and over the axes of a {by_axis} trajectory ({read})" if by_axis else f" ({read})"


def _task(member: dict) -> str:
    """The task and the dimension its network reads (alpha 1D, diffusion_model 2D)."""
    return f"{member['task']} {member['dim']}D"


def _training(cfg: dict, members: list) -> list[str]:
    tr = cfg["train"]
    rows = [
        f"| {_task(m)} | {m['length']} | {m['fold']} | {m['training']['n_train']:,} | "
        f"{m['training'].get('epochs', '')} | {m['training'].get('samples', 0):,} | "
        f"{m['training'].get('seconds', 0):,.0f}{_gpu(m['training'])} | {_best(m['training'])} | "
        f"{_warm(m['training']['warm_start'])} |"
        for m in members
    ]
    samples = sum(m["training"].get("samples", 0) for m in members)
    return [
        "## Training",
        "",
        f"Device: {cfg['device']}, {cfg['threads']} thread(s) per job{_elsewhere(cfg, members)}. Model: "
        f"{model_settings(cfg)}. Batch "
        f"{tr['batch_size']}, learning rate {tr['learning_rate']} ({SCHEDULES[tr['schedule']]}), at most "
        f"{tr['max_epochs']} epochs, precision {tr['precision']}, warm start: {tr['warm_start']}. Fold k of "
        f"{tr['n_folds']} validates on part k of the length's trajectories.",
        "",
        "| task | length | fold | training trajectories | epochs | samples seen | seconds "
        "| best validation MAE (alpha) or error rate (diffusion_model) | started from |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"In all: {len(members)} models, {samples:,} samples seen, {_cost(cfg, members)} (data generation "
        f"not counted). {_storage(members)}",
        "",
    ]


def _storage(members: list) -> str:
    storage = sorted({m.get("onnx_weights") or "float32" for m in members})
    how = {"int8": "int8 weight matrices, one step each, and float16 vectors", "float16": "float16 weights"}
    return (
        f"The ONNX files hold {', '.join(how.get(s, s + ' weights') for s in storage)}; both runtimes compute in "
        "float32 with those values."
    )


def _trained_on(training: dict, cfg: dict) -> str:
    """cpu or the GPU's name; models from before this was recorded were trained on the config's device."""
    return training.get("trained_on", "cpu" if cfg["device"] == "cpu" else "a GPU")


def _elsewhere(cfg: dict, members: list) -> str:
    others = sorted({_trained_on(m["training"], cfg) for m in members} - {_trained_on({}, cfg)})
    return f", except the models whose seconds name {' or '.join(others)}, trained there" if others else ""


def _gpu(training: dict) -> str:
    on = training.get("trained_on", "cpu")
    return "" if on == "cpu" else f" ({on})"


def _cost(cfg: dict, members: list) -> str:
    """Training time as what it used: thread time on a CPU, GPU time on a GPU (jobs may share one)."""
    seconds = {}
    for m in members:
        on = _trained_on(m["training"], cfg)
        seconds[on] = seconds.get(on, 0) + m["training"].get("seconds", 0)
    parts = [
        f"{s:,.0f} s of training x {cfg['threads']} thread(s) = {s * cfg['threads'] / 3600:.2f} thread-hours"
        if on == "cpu"
        else f"{s:,.0f} s of training on {on}, summed over jobs = {s / 3600:.2f} GPU-job-hours"
        for on, s in sorted(seconds.items(), key=lambda item: item[0] != "cpu")
    ]
    return "; ".join(parts)


def _best(training: dict) -> str:
    return f"{training['valid_mae']:.4f}" if "valid_mae" in training else f"{training['valid_error']:.4f}"


def _warm(source) -> str:
    return "random weights" if not source else f"L{source['length']} fold {source['fold']}"


def _calibration(manifest: dict) -> list[str]:
    sets, table = manifest["settings"]["sets"], manifest["intervals"]
    lines = [
        "## Calibration",
        "",
        f"Scale {manifest['scale']:.4f}, fitted on {_held_out(sets['calibration'])}; predictions clipped to "
        f"{manifest['clip']}.",
    ]
    if table:
        section = sets["intervals"]
        lengths = f"lengths {section['min_length']}-{section['max_length']}"
        if section.get("long_tracks"):
            long = section["long_tracks"]
            lengths += f", {3 * long['n_per_dim']:,} of them {section['max_length'] + 1}-{long['max_length']}"
        lines.append(
            f"Intervals: split-conformal, level {table['level']}, fitted on {table['n']:,} held-out "
            f"trajectories ({', '.join(f'{d}D' for d in section['dims'])}; {lengths}), per dimension and length bucket "
            f"({', '.join(map(str, table['length_edges']))}), {table['spread_bins']} spread bin(s); a "
            "trajectory longer than the last bucket is given its interval."
        )
    return lines + [""]


def _held_out(section: dict) -> str:
    """n trajectories of their dimensions and lengths (HNU's external set: 1D)."""
    n, dims = section["n_per_dim"] * len(section["dims"]), "/".join(f"{d}D" for d in section["dims"])
    return f"{n:,} {dims} trajectories of lengths {section['min_length']}-{section['max_length']}"


def _test(cfg: dict, evaluation: dict) -> list[str]:
    ts = cfg["sets"]["test"]
    methods = [m for m in NAMES if m in evaluation and m != "shipped"]
    header = "| | " + " | ".join(NAMES[m] for m in methods) + " |"
    lines = [
        "## Test set",
        "",
        f"{evaluation['model']['n']:,} challenge-style trajectories ({ts['n_per_dim']:,} per dimension "
        f"{ts['dims']}, lengths {ts['min_length']}-{ts['max_length']}), generated with its own seed. MAE of alpha:",
        "",
        header,
        "|---" * (len(methods) + 1) + "|",
        "| all | " + " | ".join(f"{evaluation[m]['mae']:.4f}" for m in methods) + " |",
    ]
    for group, label in (("by_dim", "{}D"), ("by_length", "L {}")):
        for key in evaluation["model"][group]:
            lines.append(
                f"| {label.format(key)} | "
                + " | ".join(f"{evaluation[m][group][key]['mae']:.4f}" for m in methods)
                + " |"
            )
    if "intervals" in evaluation:
        c = evaluation["intervals"]
        cells = (
            [("all", c["all"])]
            + [(f"{d}D", v) for d, v in c["by_dim"].items()]
            + [(f"L {b}", v) for b, v in c["by_length"].items()]
        )
        lines += [
            "",
            "Intervals on the test set: coverage (mean width)",
            "",
            "| | coverage | mean width |",
            "|---|---|---|",
        ] + [f"| {name} | {v['coverage']:.3f} | {v['width']:.3f} |" for name, v in cells]
    return lines


# The published classifiers, run with their own weights on another set (docs/benchmarks.md)
PEERS_F1 = (
    "The classifiers 2020 teams published, run with their own weights on another set (3,000 independent "
    "challenge-style trajectories, lengths 10-999): RANDI micro-F1 0.863 (its figures in the table), "
    "EduN 0.860, UPV-MAT 0.825; AnDi-J states 0.892 on the challenge's 2D benchmark."
)
RANDI_F1 = {  # as measured then
    "all": "0.863",
    "1D": "0.856",
    "2D": "0.888",
    "3D": "0.846",
    "L 10-49": "0.43",
    "L 50-99": "0.71",
    "L 100-199": "0.77",
    "L 200-499": "0.90",
    "L 500-999": "0.91",
}


def _models(manifest: dict, result: dict) -> list[str]:
    temperature = manifest.get("temperature") or {}
    lines = [
        "",
        "## Diffusion model (Task 2)",
        "",
        f"On the same test set: micro-F1 {result['f1_micro']:.4f}, expected calibration error "
        f"{result['ece']:.4f} (10 bins of the top probability). Temperatures per dimension, fitted on the "
        f"interval set: {', '.join(f'{d}D {t:.2f}' for d, t in temperature.items()) or 'none'}.",
        "",
        "| | micro-F1 | RANDI, another set |",
        "|---|---|---|",
    ]
    rows = [("all", result)] + [
        (label.format(k), v)
        for group, label in (("by_dim", "{}D"), ("by_length", "L {}"))
        for k, v in result[group].items()
    ]
    lines += [f"| {name} | {v['f1_micro']:.4f} | {RANDI_F1.get(name, '')} |" for name, v in rows]
    per_model = ", ".join(f"{m} {v:.3f}" for m, v in result["f1_by_model"].items() if v is not None)
    return lines + ["", f"F1 per model: {per_model}.", "", PEERS_F1]


def _misjudged(spread: float) -> str:
    """How far the precision network's populations were told their precision from the truth."""
    if not spread:
        return ", each told it exactly"
    return f", each told it times a factor whose log has sd {spread:g} (a user's estimate is rarely exact)"


def _mixed(most: int) -> str:
    return "two models" if most == 2 else f"2-{most} models"


def _population(description: dict) -> list[str]:
    """A population network's section: how it was trained, and its scores on held-out populations."""
    cfg, pool = description["settings"], description["settings"]["pool"]
    if PRECISION in description["features"]:
        low, high = (round(w * pool["max_noise"], 3) for w in cfg["noise_widths"])
        lines = [
            "",
            "### Where the localisation precision is known",
            "",
            "With `precision=` (`--precision`: sigma per axis in the positions' unit, or the name of a table's column "
            "of each spot's), a second network reads each track's precision "
            "over the root mean square of its observed steps beside the same inputs. It was trained likewise, on "
            f"populations whose tracks' noise lies in a band {low}-{high} steps wide, as one microscope's tracks "
            f"share a precision{_misjudged(cfg.get('misjudged', 0))}. On populations drawn from the same held-out "
            "pools, each told its precision exactly:",
        ]
    else:
        lines = [
            "",
            "## The population (beyond HNU)",
            "",
            "`andiflow.population` (and `andiflow population`) reads a population's tracks with a network over sets "
            "(population_net.py), from each track's answers and six statistics of its steps: the mean of their "
            "alphas with a 90% interval, their spread, and each diffusion model's share. It was trained on "
            f"{cfg['steps']:,} batches of {cfg['batch']} simulated populations of {cfg['tracks'][0]:,}-"
            f"{cfg['tracks'][1]:,} tracks (a quarter of them mixtures of {_mixed(cfg.get('mix_models', 2))}), "
            f"drawn from pools of {pool['per_model']:,} tracks of each "
            f"model per dimension ({', '.join(f'{d}D' for d in pool['dims'])}; {pool['min_length']}-"
            f"{pool['max_length']} points, localisation noise up to {pool['max_noise']} steps) read by this "
            "ensemble. On populations drawn from held-out pools of their own seed (the share error is half the "
            "summed absolute differences of the five shares; the naive mean is the mean of the tracks' estimates):",
        ]
    lines += [
        "",
        "| dim | process | populations | mean error | 90% interval holds the mean | interval width | sd error "
        "| naive mean error | share error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['dim']}D | {r['process']} | {r['populations']} | {r['mean_error']:.3f} | {r['holds']:.2f} | "
        f"{r['width']:.3f} | {r['sd_error']:.3f} | {r['naive_error']:.3f} | {r['share_error']:.3f} |"
        for r in description["held_out"]
    ]
    return lines if PRECISION in description["features"] else [*lines, "", _share_intervals(description["shares"])]


def _share_intervals(shares: dict) -> str:
    """How the shares' intervals were calibrated (population_train.share_bounds)."""
    edges = shares["size_bins"]
    between = (f"{a:,}-{b - 1:,}" for a, b in zip(edges, edges[1:]))
    sizes = [f"fewer than {edges[0]:,}", *between, f"{edges[-1]:,} or more"]
    return (
        f"Each model's share comes with a {shares['level']:.0%} interval: the share given plus offsets, the "
        f"quantiles of the true share minus the given one on {shares['populations']:,} other populations drawn "
        f"as in each network's training from the held-out pools, per model, population size ({', '.join(sizes)} "
        f"tracks) and share given (edges {', '.join(f'{e:.0%}' for e in shares['share_bins'])})."
    )
