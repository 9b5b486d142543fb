"""Wall time of `andiflow predict --task segments` with each shipped segments ensemble on one file of
tracks, end to end (read, per-frame networks in ONNX Runtime on one thread, segmentation, write):
the median of a few runs in this process after one warm-up.

    python benchmarks/segments_speed.py TRACKS.csv [--runs 3]
    e.g. the workflow's validation set: segments-cpu/results/sets/segments_validation_mixed/trajs_fov_0.csv
"""

import argparse
import os
import platform
import statistics
import tempfile
import time

from andiflow.api import SHIPPED, shipped_ensembles
from andiflow.cli import main as andiflow
from andiflow.segmenter import is_segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tracks")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    names = [n for n in shipped_ensembles() if is_segments(SHIPPED / n)]
    print(f"# {args.tracks}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores; 1 thread")
    print("ensemble        median_s  min_s  max_s")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            command = [args.tracks, "--task", "segments", "--models", name, "--threads", "1", "-o", f"{tmp}/out.txt"]
            andiflow(["predict", *command])  # warm-up
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                andiflow(["predict", *command])
                times.append(time.perf_counter() - start)
            print(f"{name:14s}  {statistics.median(times):8.2f}  {min(times):5.2f}  {max(times):5.2f}", flush=True)


if __name__ == "__main__":
    main()
