"""The last frame a cache entry keeps for the continuous shot after it is a paid request's first frame:
it is verified against the size and sha256 recorded with the entry; a replaced or truncated one is
moved aside and made again from the clip, at no cost (issue 22, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops

from storyboard.media.probe import decodes
from storyboard.store.cache import Cache
from tests.backends.test_fal_backend import (  # noqa: F401 - fixtures
    FILM,
    ca,
    fal,
    image_of,
    media,
    requests_only,
)


def true_last_frame(clip: Path, tmp: Path) -> Image.Image:
    decodes(clip, tmp / "truth.png", (1280, 720))
    with Image.open(tmp / "truth.png") as im:
        return im.convert("RGB")


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


@pytest.mark.parametrize("damage", [pytest.param("replaced", marks=pytest.mark.slow), "truncated"])
def test_a_damaged_last_frame_is_made_again_from_the_clip(fal, project, tmp_path, damage):  # noqa: F811
    # the shots without the cut (what is asked, paid and said is the render's; the cut adds nothing here)
    one = requests_only(project).outcomes["one"].entry
    truth = true_last_frame(one.clip, tmp_path)
    assert "last_sha256" in one.meta and one.meta["last_bytes"] == one.last_frame.stat().st_size
    if damage == "replaced":
        Image.new("RGB", (1280, 720), (0, 255, 0)).save(one.last_frame)  # someone else's picture
    else:
        one.last_frame.write_bytes(one.last_frame.read_bytes()[:100])
    (project / "film.yaml").write_text(FILM.replace("Ana stops and looks out to sea.", "Ana stops and turns back."))
    for run in range(2):  # and the next run is quiet: the frame was repaired, not just worked around
        done = requests_only(project)
        said = [w for o in done.outcomes.values() for w in o.warnings]
        assert done.status == 0 and not any("ffmpeg" in w for w in said), said
        assert any("last frame" in w for w in said) == (run == 0), said
        if run == 0:
            film = FILM.replace("Ana stops and looks out to sea.", "Ana stops and sits down.")
            (project / "film.yaml").write_text(film)
    stops = [r for r in fal.ledger.jobs if "Ana stops" in r["input"]["prompt"]]
    assert len(stops) == 3 and len(fal.ledger.jobs) == 5  # shot one was never paid for again
    for r in stops:
        assert same(image_of(r["input"]["image_url"]), truth)
    one = done.outcomes["one"].entry
    assert one.last_frame.stat().st_size == one.meta["last_bytes"]
    with Image.open(one.last_frame) as im:
        assert same(im.convert("RGB"), truth)
    aside = list((Cache().root / "bad").iterdir())
    assert len(aside) == 1 and aside[0].name.startswith(one.key) and "last" in aside[0].name


def test_a_last_frame_is_kept_only_for_a_shot_continued_and_made_when_one_first_is(fal, project, tmp_path):  # noqa: F811
    """Only the clip a later shot starts from keeps its last frame as it is verified (a PNG for every
    clip of a feature is time and disk for nothing); when an edit makes a shot continue another, the
    other's is made from its verified clip then, at no cost and without a warning."""
    done = requests_only(project)
    entries = {sid: o.entry for sid, o in done.outcomes.items()}
    assert entries["one"].last_frame.is_file() and "last_sha256" in entries["one"].meta  # two continues one
    for sid in ("two", "three"):  # nothing continues two or three
        assert not entries[sid].last_frame.exists() and "last_sha256" not in entries[sid].meta
    truth = true_last_frame(entries["three"].clip, tmp_path)
    # a fourth shot continues three: three's last frame is made from its clip; three is not paid again
    (project / "film.yaml").write_text(FILM + "  - {id: four, duration: 4, continuity: continuous, "
                                              "action: The storm breaks.}\n")
    again = requests_only(project)
    assert again.status == 0 and again.outcomes["three"].status == "cached"
    assert not [w for o in again.outcomes.values() for w in o.warnings if "last frame" in w]
    four = [r for r in fal.ledger.jobs if "The storm breaks" in r["input"]["prompt"]]
    assert len(four) == 1 and len(fal.ledger.jobs) == 4 and same(image_of(four[0]["input"]["image_url"]), truth)
    three = Cache().get(entries["three"].key)
    assert three.meta["last_bytes"] == three.last_frame.stat().st_size  # recorded: checked from now on
    assert not (Cache().root / "bad").exists()
