"""Outputs appear whole or not at all: write to a temporary name beside the target, then rename."""

import contextlib
import glob
import os
import re
import secrets
import socket
from pathlib import Path

_HOST = socket.gethostname().split(".")[0]


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path in the target's folder, this writer's alone; rename it to `path` only if
    the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    tmp = path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale(path: Path) -> None:
    """Remove the temporary files of `path` left by killed writers on this machine; those of live
    writers (a second `andiflow predict -o` of the same file) and of other machines stay."""
    ours = re.compile(rf"\.{re.escape(path.name)}\.{re.escape(_HOST)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        found = ours.fullmatch(tmp.name)
        if found and not _alive(int(found[1])):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill would end the process there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True
