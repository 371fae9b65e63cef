"""Multi-shot groups offline (issue 25): the animatic makes a group as one clip, as the model would, and
the cut gets every shot back on its own, to the frame, with the group recorded in the manifest."""

from __future__ import annotations

import os

from storyboard.media.probe import decodes
from storyboard.pipeline import make_plan, prepare, render_shots
from storyboard.pipeline import render as render_and_cut
from storyboard.stages.timeline import frames
from storyboard.store.cache import Cache
from tests.conftest import read_manifest

SB = """version: 1
defaults: {{model: kling-3-pro, size: 320x180, multi_shot: scene}}
characters: {{mara: {{description: a tall woman in a green coat}}}}
locations: {{kitchen: {{description: a narrow kitchen}}, hall: {{description: a dark hall}}}}
shots:
  - {{id: k1, duration: 2, location: kitchen, characters: [mara], action: {a1}, dialogue: [{{mara: Not tonight.}}]}}
  - {{id: k2, duration: 2.5, location: kitchen, characters: [mara], action: She turns.}}
  - {{id: k3, duration: 3, location: kitchen, characters: [mara], action: She sits down.}}
  - {{id: h1, duration: 1.5, location: hall, characters: [mara], action: She walks out.}}
"""


def render(prep, out, on_event=None, **options):
    """Render and cut; what render_shots did (the outcomes, by shot)."""
    return render_and_cut(prep, out, progress=on_event, **options).rendered


def _small_kling():
    """The animatic checks sizes against the named model; a small size keeps the test quick."""
    with open(os.environ["STORYBOARD_CONFIG"], "w") as f:
        f.write('[backends.fal.models."kling-3-pro"]\nsizes = ["320x180", "1920x1080"]\n')


def test_a_group_renders_as_one_clip_and_is_cut_back_into_shots(project):
    _small_kling()
    path = project / "sb.yaml"
    path.write_text(SB.format(a1="Mara fills the kettle."))
    cache = Cache()
    prep = prepare(path, "animatic")
    events = []
    rendered = render(prep, project / "out", cache=cache, on_event=events.append)
    assert {o.status for o in rendered.outcomes.values()} == {"rendered"}
    # one clip for the scene: its entry holds the three shots at the lengths asked of kling-3-pro (3 s at least)
    whole = cache.get(rendered.outcomes["k1"].job.group.key)
    assert whole.meta["group"] == {"shots": ["k1", "k2", "k3"], "sent": [3, 3, 3]} and whole.meta["frames"] == 216
    man = read_manifest(project / "out")
    rows = {s["id"]: s for s in man["shots"]}
    assert [rows[s]["group"]["from_frame"] for s in ("k1", "k2", "k3")] == [0, 72, 144]
    assert all(rows[s]["group"]["spread_frames"] == 0 for s in ("k1", "k2", "k3")) and rows["h1"]["group"] is None
    media = sorted((project / "out" / "media").glob("*.mp4"))
    assert [m.name for m in media] == ["001_k1_t1.mp4", "002_k2_t1.mp4", "003_k3_t1.mp4", "004_h1_t1.mp4"]
    for m, shot in zip(media, prep.loaded.storyboard.shots):  # each shot at its asked length, to the frame
        assert decodes(m) == frames(shot.duration, 24)
    assert decodes(project / "out" / "final.mp4") == sum(frames(s.duration, 24) for s in prep.loaded.storyboard.shots)
    for name in ("final.edl", "final.xml", "timeline.otio", "shotlist.csv"):
        text = (project / "out" / name).read_text()
        assert all(s in text for s in ("k1", "k2", "k3", "h1")), name

    # nothing changed: all cached; one shot's action changed: its group is made again, h1 is not
    assert not make_plan(prepare(path, "animatic"), cache).to_render
    path.write_text(SB.format(a1="Mara drops the kettle."))
    again = make_plan(prepare(path, "animatic"), cache)
    assert [j.shot.id for j in again.to_render] == ["k1"] and again.job("h1").cached
    assert not again.job("k3").cached


def test_a_second_take_of_a_group_is_one_more_request_cut_into_every_shot(project):
    from storyboard.stages.planner import part_key, take_key
    _small_kling()
    path = project / "sb.yaml"
    path.write_text(SB.format(a1="Mara fills the kettle."))
    cache = Cache()
    prep = prepare(path, "animatic")
    rendered = render_shots(prep, cache=cache, select=["k3"], takes=2)  # the takes and parts: no cut
    assert list(rendered.extra) == ["k1 take 1"] and rendered.extra["k1 take 1"].status == "rendered"
    g = rendered.outcomes["k3"].job.group
    assert g.take == 2 and [rendered.outcomes[s].entry.meta["take"] for s in ("k1", "k2", "k3")] == [2, 2, 2]
    first = [cache.get(part_key(take_key(g.base_key, 1), k)) for k in range(3)]
    assert all(e is not None for e in first) and [e.meta["frames"] for e in first] == [72, 72, 72]


def test_a_damaged_part_is_cut_again_from_the_groups_clip(project):
    _small_kling()
    path = project / "sb.yaml"
    path.write_text(SB.format(a1="Mara fills the kettle."))
    cache = Cache()
    rendered = render_shots(prepare(path, "animatic"), cache=cache)  # the parts in the cache: no cut
    part = rendered.outcomes["k2"].entry
    part.clip.write_bytes(b"not a clip")
    events = []
    again = render_shots(prepare(path, "animatic"), cache=cache, progress=events.append)
    assert {o.status for o in again.outcomes.values()} == {"cached"}
    assert decodes(again.outcomes["k2"].entry.clip) == 72
    assert not [e for e in events if e.state in ("drawing", "encoding")]  # nothing drawn again
