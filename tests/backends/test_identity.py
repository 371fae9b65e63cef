"""Did the character stay the same person? A film rendered against the fake Videos API, whose clips are
made from real face photos: one shot on-model (the reference's face), one drifting (another person), one
missing its character (no face); `storyboard identity`, the review page and the manifest say so, and
`--takes 3 --pick identity` keeps the on-model take.

The photos come from PyPI packages that ship them (never a drawn face): Eileen Collins from scikit-image
(`skimage.data.astronaut()`, in the wheel, no download), a picture with no face from scikit-image
(`skimage.data.coffee()`), and Grace Hopper from matplotlib's wheel (tests/faces/README.md)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from storyboard.cli import main
from tests.conftest import read_manifest

FACES = Path(__file__).resolve().parents[1] / "faces"

pytest.importorskip("dlib", reason="the identity extra (pip install 'storyboard[identity]') is not installed")
data = pytest.importorskip("skimage.data", reason="scikit-image ships the test photos")

FILM = """
version: 1
title: Faces
defaults: {size: 320x180}
characters:
  mara: {name: Mara, description: a NASA astronaut in her forties, reference: refs/mara.png}
  rex: {name: Rex, description: a scruffy collie dog, reference: refs/mara.png}
shots:
  - {id: same, duration: 4, characters: [mara, rex], camera: {framing: medium}, action: ONMODEL Mara looks up.}
  - {id: other, duration: 4, characters: [mara], camera: {framing: close-up}, action: DRIFTER Mara turns.}
  - {id: gone, duration: 4, characters: [mara], camera: {framing: medium-close}, action: NOFACE Mara waits.}
  - {id: far, duration: 4, characters: [mara], camera: {framing: wide}, action: NOFACE Mara far off.}
"""


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    """The reference (the whole portrait), the same face another way (cropped, mirrored: on-model), another
    person (drift) and a picture without a face (missing)."""
    from PIL import Image, ImageOps
    d = tmp_path_factory.mktemp("photos")
    astronaut = Image.fromarray(data.astronaut())
    astronaut.save(d / "reference.png")
    ImageOps.mirror(astronaut.crop((60, 0, 460, 400))).save(d / "same.png")
    Image.open(FACES / "grace_hopper.jpg").convert("RGB").save(d / "other.png")
    Image.fromarray(data.coffee()).save(d / "noface.png")
    return {k: d / f"{k}.png" for k in ("reference", "same", "other", "noface")}


def film(project, photos, text: str = FILM) -> Path:
    (project / "refs").mkdir(exist_ok=True)
    (project / "refs" / "mara.png").write_bytes(photos["reference"].read_bytes())
    path = project / "film.yaml"
    path.write_text(text)
    return path


def verdicts(rows: list[dict], in_cut: bool = True) -> dict:
    return {(r["shot"], c["character"]): c["verdict"] for r in rows for t in r["takes"]
            if t["in_cut"] or not in_cut for c in t["characters"]}


def test_a_film_shows_the_drifted_shot_and_the_missing_character(sora, project, photos, capsys):
    sora.behaviour.stills = {"ONMODEL": [photos["same"]], "DRIFTER": [photos["other"]], "NOFACE": [photos["noface"]]}
    path = film(project, photos)
    from storyboard.identity import faces
    faces.models.cache_clear()
    assert main(["render", str(path), "--backend", "openai", "--yes"]) == 0
    capsys.readouterr()
    assert main(["identity", str(path), "--backend", "openai", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["shots"]
    # the scorer's process found every face, the reference's too: this process never loaded dlib's models
    assert faces.models.cache_info().currsize == 0
    # Rex is a dog (inferred from his description): not checked, though his reference is a face
    assert verdicts(rows) == {("same", "mara"): "on-model", ("other", "mara"): "drift",
                              ("gone", "mara"): "missing", ("far", "mara"): "uncertain"}
    by = {r["shot"]: r["takes"][0]["characters"][0] for r in rows}
    assert by["same"]["distance"] < 0.5 < 0.6 < by["other"]["distance"]
    assert by["gone"]["distance"] is None and "no face" in by["gone"]["why"]
    assert "wide" in by["far"]["why"]
    assert 0 <= by["same"]["time"] <= 4
    # the table says the same, drift and missing standing out
    assert main(["identity", str(path), "--backend", "openai"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"other .*Mara .*DRIFT", table) and re.search(r"gone .*Mara .*MISSING", table)
    assert re.search(r"same .*Mara .*on-model", table)
    # the manifest: scores per shot
    man = {s["id"]: s for s in read_manifest(project / "film")["shots"]}
    assert [c["verdict"] for c in man["other"]["identity"]] == ["drift"]
    assert [c["verdict"] for c in man["same"]["identity"]] == ["on-model"]
    # the review page: a badge per character, the flagged shots marked for the "show drift" filter,
    # the best frame's face beside the reference's
    html = (project / "film" / "review.html").read_text("utf-8")
    assert 'id="f-drift"' in html
    flagged = set(re.findall(r'id="shot-(\w+)"[^>]*data-drift="1"', html))
    assert flagged == {"other", "gone"}
    assert re.search(r'class="idb drift"[^>]*>Mara: drift 0\.\d\d<', html)
    assert re.search(r'class="idb missing"[^>]*>Mara: missing<', html)
    assert re.search(r'class="idb on-model"[^>]*>Mara: on-model 0\.\d\d<', html)
    faces = re.findall(r'src="(review/face-[0-9a-f]+-\d+\.jpg)"', html)
    refs = re.findall(r'src="(review/ref-[0-9a-f]+\.jpg)"', html)
    assert len(faces) == 2 and refs and all((project / "film" / f).stat().st_size > 500 for f in faces + refs)
    # the shot list marks the drift
    shotlist = (project / "film" / "shotlist.csv").read_text("utf-8")
    assert re.search(r"other,.*DRIFT: Mara drift 0\.\d\d", shotlist)


@pytest.mark.slow
def test_takes_3_pick_identity_keeps_the_on_model_take(sora, project, photos, capsys):
    text = FILM.split("shots:")[0] + "shots:\n  - {id: same, duration: 4, characters: [mara], " \
                                     "camera: {framing: close-up}, action: PICKME Mara looks up.}\n"
    path = film(project, photos, text)
    # jobs are made in plan order at concurrency 1: the cut's take (3), then takes 1 and 2
    sora.behaviour.stills = {"PICKME": [photos["other"], photos["other"], photos["same"]]}
    assert main(["render", str(path), "--backend", "openai", "--yes", "--takes", "3", "--pick", "identity",
                 "--concurrency", "1"]) == 0
    capsys.readouterr()
    assert main(["identity", str(path), "--backend", "openai", "--json"]) == 0
    takes = {t["take"]: (t["characters"][0]["verdict"], t["in_cut"], t["chosen_by"])
             for t in json.loads(capsys.readouterr().out)["shots"][0]["takes"]}
    assert takes == {1: ("drift", False, None), 2: ("on-model", True, "identity"), 3: ("drift", False, None)}
    man = read_manifest(project / "film")
    assert man["shots"][0]["take"] == 2 and man["shots"][0]["chosen_by"] == "identity"
    assert sorted((t["take"], t["status"]) for t in man["other_takes"]) == [(1, "rendered"), (3, "rendered")]
    assert man["spent"] == pytest.approx(3 * 0.4)
    assert "chosen by identity score" in (project / "film" / "review.html").read_text("utf-8")
    # a pinned take always wins
    path.write_text(text.replace("PICKME Mara looks up.}", "PICKME Mara looks up., take: 3}"))
    assert main(["render", str(path), "--backend", "openai", "--yes", "--pick", "identity"]) == 0
    assert read_manifest(project / "film")["shots"][0]["take"] == 3 and len(sora.ledger.jobs) == 3


@pytest.mark.slow
def test_retake_drift_makes_more_takes_of_a_drifting_shot_within_the_cap(sora, project, photos, capsys):
    text = FILM.split("shots:")[0] + "shots:\n  - {id: same, duration: 4, characters: [mara], " \
                                     "camera: {framing: close-up}, action: RETAKE Mara looks up.}\n" \
                                     "  - {id: fine, duration: 4, characters: [mara], " \
                                     "camera: {framing: close-up}, action: ONMODEL Mara smiles.}\n"
    path = film(project, photos, text)
    sora.behaviour.stills = {"RETAKE": [photos["other"], photos["other"], photos["same"]], "ONMODEL": [photos["same"]]}
    # $1.20 pays for both shots and one retake of 'same' (it drifts); a second would pass the cap
    assert main(["render", str(path), "--backend", "openai", "--retake-drift", "2", "--max-cost", "1.2",
                 "--yes", "--concurrency", "1"]) == 0
    assert len(sora.ledger.jobs) == 3
    man = read_manifest(project / "film")
    assert man["spent"] == pytest.approx(1.2)
    assert [(s["id"], s["identity"][0]["verdict"]) for s in man["shots"]] == [("same", "drift"), ("fine", "on-model")]
    # without the cap: take 3 of 'same' is on-model, and goes in the cut; 'fine' was never retaken
    assert main(["render", str(path), "--backend", "openai", "--retake-drift", "2", "--yes"]) == 0
    assert len(sora.ledger.jobs) == 4
    man = read_manifest(project / "film")
    assert [(s["id"], s["take"], s["identity"][0]["verdict"]) for s in man["shots"]] == [
        ("same", 3, "on-model"), ("fine", 1, "on-model")]
    assert man["shots"][0]["chosen_by"] == "identity"
    # the plan shown before the yes: the most the retakes could add
    capsys.readouterr()


def test_the_plan_shows_the_most_retakes_could_spend(sora, project, photos, monkeypatch, capsys):
    from storyboard import cli
    path = film(project, photos)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(cli.out, "input", lambda prompt, **kw: print(prompt) or "n")
    assert main(["render", str(path), "--backend", "openai", "--retake-drift", "2"]) == 2
    said = capsys.readouterr().out
    # four shots of 4 s at $0.10/s: $1.60 now, and two more takes of each at most: $3.20 more
    assert "up to $3.20 more" in said and "spend up to $4.80" in said
    assert len(sora.ledger.jobs) == 0


def test_without_the_extra_everything_else_works_and_identity_says_how_to_install(sora, project, photos, capsys,
                                                                                 monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)  # `import dlib` fails, as where the extra is not installed
    sora.behaviour.stills = {"DRIFTER": [photos["other"]]}
    path = film(project, photos, "\n".join(line for line in FILM.splitlines() if "NOFACE" not in line))  # 2 shots
    assert main(["validate", str(path)]) == 0
    assert main(["render", str(path), "--backend", "openai", "--yes"]) == 0
    assert main(["review", str(path), "--backend", "openai"]) == 0
    html = (project / "film" / "review.html").read_text("utf-8")
    assert 'class="idb' not in html and 'data-drift="1"' not in html
    assert all(s["identity"] is None for s in read_manifest(project / "film")["shots"])
    capsys.readouterr()
    assert main(["identity", str(path), "--backend", "openai"]) == 2
    assert "pip install 'storyboard[identity]'" in capsys.readouterr().err
    assert main(["render", str(path), "--backend", "openai", "--yes", "--takes", "2", "--pick", "identity"]) == 2
    assert "pip install 'storyboard[identity]'" in capsys.readouterr().err


def test_validate_warns_of_a_reference_with_no_face_unless_the_character_opts_out(project, photos, capsys):
    (project / "refs").mkdir()
    (project / "refs" / "cup.png").write_bytes(photos["noface"].read_bytes())
    (project / "refs" / "mara.png").write_bytes(photos["reference"].read_bytes())
    text = ("version: 1\ncharacters:\n  mara: {description: a NASA astronaut, reference: refs/mara.png}\n"
            "  cup: {description: a tired barista, reference: refs/cup.png}\n"
            "shots:\n  - {id: a, duration: 4, characters: [mara, cup]}\n")
    path = project / "film.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr()
    said = err.out + err.err
    assert re.search(r"film\.yaml:4:\d+: warning: character 'cup': no face found in refs/cup\.png", said)
    assert "refs/mara.png" not in said.replace("reference: refs/mara.png", "")
    path.write_text(text.replace("a tired barista,", "a tired barista, identity: false,"))
    assert main(["validate", str(path)]) == 0
    said = "".join(capsys.readouterr())
    assert "no face found" not in said


def test_animatic_clips_are_not_scored(project, photos, capsys):
    path = film(project, photos)
    assert main(["render", str(path), "--pick", "identity"]) == 2
    assert "draws its characters" in capsys.readouterr().err
    assert main(["identity", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["shots"]
    assert {r["not_scored"] for r in rows} == {"the animatic draws its characters: no faces to compare"}


def test_clips_are_sent_to_the_scorer_as_they_are_made_and_a_cameo_is_a_reference(sora, project, photos):
    """render_shots hands each clip to the scorer as its download is verified (not after the run), only for
    shots with a checked character; a cameo video gives reference faces like a still."""
    from storyboard import identity
    from tests.backends.conftest import render
    from tests.media import make_still_clip

    class Seen:
        enabled = True

        def __init__(self):
            self.sent = []

        def submit(self, entry, references=()):
            assert references == [project / "refs" / "mara.mp4"]
            self.sent.append((entry.meta["shot"], len(sora.ledger.jobs)))

    text = FILM.replace("reference: refs/mara.png}", "cameo: refs/mara.mp4}", 1).replace(
        "  - {id: far,", "  - {id: sea, duration: 4, action: NOFACE The empty sea.}\n  - {id: far,")
    path = film(project, photos, text)
    make_still_clip(project / "refs" / "mara.mp4", photos["reference"], 3, "640x360")  # its face is found at this size too
    sora.behaviour.stills = {"ONMODEL": [photos["same"]], "DRIFTER": [photos["other"]], "NOFACE": [photos["noface"]]}
    seen = Seen()
    run = render(path, "openai", concurrency=1, scorer=seen)
    assert all(o.entry is not None for o in run.outcomes.values())
    # each clip is sent as it lands (in the order they land), while later jobs are still to be created;
    # 'sea' has no one to check
    assert sorted(sid for sid, _ in seen.sent) == ["far", "gone", "other", "same"]
    assert seen.sent[0][1] < len(sora.ledger.jobs) == 5
    from storyboard.store.cache import Cache
    ref = identity.reference(project, run.prep.loaded.storyboard, "mara", Cache())
    assert ref.files == ["refs/mara.mp4"] and len(ref.descriptors) >= 3 and not ref.faceless
