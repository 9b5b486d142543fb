import os
import subprocess
import sys
from pathlib import Path

import pytest

from andiflow import atomic
from andiflow.atomic import atomic_path


def test_two_writers_of_one_file_both_succeed(tmp_path):
    target = tmp_path / "x.csv"
    with atomic_path(target) as first:
        Path(first).write_text("first")
        with atomic_path(target) as second:  # a second `andiflow predict -o x.csv` meanwhile
            Path(second).write_text("second")
        assert target.read_text() == "second"
    assert target.read_text() == "first"
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_failed_block_leaves_neither_output_nor_temporary_file(tmp_path):
    target = tmp_path / "x.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        Path(tmp).write_text("half")
        raise RuntimeError
    assert not list(tmp_path.iterdir())


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


@pytest.mark.skipif(sys.platform == "win32", reason="other writers' files are never removed on Windows")
def test_only_the_leftovers_of_killed_writers_on_this_machine_are_removed(tmp_path):
    def leftover(host, pid):
        path = tmp_path / f".x.csv.{host}.{pid}.0123abcd.tmp"
        path.write_text("partial")
        return path

    killed = leftover(atomic._HOST, _dead_pid())
    running = leftover(atomic._HOST, os.getppid())
    elsewhere = leftover(atomic._HOST + "-other", _dead_pid())  # a shared folder: its pid says nothing here
    other_file = tmp_path / f".x.csv.bak.{atomic._HOST}.{_dead_pid()}.0123abcd.tmp"  # x.csv.bak's
    other_file.write_text("partial")
    with atomic_path(tmp_path / "x.csv") as tmp:
        Path(tmp).write_text("whole")
    assert not killed.exists()
    assert running.exists() and elsewhere.exists() and other_file.exists()
