"""The prompt compiler: continuity, the identity ladder, golden prompts, determinism."""

from __future__ import annotations

import json

import pytest

from storyboard.pipeline import prepare
from storyboard.stages.compiler import compile_storyboard
from storyboard.stages.continuity import fold
from storyboard.stages.loader import load
from tests.conftest import EXAMPLES

GOLDEN = EXAMPLES.parent / "tests" / "golden"
CASES = [("keeper/keeper.yaml", "openai"), ("keeper/keeper.yaml", "veo"), ("keeper/keeper.yaml", "animatic"),
         ("series/ep01.yaml", "openai"), ("series/ep02.yaml", "openai")]


def compiled_doc(name: str, backend: str) -> dict:
    shots = compile_storyboard(load(EXAMPLES / name), backend)
    return {"shots": [s.model_dump() for s in shots]}


@pytest.mark.parametrize("name,backend", CASES, ids=[f"{n}-{b}" for n, b in CASES])
def test_golden_prompts(name, backend, request):
    doc = compiled_doc(name, backend)
    path = GOLDEN / f"{name.replace('/', '__').removesuffix('.yaml')}.{backend}.json"
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if request.config.getoption("--update-golden"):
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}; run pytest --update-golden and review it"
    assert text == path.read_text(), f"compiled output changed; if intended, run pytest --update-golden and review {path}"


@pytest.mark.parametrize("name", ["keeper/keeper.yaml", "screenplay/ferry.yaml", "series/ep01.yaml", "series/ep02.yaml"])
def test_the_bundled_examples_have_nothing_to_warn_of_offline(name):
    """The example is the first film a new user renders (offline): its first run warned that a line
    did not fit its shot, and (with the identity extra) that a drawn reference has no face."""
    from storyboard.pipeline import check
    assert [str(d) for d in check(load(EXAMPLES / name), "animatic")] == []


def test_deterministic():
    a = compile_storyboard(load(EXAMPLES / "keeper/keeper.yaml"), "openai")
    b = compile_storyboard(load(EXAMPLES / "keeper/keeper.yaml"), "openai")
    assert [s.prompt.encode() for s in a] == [s.prompt.encode() for s in b]


def test_character_words_are_verbatim_in_every_shot_that_shows_them():
    sb = load(EXAMPLES / "keeper/keeper.yaml").storyboard
    shots = compile_storyboard(load(EXAMPLES / "keeper/keeper.yaml"), "openai")
    desc = sb.characters["mara"].description
    for s, compiled in zip(sb.shots, shots):
        assert (desc in compiled.prompt) == ("mara" in s.characters), s.id


def test_wardrobe_change_holds_from_the_declaring_shot_on():
    ctxs = fold(load(EXAMPLES / "keeper/keeper.yaml").storyboard)
    wardrobe = {c.shot.id: next((m.wardrobe for m in c.on_screen if m.id == "mara"), None) for c in ctxs}
    assert wardrobe["climb"].startswith("navy fisherman's sweater, the oilskin hung")  # declaring shot included
    assert wardrobe["lens"] == wardrobe["dawn"] == wardrobe["climb"]
    # earlier shots untouched: the bible's wardrobe stands before 'climb'
    sea = next(c for c in ctxs if c.shot.id == "sea")
    assert not sea.on_screen


def test_location_changes_hold_until_changed_again():
    ctxs = {c.shot.id: c for c in fold(load(EXAMPLES / "keeper/keeper.yaml").storyboard)}
    assert ctxs["climb"].location.weather == "storm"
    assert ctxs["answer"].location.weather.startswith("the storm easing")
    assert ctxs["dawn"].location.weather.startswith("the storm easing") and ctxs["dawn"].location.time == "dawn"


def test_changing_a_description_changes_exactly_the_shots_that_show_them(project):
    src = (EXAMPLES / "keeper/keeper.yaml").read_text()
    (project / "refs").mkdir()
    for f in ("mara.png", "theme.m4a"):
        (project / "refs" / f).write_bytes((EXAMPLES / "keeper/refs" / f).read_bytes())
    (project / "a.yaml").write_text(src)
    (project / "b.yaml").write_text(src.replace("a lanky coastguard radio operator", "a stocky coastguard radio operator"))
    a = compile_storyboard(load(project / "a.yaml"), "openai")
    b = compile_storyboard(load(project / "b.yaml"), "openai")
    changed = [x.id for x, y in zip(a, b) if x.prompt != y.prompt]
    assert changed == ["radio"]


def test_same_shot_in_two_episodes_compiles_identically():
    e1 = {s.id: s for s in compile_storyboard(load(EXAMPLES / "series/ep01.yaml"), "openai")}
    e2 = {s.id: s for s in compile_storyboard(load(EXAMPLES / "series/ep02.yaml"), "openai")}
    assert e1["pickup"].request() == e2["pickup"].request()


def test_continuous_shot_depends_on_the_one_before():
    shots = {s.id: s for s in compile_storyboard(load(EXAMPLES / "keeper/keeper.yaml"), "openai")}
    assert shots["lens"].depends_on == ["climb"]
    assert shots["lens"].input_reference.kind == "previous_last_frame"
    assert shots["lens"].input_reference.shot == "climb"
    assert all(not s.depends_on for sid, s in shots.items() if sid != "lens")


def test_identity_ladder_per_backend(project):
    (project / "m.png").write_bytes((EXAMPLES / "keeper/refs/mara.png").read_bytes())
    (project / "m.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    (project / "s.yaml").write_text("""
version: 1
characters:
  a: {description: one, cameo: m.mp4, reference: m.png}
  b: {description: two, cameo: m.mp4}
  c: {description: three, cameo: m.mp4, reference: m.png}
  d: {description: four}
shots:
  - {id: x, duration: 8, characters: [a, b, c, d]}
""")
    sora = compile_storyboard(load(project / "s.yaml"), "openai")[0]
    assert [u.identity for u in sora.characters] == ["native", "native", "reference", "words"]
    assert sora.input_reference.path == "m.png"
    assert "One." not in sora.prompt and "A, one" in sora.prompt  # the name verbatim, then the words
    veo = compile_storyboard(load(project / "s.yaml"), "veo")[0]
    assert [u.identity for u in veo.characters] == ["reference", "words", "reference", "words"]
    assert veo.reference_images == ["m.png", "m.png"]


def test_durations_map_to_what_the_backend_makes():
    shots = {s.id: s for s in prepare(EXAMPLES / "keeper/keeper.yaml", "openai").shots}
    assert (shots["sea"].duration, shots["sea"].seconds) == (7, 8)
    assert (shots["lens"].duration, shots["lens"].seconds) == (4, 4)
    veo = {s.id: s for s in prepare(EXAMPLES / "keeper/keeper.yaml", "veo").shots}
    assert veo["climb"].seconds == 6  # Veo makes 6 s clips directly


def test_long_shot_uses_extensions(project):
    (project / "s.yaml").write_text("version: 1\nshots:\n  - {id: long, duration: 18}\n")
    s = compile_storyboard(load(project / "s.yaml"), "openai")[0]
    assert s.segments == [12, 8] and s.seconds == 20


def test_user_config_adds_a_gateway_model(project, monkeypatch):
    cfg = project / "config.toml"
    cfg.write_text('[backends.openai.models."acme-video-1"]\ndurations = [5, 10]\nsizes = ["1280x720"]\n'
                   'image_reference = true\nprice = { "*" = 0.05 }\n')
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    (project / "s.yaml").write_text("version: 1\ndefaults: {model: acme-video-1}\nshots:\n  - {id: a, duration: 7}\n")
    s = prepare(project / "s.yaml", "openai").shots[0]
    assert (s.model, s.seconds) == ("acme-video-1", 10)


def test_template_user_text_is_data_not_code(project):
    (project / "s.yaml").write_text("version: 1\nshots:\n  - {id: a, duration: 4, action: \"{{ 7*7 }} {% raw %}\"}\n")
    s = compile_storyboard(load(project / "s.yaml"), "openai")[0]
    assert "{{ 7*7 }} {% raw %}" in s.prompt and "49" not in s.prompt


def test_compile_json_cli(capsys):
    from storyboard.cli import main
    assert main(["compile", str(EXAMPLES / "keeper/keeper.yaml"), "--backend", "sora", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for s in doc["shots"]:
        assert {"id", "prompt", "duration", "seconds", "size", "model", "input_reference", "characters",
                "depends_on", "warnings"} <= set(s)
    lens = next(s for s in doc["shots"] if s["id"] == "lens")
    assert lens["input_reference"] == {"kind": "previous_last_frame", "path": None, "shot": "climb"}


def test_checks_warn_before_spend(project, capsys):
    from storyboard.cli import main
    (project / "s.yaml").write_text("version: 1\ncharacters: {a: {description: x}}\nshots:\n"
                                    "  - id: a\n    duration: 2\n    characters: [a]\n    dialogue:\n"
                                    "      - a: This line has far too many words to be said in two seconds by anyone.\n")
    assert main(["compile", str(project / "s.yaml"), "-b", "openai"]) == 0
    assert "needs about" in capsys.readouterr().err
    (project / "t.yaml").write_text("version: 1\ndefaults: {model: sora-2-pro, size: 1792x1024}\nshots: [{id: a, duration: 4}]\n")
    # a size of a shape the model makes (within a few per cent) is made at its nearest size and conformed
    assert main(["compile", str(project / "t.yaml"), "-b", "veo", "--json"]) == 0
    shot = json.loads(capsys.readouterr().out)["shots"][0]
    assert (shot["size"], shot["delivery"]) == ("1920x1080", "1792x1024")
    (project / "t.yaml").write_text("version: 1\ndefaults: {model: veo-3.1-generate-001, size: 1080x1080}\n"
                                    "shots: [{id: a, duration: 4}]\n")
    assert main(["compile", str(project / "t.yaml"), "-b", "veo"]) == 2  # no square picture: refused, naming the shapes
    assert "makes no 1:1 picture, so it cannot deliver 1080x1080; it makes 16:9 (1280x720), 9:16 (720x1280)" \
        in capsys.readouterr().err


def test_plan_prices_and_total(capsys):
    from storyboard.cli import main
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "--backend", "openai", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["seconds"] for s in doc["shots"]] == [8, 8, 4, 8, 8, 8]
    assert doc["total_text"] == "$4.40" and all(s["cache"] == "miss" for s in doc["shots"])
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "--backend", "veo"]) == 0
    assert "total $15.20" in capsys.readouterr().out  # 8+6+4+8+6+6 = 38 s at $0.40


def test_plan_shot_selection_takes_dependencies(capsys):
    from storyboard.cli import main
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "-b", "openai", "--json", "--shot", "lens"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in doc["shots"] if s["selected"]] == ["climb", "lens"]
    assert main(["plan", str(EXAMPLES / "keeper/keeper.yaml"), "-b", "openai", "--shot", "lenz"]) == 2
    assert "did you mean 'lens'" in capsys.readouterr().err


def test_the_plan_says_a_continuing_shot_is_made_again_because_of_the_shot_before(project, capsys):
    """A continuous shot starts from the last frame of the one before: when that one is to be made,
    so is this one, and the plan said only 'miss' (a user asked why it changed)."""
    from storyboard.cli import main
    (project / "s.yaml").write_text("version: 1\nshots:\n  - {id: pour, duration: 2, action: Coffee poured.}\n"
                                    "  - {id: sip, duration: 2, action: A sip., continuity: continuous}\n"
                                    "  - {id: door, duration: 2, action: The door.}\n")
    assert main(["plan", str(project / "s.yaml")]) == 0
    rows = {line.split("│")[1].strip(): line.split("│")[6].strip() for line in capsys.readouterr().out.splitlines()
            if line.startswith("│")}
    assert rows == {"pour": "miss", "sip": "miss (after pour)", "door": "miss"}
