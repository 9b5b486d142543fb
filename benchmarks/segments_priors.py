"""The states of a file's segments read by the file's own mix of states (segment.file_mix): the
networks learnt their state probabilities under the training recipe's mix; a file (one experiment,
one condition) has its own. Per group of tracks the mix is found by EM from the segments' mean state
probabilities, the training mix counting as `weight` segments more, and each segment's state is the
most probable under it. Measured against the most probable state under the training mix, with the
true changepoints (so that only the state's reading differs) and with the network's own.

    python benchmarks/segments_priors.py [--ensemble segments-gpu] [--tracks 1500] [--recipes defaults benchmark mixed]
    python benchmarks/segments_priors.py --sets segments-gpu/results/sets/segments_test_*   # the workflow's sets

Per recipe, tracks cut as a field of view cuts them (phenom.held_out_tracks) with this script's own
seed (779), never the workflow's sets; the groups are the recipe's experiments (20 tracks each, as a
challenge's file holds one experiment) or the whole set at once (as the workflow's test files hold
all). The training mix is the ensemble's (the mean state probability of its validation set's segments,
segments_score.training_mix); on a set of the training recipe (mixed, seed 780) the probabilities'
calibration is checked: the negative log-likelihood of the true states with the probabilities
sharpened (temperature below 1) or flattened.
With --sets, the workflow's files (a folder each: trajs_fov_0.csv, traj_labs_fov_0.txt, experiments.csv,
`snakemake` makes them) are read both ways, each experiment's tracks as a file of their own, and scored
by the challenge's scorer (segments_score.evaluate): read after the weight was chosen, not to choose it.
Results: benchmarks/results/segments_priors.txt.
"""

import argparse
import datetime
import functools
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import andiflow
from andiflow import phenom, segment, segments_score, tracks
from andiflow.api import SEGMENTS_DEFAULT
from andiflow.segmenter import STATE_MIXES, xy

sys.path.insert(0, str(Path(__file__).parent))
from segments_decoding import true_segments  # noqa: E402

SCORE, TRAINING = 779, 780
WEIGHTS = (0, 20, 50, 100, 200)
TEMPERATURES = (0.5, 0.7, 1.0, 1.4, 2.0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ensemble", default=SEGMENTS_DEFAULT)
    p.add_argument("--tracks", type=int, default=1500)
    p.add_argument("--recipes", nargs="+", default=["defaults", "benchmark", "mixed"])
    p.add_argument("--sets", nargs="+", help="the workflow's set folders, instead of simulated tracks")
    args = p.parse_args()
    ensemble = andiflow.load_ensemble(args.ensemble)
    if args.sets:
        print(f"# {datetime.date.today()}: python benchmarks/segments_priors.py --ensemble {args.ensemble} "
              f"--sets {' '.join(args.sets)}")  # fmt: skip
        for folder in map(Path, args.sets):
            workflow_set(ensemble, folder)
        return
    print(f"# {datetime.date.today()}: python benchmarks/segments_priors.py --ensemble {args.ensemble} "
          f"--tracks {args.tracks} --recipes {' '.join(args.recipes)}")  # fmt: skip
    settings = ensemble.manifest["segmentation"]
    truth, p, _ = segment_states(*simulated(ensemble, args.tracks, TRAINING, "mixed"), settings, True)
    nll = {t: -np.mean(np.log(sharpened(p, t)[np.arange(len(p)), truth] + 1e-12)) for t in TEMPERATURES}
    print("calibration, NLL of the true states (recipe mixed, seed 780) at temperature "
          + ", ".join(f"{t:g}: {v:.4f}" for t, v in nll.items()))  # fmt: skip
    training = np.array(settings["state_mix"])
    print(f"training mix (the ensemble's): {', '.join(f'{s} {q:.3f}' for s, q in zip(segment.STATES, training))}")
    for recipe in args.recipes:
        print(f"\n## recipe {recipe}: {args.tracks} tracks (seed {SCORE}), experiments of 20 tracks")
        tracks, frames = simulated(ensemble, args.tracks, SCORE, recipe)
        for true_changepoints in (True, False):
            truth, p, experiment = segment_states(tracks, frames, settings, true_changepoints)
            true_mix = np.bincount(truth, minlength=4) / len(truth)
            cuts = "true changepoints" if true_changepoints else "the network's changepoints"
            print(f"{cuts}: {len(truth)} segments, "
                  f"true mix {', '.join(f'{q:.3f}' for q in true_mix)}; share of states right:")  # fmt: skip
            print(f"  training mix: {np.mean(p.argmax(1) == truth):.4f}")
            for label, groups in (("per experiment", experiment), ("whole set", np.zeros_like(experiment))):
                cells = [f"weight {w}: {np.mean(states(p, groups, training, w) == truth):.4f}" for w in WEIGHTS]
                print(f"  file's mix, {label}: {', '.join(cells)}")


def workflow_set(ensemble, folder: Path) -> None:
    """One of the workflow's sets read each way, each experiment's tracks as a file, and scored."""
    found = tracks.read_tracks(folder / "trajs_fov_0.csv")
    experiment = pd.read_csv(folder / "experiments.csv").set_index("traj_idx")["experiment"]
    frames = ensemble.frames([xy(t) for t in found.trajectories])
    groups = experiment.loc[found.particles].to_numpy()
    for mix in STATE_MIXES:
        lines = []
        for g in np.unique(groups):
            inside = np.flatnonzero(groups == g)
            weights = ensemble.state_weights([frames[i] for i in inside], mix)
            for i in inside:
                parts = ensemble.segments(frames[i], weights)
                lines.append(segment.challenge_line(found.particles[i], parts, len(frames[i])))
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "fov.txt").write_text("\n".join(lines) + "\n")
            scores = segments_score.evaluate(
                Path(tmp, "fov.txt"), folder / "traj_labs_fov_0.txt", folder / "experiments.csv"
            )
        cells = ", ".join(f"{m} {scores['all'][m]:.4f}" for m in segments_score.METRICS)
        print(f"{folder.name}, states by the {mix} mix: {cells}")


def simulated(ensemble, n: int, seed: int, recipe: str) -> tuple[list, list]:
    """n tracks of the recipe cut as a field of view cuts them, and the ensemble's per-frame outputs."""
    tracks = phenom.held_out_tracks(n, seed, phenom.PhenomRecipe(recipe))
    return tracks, ensemble.frames([t["positions"] for t in tracks])


def segment_states(tracks: list, frames: list, settings: dict, true_changepoints: bool) -> tuple:
    """(true state, mean state probabilities [n, 4], experiment) of each segment: the true segments,
    or the network's (each scored by the true state of its middle frame)."""
    if true_changepoints:
        parts = list(true_segments(tracks, frames))
    else:
        bounds = functools.partial(segment.bounds, threshold=settings["threshold"], gap=settings["gap"])
        parts = [(t, f, a, b) for t, f in zip(tracks, frames) for a, b in bounds(f)]
    rows = [(int(t["state"][(a + b - 1) // 2]), f[a:b, 3:].mean(0), t["experiment"]) for t, f, a, b in parts]
    truth, p, experiment = zip(*rows)
    return np.array(truth), np.array(p), np.array(experiment)


def states(p: np.ndarray, groups: np.ndarray, training: np.ndarray, weight: float) -> np.ndarray:
    """Each segment's most probable state under its group's mix (segment.file_mix)."""
    chosen = np.empty(len(p), int)
    for g in np.unique(groups):
        mix = segment.file_mix(p[groups == g], training, weight)
        chosen[groups == g] = (p[groups == g] * (mix / training)).argmax(1)
    return chosen


def sharpened(p: np.ndarray, temperature: float) -> np.ndarray:
    q = p ** (1 / temperature)
    return q / q.sum(1, keepdims=True)


if __name__ == "__main__":
    main()
