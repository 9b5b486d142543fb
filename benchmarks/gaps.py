"""Missing frames (blinking) within tracks: bridged, interpolated or split, for alpha's MAE and the 90%
intervals' coverage, against the same tracks with every frame.

    python benchmarks/gaps.py                      # the default shipped ensemble, 3,000 2D tracks a setting
    python benchmarks/gaps.py --models hnu-lstm-cpu --n 1000

Tracks: challenge-style 2D trajectories (the 2020 recipe, 20-200 points, a seed of their own). Frames are
dropped by a blinking emitter: a two-state Markov chain per frame (on -> off with probability p, off -> on
with probability q), keeping the first and last frame; each setting names the share of frames lost and
the mean length of a dark run. Each rule (tracks.close_gaps) is scored on the tracks it can read
(split keeps the longest run of consecutive frames, which may be shorter than the shortest trained
length) and on the tracks every rule reads.
"""

import argparse

import numpy as np

from andiflow import settings
from andiflow.api import load_ensemble
from andiflow.simulate import Recipe, simulate_challenge
from andiflow.tracks import GAPS, close_gaps

BLINKING = [(0.10, 1.5), (0.20, 2.0), (0.30, 3.0)]  # share of frames dark, mean dark run (frames)


def tracks(n: int, seed: int):
    recipe = Recipe.from_settings(settings.resolve()["data"])
    t, lengths = simulate_challenge(n, 20, 200, 2, seed=seed, recipe=recipe)
    return [p[:, :T] for p, T in zip(t.positions, lengths)], np.asarray(t.alpha)


def blink(T: int, dark: float, run: float, rng) -> np.ndarray:
    """The frames seen of T, as a blinking emitter shows them."""
    q = 1 / run
    p = dark * q / (1 - dark)
    seen, on = np.ones(T, bool), True
    for i in range(1, T - 1):
        on = rng.random() >= p if on else rng.random() < q
        seen[i] = on
    return np.flatnonzero(seen)


def scores(ens, trajectories, alpha, readable) -> tuple[np.ndarray, np.ndarray]:
    """Absolute errors and whether the 90% interval holds alpha, NaN where not readable."""
    error, held = np.full(len(alpha), np.nan), np.full(len(alpha), np.nan)
    index = np.flatnonzero(readable)
    est = ens.estimate([trajectories[i] for i in index], level=0.9, classify=False)
    error[index] = np.abs(est["alpha"] - alpha[index])
    held[index] = (est["low"] <= alpha[index]) & (alpha[index] <= est["high"])
    return error, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=None)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    ens = load_ensemble(args.models, threads=args.threads)
    print(f"# benchmarks/gaps.py: {ens.describe()}; {args.n} 2D challenge-style tracks of 20-200 points a setting")
    print("| frames dark | mean dark run | rule | tracks read | MAE | coverage 90% | MAE, tracks all read | coverage |")
    print("|---|---|---|---|---|---|---|---|")
    for setting, (dark, run) in enumerate(BLINKING):
        full, alpha = tracks(args.n, seed=9100 + setting)
        rng = np.random.default_rng(9200 + setting)
        seen = [blink(t.shape[1], dark, run, rng) for t in full]
        results = {"every frame": scores(ens, full, alpha, np.ones(len(full), bool))}
        for rule in GAPS:
            closed = [
                close_gaps(frames.astype(float), t[:, frames], 1.0, rule)[0]
                if len(frames) < t.shape[1]
                else t[:, frames]
                for t, frames in zip(full, seen)
            ]
            readable = np.array([c.shape[1] >= ens.min_length for c in closed])
            results[rule] = scores(ens, closed, alpha, readable)
        common = np.all([np.isfinite(e) for e, _ in results.values()], axis=0)
        lost = 1 - np.mean([len(f) / t.shape[1] for t, f in zip(full, seen)])
        for rule, (error, held) in results.items():
            read = np.isfinite(error)
            print(
                f"| {lost:.2f} | {run:.1f} | {rule} | {read.mean():.3f} | {np.nanmean(error):.3f} | "
                f"{np.nanmean(held):.3f} | {error[common].mean():.3f} | {held[common].mean():.3f} |"
            )


if __name__ == "__main__":
    main()
