"""Loading: includes merged key by key, safe paths, references checked by their bytes."""

from __future__ import annotations

import os

import pytest

from storyboard.errors import FormatError
from storyboard.model import Storyboard
from storyboard.stages.loader import load
from tests.conftest import EXAMPLES

PNG = (EXAMPLES / "keeper" / "refs" / "mara.png").read_bytes()


def write(folder, name, text):
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def messages(exc: pytest.ExceptionInfo) -> str:
    return "\n".join(str(d) for d in exc.value.diagnostics)


@pytest.mark.parametrize("name", ["keeper/keeper.yaml", "series/ep01.yaml", "series/ep02.yaml"])
def test_examples_load(name):
    loaded = load(EXAMPLES / name)
    assert loaded.storyboard.shots


def test_keeper_example_has_what_the_issue_asks():
    sb = load(EXAMPLES / "keeper" / "keeper.yaml").storyboard
    assert len(sb.characters) >= 3 and len(sb.shots) >= 6
    assert any(any(c.wardrobe for c in s.changes.values()) for s in sb.shots)
    assert any(s.continuity == "continuous" for s in sb.shots)
    assert any(line.voice_over for s in sb.shots for line in s.dialogue)
    assert any(sb.transition_after(i).kind == "dissolve" for i in range(len(sb.shots)))
    assert sb.music


def test_include_merges_key_by_key(project):
    write(project, "bible.yaml", """
style: old look
defaults: {size: 720x1280}
characters:
  mara: {name: Mara, description: a keeper, wardrobe: oilskin}
  tom: {description: a radio man}
""")
    ep = write(project, "ep.yaml", """
version: 1
include: [bible.yaml]
characters:
  mara: {wardrobe: a sweater}
shots: [{id: a, duration: 4, characters: [mara, tom]}]
""")
    sb = load(ep).storyboard
    assert sb.style == "old look"
    assert sb.defaults.size == "720x1280"
    assert sb.characters["mara"].wardrobe == "a sweater"      # overridden
    assert sb.characters["mara"].description == "a keeper"    # kept from the bible
    assert sb.characters["tom"].description == "a radio man"


def test_include_error_points_into_the_bible(project):
    write(project, "bible.yaml", "characters:\n  mara:\n    descripton: x\n")
    ep = write(project, "ep.yaml", "version: 1\ninclude: [bible.yaml]\nshots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "bible.yaml:3:5: unknown key 'descripton' in character 'mara'; did you mean 'description'?" in messages(e)


def test_include_cycle(project):
    write(project, "a.yaml", "include: [b.yaml]\n")
    write(project, "b.yaml", "include: [a.yaml]\n")
    ep = write(project, "ep.yaml", "version: 1\ninclude: [a.yaml]\nshots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "include cycle: ep.yaml -> a.yaml -> b.yaml -> a.yaml" in messages(e)


def test_bible_may_not_hold_shots(project):
    write(project, "bible.yaml", "shots: [{id: x, duration: 4}]\n")
    ep = write(project, "ep.yaml", "version: 1\ninclude: [bible.yaml]\nshots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "'shots' cannot be in an included bible" in messages(e)


@pytest.mark.parametrize("ref,why", [
    ("/etc/passwd", "absolute paths are refused"),
    ("../outside.png", "leads outside the project folder"),
    ("missing.png", "no such file"),
    ("notes.txt", "not a png, jpeg or webp image (checked by its bytes)"),
    ("fake.png", "not a png, jpeg or webp image (checked by its bytes)"),
])
def test_reference_paths_are_checked(project, ref, why):
    (project.parent / "outside.png").write_bytes(PNG)
    write(project, "notes.txt", "hello")
    write(project, "fake.png", "GIF89a not really")
    ep = write(project, "ep.yaml", f"version: 1\ncharacters:\n  mara: {{description: x, reference: {ref!r}}}\n"
                                    "shots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "ep.yaml:3:" in messages(e)
    assert why in messages(e)


def test_symlink_out_of_the_project_is_refused(project):
    (project.parent / "secret.png").write_bytes(PNG)
    os.symlink(project.parent / "secret.png", project / "link.png")
    ep = write(project, "ep.yaml", "version: 1\ncharacters:\n  mara: {description: x, reference: link.png}\n"
                                    "shots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "a symlink there leads outside the project folder" in messages(e)


def test_include_escape_is_refused(project):
    (project.parent / "bible.yaml").write_text("style: x\n")
    ep = write(project, "ep.yaml", "version: 1\ninclude: [../bible.yaml]\nshots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "include '../bible.yaml': it leads outside the project folder" in messages(e)


def test_paths_are_relative_to_the_file_that_names_them(project):
    write(project, "bible/refs/m.png", "").write_bytes(PNG)
    write(project, "bible/bible.yaml", "characters:\n  mara: {description: x, reference: refs/m.png}\n")
    ep = write(project, "eps/ep.yaml", "version: 1\ninclude: [../bible/bible.yaml]\nshots: [{id: a, duration: 4}]\n")
    loaded = load(ep)
    assert loaded.storyboard.characters["mara"].reference == "bible/refs/m.png"
    assert loaded.asset("bible/refs/m.png").read_bytes() == PNG


def test_image_bomb_is_refused(project):
    from PIL import Image
    Image.new("1", (9000, 9000)).save(project / "big.png")
    ep = write(project, "ep.yaml", "version: 1\ncharacters:\n  mara: {description: x, reference: big.png}\n"
                                    "shots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "over 40 megapixels" in messages(e)


def test_oversized_file_is_refused(project):
    ep = write(project, "ep.yaml", "version: 1\n# " + "x" * (1 << 20) + "\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "a storyboard may be at most" in messages(e)


def test_dialogue_markers_and_parentheticals():
    sb = Storyboard.model_validate({"version": 1, "shots": [{"id": "a", "duration": 8, "dialogue": [
        {"mara": "(whispering) Not tonight."}, {"tom (V.O.)": "Hello."}, {"tom": "(O.S.) (shouting) Here!"}]}]})
    a, b, c = sb.shots[0].dialogue
    assert (a.speaker, a.text, a.delivery, a.heard_not_seen) == ("mara", "Not tonight.", "whispering", False)
    assert (b.speaker, b.voice_over) == ("tom", True)
    assert (c.off_screen, c.delivery, c.text) == (True, "shouting", "Here!")


def test_models_round_trip():
    sb = load(EXAMPLES / "keeper" / "keeper.yaml").storyboard
    again = Storyboard.model_validate_json(sb.model_dump_json(), strict=False)
    assert again == sb
    assert sb.running_time == pytest.approx(35 - 1 - 0.5)  # less the dissolve and the wipe



def test_include_above_an_unmarked_project_says_how_to_mark_it(tmp_path):
    """The format document's `include: [../bible.yaml]`: without a marker the project folder is the
    storyboard's own, and the message says which marker to put where."""
    (tmp_path / "bible.yaml").write_text("style: x\n")
    ep = write(tmp_path / "eps", "ep.yaml", "version: 1\ninclude: [../bible.yaml]\nshots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "no folder above it holds a .storyboard or .git marker" in messages(e)
    assert f"touch {tmp_path.resolve() / '.storyboard'}" in messages(e)
    (tmp_path / ".storyboard").write_text("")  # doing what it says makes the include work
    assert load(ep).storyboard.style == "x"


def test_include_above_a_marked_project_says_to_move_the_marker(project):
    (project / "bible.yaml").write_text("style: x\n")
    (project / "eps").mkdir()
    (project / "eps" / ".storyboard").write_text("")
    ep = write(project / "eps", "ep.yaml", "version: 1\ninclude: [../bible.yaml]\nshots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert f"move that marker up to {project.resolve()}" in messages(e)


def test_a_folder_is_not_a_storyboard(project):
    write(project / "scene", "one.yaml", "version: 1\nshots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(project / "scene")
    assert "this is a folder: name a storyboard file in it; the storyboards in it: one.yaml" in messages(e)


@pytest.mark.parametrize("text,field", [
    ('title: "a\\0b"', "'title' of the storyboard"),
    ('style: "\\x07"', "'style' of the storyboard"),
    ('characters: {mara: {description: "a\\x1bkeeper"}}', "'description' of character 'mara'"),
    ('characters: {"ma\\x00ra": {description: a keeper}}', "the key 'ma\\x00ra' in 'characters'"),
])
def test_control_characters_are_refused_naming_the_field(project, text, field):
    ep = write(project, "ep.yaml", f"version: 1\n{text}\nshots: [{{id: a, duration: 4}}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert field in messages(e) and "holds a control character" in messages(e)


def test_tabs_and_line_breaks_are_text(project):
    ep = write(project, "ep.yaml", 'version: 1\nstyle: "a\\tb\\nc"\nshots: [{id: a, duration: 4}]\n')
    assert load(ep).storyboard.style == "a\tb\nc"


def test_nesting_is_cut_off_before_python_s_stack(project):
    deep = "{a: " * 5000 + "1" + "}" * 5000
    ep = write(project, "ep.yaml", f"version: 1\ntitle: {deep}\nshots: [{{id: a, duration: 4}}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "nest more than 64 deep" in messages(e)


def test_a_bare_key_in_braces_with_a_known_name(project):
    """`{description: a keeper, wardrobe}` leaves wardrobe empty: the message says why, not just 'must be text'."""
    ep = write(project, "ep.yaml", "version: 1\ncharacters:\n  mara: {description: a keeper, old, wardrobe}\n"
                                    "shots: [{id: a, duration: 4}]\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "'old' in character 'mara' has no value" in messages(e)
    assert "'wardrobe' in character 'mara' has no value" in messages(e)


def test_a_dialogue_line_spelt_out_is_still_checked(project):
    """A line with a broken field next to an unknown character: both are reported in one round."""
    ep = write(project, "ep.yaml", "version: 1\ncharacters: {mara: {description: x}}\nshots:\n"
                                    "  - id: a\n    duration: 4\n    characters: [mara, tom]\n"
                                    "    dialogue:\n      - mara: 5\n      - ben: hello\n")
    with pytest.raises(FormatError) as e:
        load(ep)
    assert "the line of 'mara' must be text" in messages(e)
    assert "unknown character 'tom'" in messages(e) and "unknown speaker 'ben'" in messages(e)
