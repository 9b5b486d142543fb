"""ONNX Runtime's graph optimisation levels on every network of an ensemble, on one thread: the time to
open all their sessions, the time of a first and of a second batch through each, and whether the
outputs are those of the level prediction uses (ORT_ENABLE_ALL, ONNX Runtime's default). A worker opens
the sessions of its share of the members before its first batch, so opening is part of what
`--threads N` keeps serial.

    python benchmarks/onnx_levels.py src/andiflow/ensembles/convlstm-cpu [--batch 64] [--length 100]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from andiflow.members import one_thread_session

LEVELS = {
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "off": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ensemble")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=100, help="frames of a window where a network takes any")
    args = parser.parse_args()
    members = [f for f in sorted(Path(args.ensemble).rglob("*.onnx")) if "population" not in f.name]
    members = [f for f in members if "andij" not in f.name]  # the AnDi-J file takes one track at a time
    print(f"# {args.ensemble}: {len(members)} networks; one thread; a batch of {args.batch} windows each")
    reference = None
    for name, level in LEVELS.items():
        opened = first = second = 0.0
        outputs = []
        for path in members:
            start = time.perf_counter()
            s = one_thread_session(path, level)
            opened += time.perf_counter() - start
            given = s.get_inputs()[0]
            shape = [args.batch] + [d if isinstance(d, int) else args.length for d in given.shape[1:]]
            x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
            start = time.perf_counter()
            outputs.append(s.run(None, {given.name: x})[0])
            first += time.perf_counter() - start
            start = time.perf_counter()
            s.run(None, {given.name: x})
            second += time.perf_counter() - start
        reference = reference or outputs
        differ = max(float(np.max(np.abs(a - b))) for a, b in zip(outputs, reference))
        same = all(np.array_equal(a, b) for a, b in zip(outputs, reference))
        verdict = "identical" if same else f"differ by up to {differ:.1e}"
        print(f"{name:9s} open {opened:6.3f} s  first batch {first:6.3f} s  second {second:6.3f} s  outputs {verdict}")


if __name__ == "__main__":
    main()
