"""`andiflow predict --task alpha` end to end (start, read, infer, write) on one machine: N cores against
one, and tables of tracks (four columns; trackpy's ten) against the same trajectories as a task1.txt, with
the peak memory of each run.

    python benchmarks/predict_cores.py                  # 3,000 trajectories, 1 and 2 cores
    python benchmarks/predict_cores.py --n 12000 --threads 1 2 4
    python benchmarks/predict_cores.py --load 1     # beside one other busy process (a 1-thread job)
    python benchmarks/predict_cores.py --pair       # also two --threads 1 runs at once: the machine's own
                                                    # ceiling for two cores, which no parallel code passes
    git worktree add /tmp/base COMMIT && python benchmarks/predict_cores.py --against /tmp/base
                                                    # also another version's andiflow, run by turns with this one

The trajectories are challenge-style 2D ones (lengths 10-999, the 2020 recipe, a seed of their own); each
command runs `--repeat` times in a fresh process, alternating, and the median is shown. Run it on an
otherwise idle machine: the throughput of N cores is only N times one core's where N cores are free.
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow import andi_io, settings
from andiflow.simulate import Recipe, simulate_challenge

# the command line, then its peak memory (VmHWM: this process's, not inherited at fork as ru_maxrss is)
CLI = (
    "import re, sys; from andiflow.cli import main; rc = main(sys.argv[1:]); "
    "peak = re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1]; "
    "print('peak_kb', peak, file=sys.stderr); sys.exit(rc)"
)


INPUTS = ("task1.txt", "table.csv", "trackpy.csv")


def write_inputs(folder: Path, n: int) -> int:
    """n 2D trajectories as a task1.txt, as a table (particle, frame, x, y; rows by particle) and as
    trackpy writes them (its ten columns, rows by frame); their points."""
    recipe = Recipe.from_settings(settings.resolve()["data"])
    t, lengths = simulate_challenge(n, 10, 999, 2, seed=424242, recipe=recipe)
    trajectories = [p[:, :T] for p, T in zip(t.positions, lengths)]
    andi_io.write_trajectories(folder / "task1.txt", trajectories)
    rows = [
        pd.DataFrame({"particle": i, "frame": np.arange(p.shape[1]), "x": p[0], "y": p[1]})
        for i, p in enumerate(trajectories)
    ]
    table = pd.concat(rows, ignore_index=True)
    table.to_csv(folder / "table.csv", index=False)
    rng = np.random.default_rng(5)
    measured = {
        c: rng.uniform(0, 1000, len(table)).round(4) for c in ("mass", "size", "ecc", "signal", "raw_mass", "ep")
    }
    trackpy = pd.DataFrame({"y": table.y, "x": table.x, **measured, "frame": table.frame, "particle": table.particle})
    trackpy.sort_values(["frame", "particle"], kind="stable").to_csv(folder / "trackpy.csv", index=False)
    return int(sum(lengths))


def run(*commands: list[str]) -> tuple[float, float]:
    """Seconds until the last ends and the largest peak memory (MB, of a main process; workers have their
    own) of commands started at once, each in a fresh process."""
    start = time.perf_counter()
    running = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in commands]
    errors = [process.communicate()[1] for process in running]
    seconds, peaks = time.perf_counter() - start, []
    for command, process, stderr in zip(commands, running, errors):
        peak = re.search(r"^peak_kb (\d+)$", stderr, re.M)
        if process.returncode != 0 or peak is None or stderr[peak.end() :].strip():
            raise SystemExit(f"failed: {' '.join(command)}\n{stderr}")
        peaks.append(int(peak[1]) / 1024)
    return seconds, max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000, help="trajectories")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load", type=int, default=0, help="other busy processes (one thread each) meanwhile")
    parser.add_argument("--pair", action="store_true", help="also two --threads 1 runs at once, each on its input")
    parser.add_argument("--against", help="another checkout (a folder with src/andiflow), run by turns with this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        points = write_inputs(tmp, args.n)
        print(
            f"# benchmarks/predict_cores.py: {platform.machine()}, {os.cpu_count()} cores; {args.n} 2D trajectories "
            f"(lengths 10-999), {points:,} points; median of {args.repeat} runs"
            + (f"; beside {args.load} other busy process{'es' * (args.load > 1)}" if args.load else "")
            + (f"; by turns with the andiflow of {args.against}" if args.against else "")
        )
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
        try:
            measure(args, tmp, points)
        finally:
            for process in busy:
                process.kill()


def measure(args, tmp: Path, points: int) -> None:
    """The runs, alternating (and by turns with the other version's), and their figures."""
    versions = ["this", *([args.against] if args.against else [])]
    runs = {(v, name, n): [] for name in INPUTS for n in args.threads for v in versions}
    pairs = {name: [] for name in INPUTS if args.pair and 1 in args.threads}
    for _ in range(args.repeat):
        for v, name, n in runs:
            runs[v, name, n].append(run(command(tmp, name, n, f"{name}.{n}.{versions.index(v)}.out", v)))
            if pairs and n == args.threads[-1] and v == "this":
                pairs[name].append(run(*(command(tmp, name, 1, f"{name}.pair{k}.out") for k in (1, 2))))
    median = {key: statistics.median(s for s, _ in measured) for key, measured in runs.items()}
    for name, measured in pairs.items():
        seconds = statistics.median(s for s, _ in measured)
        speedup = 2 * median["this", name, 1] / seconds
        print(
            f"{name:<10} two --threads 1 at once: {seconds:6.2f} s, {2 * points / seconds / 1e3:4.0f} k points/s, "
            f"{speedup:4.2f}x the throughput of one (the machine's ceiling for 2 cores: {speedup / 2:.2f} per core)"
        )
    for v in versions:
        if args.against:
            print(f"## {'this checkout' if v == 'this' else f'the andiflow of {v}'}:")
        report(args, tmp, points, {key[1:]: m for key, m in runs.items() if key[0] == v}, versions.index(v))
    if args.against:
        same = all(
            (tmp / f"{name}.{n}.0.out").read_bytes() == (tmp / f"{name}.{n}.1.out").read_bytes()
            for name in INPUTS
            for n in args.threads
        )
        print(f"outputs of the two versions: {'identical' if same else 'DIFFER'}")


def report(args, tmp: Path, points: int, runs: dict, version: int) -> None:
    """The figures of one version's runs {(input, threads): [(seconds, peak MB)]}."""
    median = {key: statistics.median(s for s, _ in measured) for key, measured in runs.items()}
    first = args.threads[0]
    for (name, n), measured in runs.items():
        speedup = median[name, first] / median[name, n]
        out = f"{name}.{{}}.{version}.out"
        same = (tmp / out.format(n)).read_bytes() == (tmp / out.format(first)).read_bytes()
        seconds = median[name, n]
        print(
            f"{name:<10} --threads {n}: {seconds:6.2f} s, {points / seconds / 1e3:4.0f} k points/s, "
            f"{speedup:4.2f}x the throughput of --threads {first} ({speedup * first / n:.2f} per core), "
            f"peak {max(m for _, m in measured):5.0f} MB, output {'identical' if same else 'DIFFERS'}"
        )
    for name in INPUTS[1:]:
        for n in args.threads:
            print(f"{name} / task1.txt at --threads {n}: {median[name, n] / median['task1.txt', n]:.2f}x the time")


def command(tmp: Path, name: str, threads: int, out: str, version="this") -> list[str]:
    """`andiflow predict` of one input, alpha alone (a table would get the diffusion model too); with
    the andiflow of another checkout where `version` names its folder."""
    cli = [sys.executable, "-c", CLI, "predict", str(tmp / name), "-o", str(tmp / out)]
    other = [] if version == "this" else ["env", f"PYTHONPATH={Path(version).resolve() / 'src'}"]
    return other + cli + ["--task", "alpha", "--threads", str(threads)]


if __name__ == "__main__":
    main()
