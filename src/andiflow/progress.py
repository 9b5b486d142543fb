"""Progress of long steps: a bar in a terminal, nothing extra in a log file (the steps print their
own one line per shard or epoch)."""

import sys

from tqdm import tqdm

tqdm.monitor_interval = 0  # no monitor thread: prediction forks workers (workers.py), unsafe beside threads


def progress(iterable, what: str, **kwargs):
    return tqdm(iterable, desc=what, disable=not sys.stderr.isatty(), leave=False, **kwargs)
