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


EVERY_YAML = sorted({*BAD, *(Path(__file__).parents[2] / "examples").rglob("*.yaml"),
                     *(Path(__file__).parents[1] / "import_cases").rglob("*.yaml")})


@pytest.mark.parametrize("path", EVERY_YAML, ids=[f"{p.parent.name}/{p.stem}" for p in EVERY_YAML])
def test_libyaml_and_the_python_parser_compose_the_same_nodes_or_both_refuse(path):
    """Storyboards are parsed by libyaml (a tenth of the time) and said wrong by PyYAML's own parser:
    both must see the same document, node for node and place for place."""
    import yaml

    from storyboard.stages import yamlsrc
    if yamlsrc.CParser is None:
        pytest.skip("this PyYAML was built without libyaml")

    def nodes(loader):
        try:
            return [(n.tag, n.start_mark.line, n.start_mark.column, n.end_mark.line, n.end_mark.column,
                     n.value if isinstance(n, yaml.ScalarNode) else None, bool(getattr(n, "style", None)))
                    for doc in yaml.compose_all(path.read_text("utf-8"), Loader=loader) if doc is not None
                    for n in _walk(doc)]
        except (yaml.YAMLError, yamlsrc._TooDeep) as e:
            return f"refused ({type(e).__name__})"
    assert nodes(yamlsrc._FastLoader) == nodes(yamlsrc._Loader)


def _walk(node, seen=None):
    """Each node once (an alias is the node it names: the alias bomb's million is a handful)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    if isinstance(node.value, list):
        for item in node.value:
            for n in item if isinstance(item, tuple) else (item,):
                yield from _walk(n, seen)
