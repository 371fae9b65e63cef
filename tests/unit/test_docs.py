"""Every YAML snippet of the README and of the format document is a storyboard that validates,
and that the JSON Schema accepts. The format document is copied into the repository
(docs/storyboard-format.md, where a user reads it): nothing outside it is read. Copy it again after
the design notes change: `python -m tests.unit.test_docs PATH/TO/storyboard-format.md`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jsonschema
import pytest

from storyboard.cli import main
from storyboard.model.schema import json_schema
from storyboard.stages.yamlsrc import read_yaml
from tests.conftest import EXAMPLES, ROOT

FORMAT_DOC = ROOT / "docs" / "storyboard-format.md"
STUBS = {  # the smallest file of each kind that the loader's checks of bytes accept
    ".png": (EXAMPLES / "keeper" / "refs" / "mara.png").read_bytes(),
    ".mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
    ".m4a": (EXAMPLES / "keeper" / "refs" / "theme.m4a").read_bytes(),
    ".mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    ".yaml": b"style: the look the series shares\n",
}


def snippets(doc: Path) -> list[tuple[str, str]]:
    text = doc.read_text()
    out = []
    for m in re.finditer(r"^```yaml\n(.*?)^```", text, re.M | re.S):
        line = text[:m.start()].count("\n") + 2
        out.append((f"{doc.name}:{line}", m.group(1)))
    return out


def documents() -> list:
    return [pytest.param(ROOT / "README.md", id="README"), pytest.param(FORMAT_DOC, id="storyboard-format")]


def vendor(format_doc: Path, into: Path = FORMAT_DOC) -> int:
    """Copy the format document into the repository; how many YAML snippets it has."""
    into.write_text(format_doc.read_text())
    return len(snippets(into))


def files_named(data: dict) -> list[str]:
    """Every file a storyboard names: includes, references, cameos, music."""
    named = list(data.get("include") or [])
    for section in ("characters", "locations"):
        for item in (data.get(section) or {}).values():
            named += [item[k] for k in ("reference", "cameo") if isinstance(item, dict) and item.get(k)]
    return named + ([data["music"]] if data.get("music") else [])


@pytest.mark.parametrize("doc", documents())
def test_every_yaml_snippet_validates(doc, tmp_path, capsys):
    found = snippets(doc)
    assert found, f"{doc.name} has no ```yaml snippet"
    schema = jsonschema.Draft202012Validator(json_schema())
    for where, text in found:
        project = tmp_path / where.replace(":", "_")
        film = project / "film" / "storyboard.yaml"  # one level down, so `include: [../bible.yaml]` stays inside
        film.parent.mkdir(parents=True)
        (project / ".storyboard").write_text("")
        film.write_text(text)
        data = read_yaml(text, where).data
        for name in files_named(data):
            target = film.parent / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(STUBS[target.suffix])
        status = main(["validate", str(film)])
        err = capsys.readouterr().err
        # `take: N` names a take in the user's cache, which this fresh cache cannot have: a warning
        assert status == 0, f"the snippet at {where} does not validate:\n{err}"
        assert not list(schema.iter_errors(data)), f"the schema refuses the snippet at {where}"


if __name__ == "__main__":  # python -m tests.unit.test_docs PATH/TO/storyboard-format.md
    print(f"copied into {FORMAT_DOC.relative_to(ROOT)}, {vendor(Path(sys.argv[1]))} snippets in it")
