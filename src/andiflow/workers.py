"""The members' evaluations, and the parsing of a large file's byte ranges (a task1.txt's lines; a
table's rows, in threads), spread over worker processes of one thread each. ONNX Runtime's own
threads make these small networks slower, not faster (3,000 trajectories: 5.4 s with one thread,
26-29 s with two on 2 cores); processes of one thread each scale with the cores and, beside other
load, share them as one thread does. Each worker runs whole batches, the same batches as one process
would, so the outputs are identical whatever the number of workers. Worker processes are forked
(Linux); elsewhere the work runs in the calling process."""

import functools
import gc
import multiprocessing
import os
import sys
import weakref
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

import numpy as np

from andiflow.andi_io import LINE_SAFE, line_ranges, text_encoding
from andiflow.progress import progress

# Below this many input values the calling process runs the members itself, since starting workers and
# their sessions costs about a second. Set by hand, not measured: at 100 tracks (47 k points) two
# workers were no faster (benchmarks/predict_cores.py --n 100).
MIN_VALUES = 200_000
# What a bundle of the members' work costs, in input values: an ONNX Runtime run and a session opened
# cost as much as this many values (3,000 challenge-style tracks on one thread, least squares over the
# runs: 0.32 us a value, 0.29 ms a run; 6 ms a session), so that short windows, whose runs are many and
# small, are not dealt as if they were cheap.
RUN_VALUES, SESSION_VALUES = 900, 18_000
_GROUPS = None  # in a worker: the ensemble's members, (task, dim) -> length -> [members]


def cores() -> int:
    """The cores this process may use (a SLURM job's or a container's, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class Workers:
    """N worker processes for an ensemble's members, started at the first evaluation large enough to
    need them and stopped with the ensemble."""

    def __init__(self, owner, groups: dict, n: int):
        self.groups, self.n = groups, n if sys.platform == "linux" else 1
        self.pool = None
        self._owner = weakref.ref(owner)

    def run(self, calls: list, output="__call__") -> list:
        """The outputs of calls (group, length, fold position, x): member k of that length of the group
        ((task, dim)) on the windows x (its `output` method: called, or its probabilities), in the
        order of calls."""
        if self.n == 1 or not calls or sum(call[-1].size for call in calls) < MIN_VALUES:
            return [_output(self.groups, call, output) for call in progress(calls, "predict", unit="network")]
        # by member, so that each worker opens the sessions of its share of the members, not of all
        pieces = [(i, a, b) for i, call in enumerate(calls) for a, b in self._chunks(*call)]
        pieces.sort(key=lambda piece: calls[piece[0]][:3])
        pool, outputs, bundles = self._pool(), [[] for _ in calls], self._bundles(pieces, calls)
        futures = [
            pool.submit(_evaluate, [(*calls[i][:3], calls[i][3][a:b]) for i, a, b in bundle], output)
            for bundle in bundles
        ]
        for future in progress(as_completed(futures), "predict", total=len(futures)):
            future.result()
        for bundle, future in zip(bundles, futures):
            for (i, _, _), out in zip(bundle, future.result()):
                outputs[i].append(out)
        return [np.concatenate(out) for out in outputs]

    def map_parts(self, fn, items: list, sizes, threads=False) -> list:
        """fn (a module's function, list -> one result per item) over items in contiguous parts of about
        equal size, 4 a worker, where the sizes (input values) add up to enough to pay for the workers;
        else here, in one part. `threads`: N threads of this process instead of the workers, for an fn
        that releases the GIL (nothing is copied back). The results in the order of items."""
        sizes = np.asarray(sizes, dtype=np.int64)
        if self.n == 1 or sizes.sum() < MIN_VALUES:
            return fn(items)
        edges = [0, *np.flatnonzero(np.diff(self._parts(sizes))) + 1, len(items)]
        parts = [items[a:b] for a, b in zip(edges[:-1], edges[1:])]
        if threads:
            with ThreadPoolExecutor(self.n) as pool:
                return [result for done in pool.map(fn, parts) for result in done]
        return [result for done in self._pool().map(fn, parts) for result in done]

    def map_ranges(self, parse, path, skip_lines=0, threads=False) -> list | None:
        """parse (a module's function: bytes -> a result, None where they cannot be read alone) over
        byte ranges of whole lines of the file after its first skip_lines lines, 4 a worker (one a
        thread), each worker (or thread, map_parts) reading its own (andi_io.line_ranges); the results
        in the file's order. None where one process must read the file: one worker, an encoding whose
        byte 0x0A may not end a line (UTF-16), a file of one range, or a range that cannot be read alone."""
        if self.n == 1 or text_encoding(path) not in LINE_SAFE:
            return None
        # threads take the work as it comes; a range more each costs a parse's setup and fresh memory
        ranges = line_ranges(path, self.n if threads else 4 * self.n, skip_lines)
        if len(ranges) < 2:
            return None
        read = functools.partial(_parse_ranges, str(path), parse)
        parts = self.map_parts(read, ranges, [(b - a) // 8 for a, b in ranges], threads)  # about 8 bytes a value
        return None if any(part is None for part in parts) else parts

    def _chunks(self, group, length, k, x) -> list[tuple[int, int]]:
        """Row ranges of x of whole batches of the member, each at most a quarter of a worker's share."""
        rows = self.groups[group][length][k].batch_rows(x)
        per_chunk = max(rows, -(-len(x) // (4 * self.n)) // rows * rows)
        return [(a, min(a + per_chunk, len(x))) for a in range(0, len(x), per_chunk)]

    def _bundles(self, pieces: list, calls: list) -> list[list]:
        """Consecutive pieces in bundles of about equal work, 4 a worker: a member's pieces stay
        together, so each worker opens only its share of the members' sessions; one task each, as a
        trajectory set of many lengths makes thousands of small calls."""
        bundle = self._parts(self._costs(pieces, calls))
        return [[p for p, j in zip(pieces, bundle) if j == b] for b in range(4 * self.n) if (bundle == b).any()]

    def _costs(self, pieces: list, calls: list) -> list[int]:
        """What each piece costs, in input values: its values, its runs, and a session where a member's
        pieces begin."""
        costs, member = [], None
        for i, a, b in pieces:
            group, length, k, x = calls[i]
            runs = -(-(b - a) // self.groups[group][length][k].batch_rows(x))
            costs.append((b - a) * x[0].size + RUN_VALUES * runs + SESSION_VALUES * (calls[i][:3] != member))
            member = calls[i][:3]
        return costs

    def _parts(self, sizes) -> np.ndarray:
        """The part (0 to 4n - 1) of each of consecutive items of these sizes: parts of about equal size."""
        work = np.cumsum(sizes)
        return np.minimum((work - 1) * (4 * self.n) // work[-1], 4 * self.n - 1)

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            context = multiprocessing.get_context("fork")
            # the objects the workers inherit are left out of collections until the pool stops, so that
            # a worker's collection writes none of their pages, each a copy once written (3,000 tracks
            # at --threads 2: 0.07-0.1 s less, benchmarks/predict_cores.py)
            gc.freeze()
            self.pool = ProcessPoolExecutor(self.n, mp_context=context, initializer=_adopt, initargs=(self.groups,))
            owner = self._owner()
            if owner is not None:
                weakref.finalize(owner, _stop, self.pool)
        return self.pool


def _stop(pool: ProcessPoolExecutor) -> None:
    # wait: a pool left stopping as the interpreter exits races its exit hook, which then writes to the
    # pool's closed pipe (OSError, exit status 1; Python 3.11)
    pool.shutdown(wait=True, cancel_futures=True)
    gc.unfreeze()


def _adopt(groups: dict) -> None:
    global _GROUPS
    _GROUPS = groups


def _evaluate(calls: list, output: str) -> list:
    return [_output(_GROUPS, call, output) for call in calls]


def _parse_ranges(path: str, parse, ranges: list) -> list:
    parts = []
    with open(path, "rb") as f:
        for a, b in ranges:
            f.seek(a)
            parts.append(parse(f.read(b - a)))
    return parts


def _output(groups: dict, call: tuple, output: str) -> np.ndarray:
    group, length, k, x = call
    return getattr(groups[group][length][k], output)(x)
