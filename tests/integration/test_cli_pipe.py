"""A reader that goes away (`storyboard models | head -1`): the command stops quietly with the
status a shell gives a program a closed pipe stopped (141 = 128 + SIGPIPE), not rich's 1."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def into_closed_pipe(*args: str) -> subprocess.CompletedProcess:
    """Run the command with its stdout a pipe whose reader is gone before it writes a byte."""
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run([sys.executable, "-m", "storyboard", *args], stdout=w, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(w)


@pytest.mark.parametrize("args", [["models"], ["models", "--json"], ["schema"]], ids=["table", "json", "schema"])
def test_a_closed_pipe_exits_quietly_with_141(args):
    from storyboard.cli import CLOSED_PIPE, exit_code
    run = into_closed_pipe(*args)
    assert run.returncode == CLOSED_PIPE == exit_code(BrokenPipeError()) == 141
    assert run.stderr == ""  # no traceback, no "Exception ignored ... BrokenPipeError" at exit


def test_head_gets_its_line_and_nothing_is_said():
    run = subprocess.run(["bash", "-o", "pipefail", "-c", f"'{sys.executable}' -m storyboard models | head -1"],
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.startswith("animatic") and run.stdout.count("\n") == 1
    assert run.stderr == "" and run.returncode in (0, 141)  # 0 when all of it fit in the pipe before head left
