"""The README's "Use from Python" example runs as written, on the animatic, in a copy of
examples/keeper; and what it hands back reads well in a notebook."""

from __future__ import annotations

import re
import shutil

import pytest

import storyboard
from tests.conftest import EXAMPLES, ROOT


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Use from Python", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)
    return code


@pytest.mark.slow  # the whole example film, twice cut
def test_the_readme_example_runs(tmp_path, monkeypatch, capsys):
    shutil.copytree(EXAMPLES / "keeper", tmp_path / "examples" / "keeper")
    monkeypatch.chdir(tmp_path)
    seen = []  # every shot the one-call render told its progress about
    monkeypatch.setattr(storyboard, "RichProgress", lambda: lambda e: seen.append((e.shot, e.state)))
    names: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), names)

    out = tmp_path / "keeper-out"
    result, rendered, plan = names["result"], names["rendered"], names["plan"]
    assert (out / "final.mp4").stat().st_size > 0 and result.final.resolve() == out / "final.mp4"
    assert {s for s, _ in seen} == {"sea", "climb", "lens", "radio", "answer", "dawn"}
    assert {state for _, state in seen} >= {"done"}
    printed = capsys.readouterr().out
    assert "$0.00 for 0 shots" in printed  # the one-call render left every shot in the cache
    assert [o.status for o in rendered.outcomes.values()] == ["cached"] * 6
    assert result.rendered is rendered
    # what a notebook shows: short reprs, the plan as a table, the cut as its video and files
    for obj in (names["sb"], names["prep"], plan, rendered, result):
        assert len(repr(obj)) < 400, type(obj).__name__
    assert repr(result).startswith("<CutResult keeper-out/final.mp4 (") and "6 cached" in repr(result)
    page = result._repr_html_()
    assert "<video src='keeper-out/final.mp4'" in page and "<a href='keeper-out/review.html'>review.html</a>" in page
    assert plan._repr_html_().count("<tr><td>") == 6
