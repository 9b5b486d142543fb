"""Ways of reading segments from the per-frame outputs, each measured against segment.py's (no network
is retrained):

1. changepoints from P(changepoint) summed over a window of +-w frames before the peaks are picked (the
   scorer forgives 10 frames, so a change whose frame the network is unsure of may still be found);
2. a segment's alpha and log10 K as the median of the per-frame values over it (shipped) or their mean,
   and its alpha from the alpha task's ensemble run on the segment alone (the true changepoints given,
   so that only the reading differs);
3. the state "immobile" wherever its mean probability over the segment exceeds tau, instead of the
   most probable state (the true changepoints given).

    python benchmarks/segments_decoding.py [--ensemble segments-gpu] [--tracks 1500] [--recipes mixed benchmark]

Per recipe, two sets of tracks cut as a field of view cuts them (phenom.held_out_tracks), with this
script's own seeds (777: where the settings are tuned, 778: where they are scored), never the
workflow's validation or test sets. Scores are the challenge's changepoint scorer
(`ensemble_changepoint_error`, threshold 10 frames), alpha's MAE and the share of segments whose
state is right. Results: benchmarks/results/segments_decoding.txt.
"""

import argparse
import datetime

import numpy as np
from andi_datasets.utils_challenge import ensemble_changepoint_error

import andiflow
from andiflow import phenom, segment
from andiflow.api import SEGMENTS_DEFAULT
from andiflow.segments_score import GAPS

TUNE, SCORE = 777, 778
WINDOWS = (0, 1, 2, 3)
TAUS = (0.4, 0.3, 0.2, 0.15, 0.1)
LENGTH_EDGES = (10, 20, 40, 80, 201)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ensemble", default=SEGMENTS_DEFAULT)
    p.add_argument("--tracks", type=int, default=1500)
    p.add_argument("--recipes", nargs="+", default=["mixed", "benchmark"])
    args = p.parse_args()
    ensemble = andiflow.load_ensemble(args.ensemble)
    print(f"# {datetime.date.today()}: python benchmarks/segments_decoding.py --ensemble {args.ensemble} "
          f"--tracks {args.tracks} --recipes {' '.join(args.recipes)}")  # fmt: skip
    for recipe in args.recipes:
        sets = {}
        for seed in (TUNE, SCORE):
            tracks = phenom.held_out_tracks(args.tracks, seed, phenom.PhenomRecipe(recipe))
            sets[seed] = (tracks, ensemble.frames([t["positions"] for t in tracks]))
        print(f"\n## recipe {recipe}: {args.tracks} tracks tuned on (seed {TUNE}), {args.tracks} scored (seed {SCORE})")
        changepoint_windows(sets, ensemble.manifest["segmentation"])
        segment_alpha(*sets[SCORE])
        immobile_threshold(sets)


def changepoint_windows(sets: dict, shipped: dict) -> None:
    print("changepoints: P summed over +-w frames; threshold and gap tuned on the first set, scored on the second")
    truth = {seed: [np.flatnonzero(t["changepoint"]).tolist() for t in tracks] for seed, (tracks, _) in sets.items()}
    found = [segment.changepoints(f[:, 0], shipped["threshold"], shipped["gap"]) for f in sets[SCORE][1]]
    rmse, jaccard = ensemble_changepoint_error(truth[SCORE], found, threshold=10)
    settings = f"threshold {shipped['threshold']:g}, gap {shipped['gap']}"
    print(f"  shipped (w 0, {settings}): JSC {jaccard:.4f} RMSE {rmse:.3f}")
    for w in WINDOWS:
        summed = {seed: [_window_sum(f[:, 0], w) for f in frames] for seed, (_, frames) in sets.items()}
        best = (-1.0, 0.0, 0)
        for gap in GAPS:
            for threshold in np.round(np.arange(0.05, 0.8 * (2 * w + 1), 0.05), 2):
                found = [segment.changepoints(s, threshold, gap) for s in summed[TUNE]]
                best = max(best, (ensemble_changepoint_error(truth[TUNE], found, threshold=10)[1], threshold, gap))
        found = [segment.changepoints(s, best[1], best[2]) for s in summed[SCORE]]
        rmse, jaccard = ensemble_changepoint_error(truth[SCORE], found, threshold=10)
        tuned = f"threshold {best[1]:g}, gap {best[2]} (tuned JSC {best[0]:.4f})"
        print(f"  w {w}: {tuned}: JSC {jaccard:.4f} RMSE {rmse:.3f}")


def _window_sum(p: np.ndarray, w: int) -> np.ndarray:
    return np.convolve(np.pad(p, w), np.ones(2 * w + 1), "valid")


def true_segments(tracks: list, frames: list):
    """(track, its frames, first, end) of each true segment."""
    for t, f in zip(tracks, frames):
        cuts = [0, *np.flatnonzero(t["changepoint"]).tolist(), len(f)]
        for first, end in zip(cuts[:-1], cuts[1:]):
            yield t, f, first, end


def segment_alpha(tracks: list, frames: list) -> None:
    rows = [(f[a:b, 1:3], t["positions"][:, a:b].T.astype(float), t["alpha"][a], np.log10(t["K"][a]), b - a)
            for t, f, a, b in true_segments(tracks, frames) if b - a >= LENGTH_EDGES[0] and t["K"][a] > 0]  # fmt: skip
    outputs, positions, alpha, log10_k, points = (list(c) for c in zip(*rows))
    median, mean = (np.array([reading(o, axis=0) for o in outputs]) for reading in (np.median, np.mean))
    alone = andiflow.predict(positions, models=andiflow.load_ensemble(threads=1), classify=False)["alpha"].to_numpy()
    bucket, kept = np.digitize(points, LENGTH_EDGES) - 1, ~np.isnan(alone)
    print(f"segments, true changepoints, the {kept.sum()} moving ones of 10 frames or more; MAE by points:")
    buckets = "".join(f"{f'{a}-{b - 1}':>8s}" for a, b in zip(LENGTH_EDGES, LENGTH_EDGES[1:]))
    print(f"  {'':36s}{'all':>8s}{buckets}")
    readings = {
        "alpha, per-frame median (shipped)": (median[:, 0], alpha),
        "alpha, per-frame mean": (mean[:, 0], alpha),
        "alpha, alpha task on the segment": (alone, alpha),
        "alpha, median and alpha task": ((median[:, 0] + alone) / 2, alpha),
        "log10 K, per-frame median (shipped)": (median[:, 1], log10_k),
        "log10 K, per-frame mean": (mean[:, 1], log10_k),
    }
    for name, (found, truth) in readings.items():
        error = np.abs(found - np.array(truth))
        cells = [error[kept].mean()] + [error[kept & (bucket == b)].mean() for b in range(len(LENGTH_EDGES) - 1)]
        print(f"  {name:36s}" + "".join(f"{c:8.4f}" for c in cells))


def immobile_threshold(sets: dict) -> None:
    print("state, true changepoints: share of segments right; immobile where its mean P > tau, else the most probable")
    for seed, (tracks, frames) in sets.items():
        truth = np.array([int(t["state"][a]) for t, _, a, _ in true_segments(tracks, frames)])
        p = np.array([f[a:b, 3:].mean(0) for _, f, a, b in true_segments(tracks, frames)])
        cells = [f"most probable (shipped) {np.mean(p.argmax(1) == truth):.4f}"]
        for tau in TAUS:
            state = np.where(p[:, 0] > tau, 0, p[:, 1:].argmax(1) + 1)
            cells.append(f"tau {tau:g} {np.mean(state == truth):.4f}")
        print(f"  seed {seed} ({len(truth)} segments, {np.mean(truth == 0):.3f} immobile): " + ", ".join(cells))


if __name__ == "__main__":
    main()
