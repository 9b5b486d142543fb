"""Where `andiflow predict --threads N` spends its time, process by process: the main process's stages
(start, reading, the workers' wait, writing) and each worker's networks and ONNX sessions opened.

    python benchmarks/predict_timeline.py                      # table.csv of 3,000 tracks, --threads 2
    python benchmarks/predict_timeline.py --input task1.txt --threads 1 2

The inputs are benchmarks/predict_cores.py's (3,000 challenge-style 2D trajectories). Each run is a
fresh process; its functions are wrapped to log (process, function, start, end) to a file, which
forked workers inherit. Run it on an otherwise idle machine.
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from predict_cores import INPUTS, command, write_inputs  # noqa: E402

# run in the fresh process: wrap what is timed, then the command line
TIMED = """
import os, sys, time
T0 = time.perf_counter()
import onnxruntime
from andiflow import api, members, results, tracks, workers
from andiflow.cli import main
LOG = sys.argv.pop(1)

def timed(owner, name):
    inner = getattr(owner, name)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            with open(LOG, "a") as log:
                log.write(f"{os.getpid()} {name} {start - T0:.4f} {time.perf_counter() - T0:.4f}\\n")
    setattr(owner, name, wrapper)

for owner, name in [(tracks, "read_tracks"), (api, "_rows"), (workers.Workers, "run"), (results, "write_table"),
                    (results, "write_challenge"), (members.OnnxMember, "__call__"), (onnxruntime, "InferenceSession")]:
    timed(owner, name)
rc = main(sys.argv[1:])
with open(LOG, "a") as log:
    log.write(f"{os.getpid()} end {time.perf_counter() - T0:.4f} {time.perf_counter() - T0:.4f}\\n")
sys.exit(rc)
"""


def timeline(tmp: Path, name: str, threads: int) -> str:
    """One run's lines: per process, each function's calls, first start, last end and time inside."""
    log = tmp / f"{name}.{threads}.log"
    log.unlink(missing_ok=True)
    predict = command(tmp, name, threads, f"{name}.out")[3:]  # predict_cores' command line, timed
    subprocess.run([sys.executable, "-c", TIMED, str(log), *predict], check=True, capture_output=True)
    calls = collections.defaultdict(list)
    for line in log.read_text().splitlines():
        pid, function, start, end = line.split()
        calls[pid, function].append((float(start), float(end)))
    main_pid = next(pid for pid, function in calls if function == "end")
    lines = []
    for (pid, function), spans in sorted(calls.items(), key=lambda item: (item[0][0] != main_pid, item[1][0][0])):
        who = "main  " if pid == main_pid else f"worker {pid}"
        inside = sum(end - start for start, end in spans)
        lines.append(
            f"  {who:<13} {function:<16} {len(spans):5d} calls, from {spans[0][0]:5.2f} s to "
            f"{max(end for _, end in spans):5.2f} s, {inside:5.2f} s inside"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000, help="trajectories")
    parser.add_argument("--input", choices=INPUTS, nargs="+", default=["table.csv"])
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        points = write_inputs(tmp, args.n)
        print(f"# benchmarks/predict_timeline.py: {os.cpu_count()} cores; {args.n} 2D trajectories, {points:,} points")
        for name in args.input:
            for threads in args.threads:
                print(f"{name} --threads {threads}: seconds since the process started")
                print(timeline(tmp, name, threads))


if __name__ == "__main__":
    main()
