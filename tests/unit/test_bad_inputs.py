"""Every bad storyboard in tests/bad/ gets its precise message, exit 2 and no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyboard.cli import main

BAD = sorted((Path(__file__).parent.parent / "bad").glob("*.yaml"))


def expected(path: Path) -> str:
    m = re.search(r"^# expect: (.+)$", path.read_text(), re.M)
    assert m, f"{path.name} has no '# expect:' line"
    return m.group(1)


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_storyboard_message(path, capsys):
    status = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert status == 2
    want = expected(path)
    if re.match(r"^\d+:\d+: ", want):  # a line:col prefix: the message must be placed exactly there
        want = f"{path.name}:{want}"
    assert want in captured.err, captured.err
    assert "Traceback" not in captured.err + captured.out


def test_corpus_is_not_empty():
    assert len(BAD) >= 25
