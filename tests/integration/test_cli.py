"""The installed command in a real process: no traceback reaches a user."""

from __future__ import annotations

import subprocess
import sys

from tests.unit.test_bad_inputs import BAD


def test_no_traceback_through_the_real_command(tmp_path):
    """The installed entry point, in a process, on the worst input."""
    proc = subprocess.run([sys.executable, "-m", "storyboard", "validate", str(BAD[0]), "/nonexistent.yaml"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "/nonexistent.yaml:1:1: no such storyboard file" in proc.stderr
