"""`andiflow predict|population|evaluate`: what users run. Each command is a module with `add_parser` and `run`,
calling one library function. The workflow's steps are `andiflow-step` (andiflow.steps)."""

import argparse
import sys

from andiflow.cli import evaluate, population, predict
from andiflow.cli.common import run_command

COMMANDS = {"predict": predict, "population": population, "evaluate": evaluate}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="andiflow", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_parser(sub, name).set_defaults(run=module.run)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
