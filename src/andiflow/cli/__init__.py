"""`andiflow predict|population|evaluate`: what users run. Each command is a module with `add_parser` and `run`,
calling one library function. The workflow's steps are `andiflow-step` (andiflow.steps)."""

import argparse
import os
import sys

import numpy as np

from andiflow.cli import evaluate, population, predict
from andiflow.cli.common import run_command

COMMANDS = {"predict": predict, "population": population, "evaluate": evaluate}


def main(argv=None) -> int:
    _without_huge_pages()
    parser = argparse.ArgumentParser(prog="andiflow", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_parser(sub, name).set_defaults(run=module.run)
    return run_command(parser.parse_args(argv))


def _without_huge_pages() -> None:
    """numpy asks Linux for huge pages for each large array; where memory is fragmented (virtual
    machines, hosts up for long), each request stalls on the kernel's compaction. The 12,000-track
    table of benchmarks/predict_cores.py, with NUMPY_MADVISE_HUGEPAGE=1 against 0: 10.4-12.7 s
    against 8.3-9.4 s at --threads 2 (docs/benchmarks.md, "Tables as trackers write them").
    NUMPY_MADVISE_HUGEPAGE, where set, decides."""
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None) or np.core.multiarray
    choose = getattr(multiarray, "_set_madvise_hugepage", None)
    if choose is not None and "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        choose(False)


if __name__ == "__main__":
    sys.exit(main())
