"""Every bad storyboard in tests/bad/ gets its precise messages, exit 2 and no traceback.

A file says what it must produce in `# expect: ` lines (each must appear; a LINE:COL prefix
must match exactly), and in a `# schema: ` line why the JSON Schema cannot tell it is wrong,
when it cannot (see test_schema.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyboard.cli import main

BAD = sorted((Path(__file__).parent.parent / "bad").glob("*.yaml"))


def expected(path: Path) -> list[str]:
    found = re.findall(r"^# expect: (.+)$", path.read_text(), re.M)
    assert found, f"{path.name} has no '# expect:' line"
    return found


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_storyboard_message(path, capsys):
    status = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert status == 2
    for want in expected(path):
        if re.match(r"^\d+:\d+: ", want):  # a line:col prefix: the message must be placed exactly there
            want = f"{path.name}:{want}"
        assert want in captured.err, captured.err
    assert "Traceback" not in captured.err + captured.out


def test_corpus_is_not_empty():
    assert len(BAD) >= 40
