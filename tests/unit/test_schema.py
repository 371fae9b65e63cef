"""The JSON Schemas agree with the tool: what `validate` accepts the schema accepts, and every bad
storyboard whose fault a schema can express is refused by it. Files are read as the tool reads
them (YAML 1.2 scalars, as editors' language servers do)."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from storyboard.cli import main
from storyboard.errors import FormatError
from storyboard.model.schema import bible_schema, json_schema
from storyboard.stages.yamlsrc import read_yaml
from tests.conftest import EXAMPLES
from tests.unit.test_bad_inputs import BAD

STORYBOARD = jsonschema.Draft202012Validator(json_schema())
BIBLE = jsonschema.Draft202012Validator(bible_schema())


def data_of(path: Path):
    return read_yaml(path.read_bytes(), path.name).data


def examples() -> tuple[list[Path], list[Path]]:
    """(storyboards, bibles): a bible is a file another example includes."""
    files = sorted(EXAMPLES.rglob("*.yaml"))
    included = {(f.parent / inc).resolve() for f in files for inc in (data_of(f) or {}).get("include", [])}
    return [f for f in files if f.resolve() not in included], [f for f in files if f.resolve() in included]


STORYBOARDS, BIBLES = examples()


@pytest.mark.parametrize("path", STORYBOARDS, ids=lambda p: p.stem)
def test_the_schema_and_validate_accept_every_example(path, capsys):
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert not list(STORYBOARD.iter_errors(data_of(path)))


@pytest.mark.parametrize("path", BIBLES, ids=lambda p: p.stem)
def test_a_bible_has_its_own_schema(path):
    data = data_of(path)
    assert not list(BIBLE.iter_errors(data))
    missing = {e.message for e in STORYBOARD.iter_errors(data)}  # what the storyboard schema would flag
    assert "'version' is a required property" in missing and "'shots' is a required property" in missing
    assert list(BIBLE.iter_errors({**data, "shots": []}))  # a bible holds no shots


def schema_note(path: Path) -> str:
    m = re.search(r"^# schema: (.+)$", path.read_text(), re.M)
    return m.group(1) if m else ""


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_the_schema_and_validate_agree_on_bad_files(path, capsys):
    """Each bad file is refused by the schema, unless its `# schema:` line says why the schema cannot
    see the fault: then the schema must accept it (so the note cannot go stale), or the tool's reader
    must refuse the text before any schema could look at it."""
    assert main(["validate", str(path)]) == 2
    capsys.readouterr()
    note = schema_note(path)
    if note.startswith("not"):
        with pytest.raises(FormatError):
            data_of(path)
        return
    errors = list(STORYBOARD.iter_errors(data_of(path)))
    if note.startswith("blind"):
        assert not errors, f"the schema now sees what {path.name} says it cannot: drop its '# schema:' line"
    else:
        assert errors, f"the schema accepts {path.name}, which validate refuses"


@pytest.mark.parametrize("text,ok", [
    ("dissolve 1", True), ("dissolve 1s", True), ("Dissolve 0.5 s", True), ("fade", True), ("cut", True),
    ("fade-to-black 2s", True), ("wipe-left 0.5s", True),
    ("crossfade 1s", False), ("cut 1s", False), ("dissolve s", False), ("1s", False),
])
def test_transitions_are_read_alike(text, ok, project, capsys):
    film = project / "t.yaml"
    film.write_text(f"version: 1\nshots:\n  - {{id: a, duration: 4, transition: {text}}}\n  - {{id: b, duration: 4}}\n")
    assert (main(["validate", str(film)]) == 0) is ok, capsys.readouterr().err
    assert (not list(STORYBOARD.iter_errors(data_of(film)))) is ok


def test_the_transition_default_is_written_as_text():
    assert json_schema()["$defs"]["Defaults"]["properties"]["transition"]["default"] == "cut"


def test_a_description_may_come_from_the_bible(project, capsys):
    """An episode that only overrides a bible character's wardrobe is valid, to the tool and the schema."""
    (project / "bible.yaml").write_text("characters:\n  mara: {description: a keeper}\n")
    ep = project / "ep.yaml"
    ep.write_text("version: 1\ninclude: [bible.yaml]\ncharacters:\n  mara: {wardrobe: a sweater}\n"
                  "shots: [{id: a, duration: 4, characters: [mara]}]\n")
    assert main(["validate", str(ep)]) == 0, capsys.readouterr().err
    assert not list(STORYBOARD.iter_errors(data_of(ep)))
