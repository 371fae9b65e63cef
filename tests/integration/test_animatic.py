"""The offline animatic: real clips, to the frame, drawn, moving, voiced and deterministic."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from storyboard.backends.base import RenderRequest, create
from storyboard.media.probe import probe
from storyboard.pipeline import make_plan, prepare
from tests.media import audio_samples, rms_db, video_frames

STORYBOARD = """
version: 1
defaults: {{size: {size}}}
characters:
  ana: {{name: Ana, description: a woman, voice: low and slow}}
  ben: {{name: Ben, description: a man, voice: quick and bright}}
locations:
  room: {{description: a room, time: night}}
shots:
  - id: talk
    duration: 2.5
    location: room
    characters: [ana, ben]
    camera: {{framing: medium, move: {move}}}
    action: Ana speaks to Ben.
    dialogue:
      - ana: Hello there.
  - id: quiet
    duration: 2
    location: room
    characters: [ben]
    camera: {{move: static}}
    action: Ben says nothing.
"""


def render_shots(project, size="1280x720", move="dolly in"):
    (project / "s.yaml").write_text(STORYBOARD.format(size=size, move=move))
    prep = prepare(project / "s.yaml", "animatic")
    plan = make_plan(prep)
    backend = create(prep.caps)
    out = {}
    for job in plan.jobs:
        work = project / f"w-{job.shot.id}-{len(list(project.iterdir()))}"
        work.mkdir()
        out[job.shot.id] = backend.render(RenderRequest(job=job, workdir=work, asset=prep.loaded.asset))
    return out


@pytest.fixture(scope="module")
def landscape(tmp_path_factory):
    p = tmp_path_factory.mktemp("anim")
    (p / ".storyboard").write_text("")
    return render_shots(p)


def test_clip_layout_to_the_frame(landscape):
    for sid, frames in (("talk", 60), ("quiet", 48)):
        info = probe(landscape[sid].clip)
        assert (info.width, info.height, info.fps, info.frames) == (1280, 720, 24, frames), sid
        assert (info.vcodec, info.pix_fmt) == ("h264", "yuv420p")
        assert (info.audio_streams, info.acodec, info.sample_rate, info.channels) == (1, "aac", 48000, 2)
        assert abs(info.audio_duration - frames / 24) < 1 / 24


def test_panel_is_drawn_and_the_camera_moves(landscape):
    frames = video_frames(landscape["talk"].clip)
    first, last = frames[0].astype(int), frames[-1].astype(int)
    assert first.std() > 20  # not a blank frame
    assert np.abs(first - last).mean() > 3  # the dolly pushed in
    still = video_frames(landscape["quiet"].clip)
    assert np.abs(still[0].astype(int) - still[-1].astype(int)).mean() < 1.5  # static holds (encoder noise only)


def test_dialogue_is_heard_and_timed(landscape):
    talk, quiet = audio_samples(landscape["talk"].clip), audio_samples(landscape["quiet"].clip)
    assert rms_db(talk) > rms_db(quiet) + 15
    assert rms_db(quiet) < -40  # room tone only
    line = landscape["talk"].dialogue[0]
    assert line["name"] == "Ana" and 0 < line["start"] < line["end"] <= 2.5


def test_renders_are_identical(tmp_path):
    (tmp_path / ".storyboard").write_text("")
    a = render_shots(tmp_path)
    b = render_shots(tmp_path)
    for sid in a:
        assert hashlib.sha256(a[sid].clip.read_bytes()).digest() == hashlib.sha256(b[sid].clip.read_bytes()).digest()


def test_portrait(tmp_path):
    (tmp_path / ".storyboard").write_text("")
    out = render_shots(tmp_path, size="720x1280", move="pan left")
    info = probe(out["talk"].clip)
    assert (info.width, info.height, info.frames) == (720, 1280, 60)


def test_overlong_dialogue_warns(tmp_path):
    (tmp_path / ".storyboard").write_text("")
    (tmp_path / "s.yaml").write_text("version: 1\ncharacters: {a: {description: x}}\nshots:\n  - id: s\n    duration: 1\n"
                                     "    characters: [a]\n    dialogue:\n      - a: This is a very long line that cannot "
                                     "possibly be said in one second of film time.\n")
    prep = prepare(tmp_path / "s.yaml", "animatic")
    job = make_plan(prep).jobs[0]
    res = create(prep.caps).render(RenderRequest(job=job, workdir=tmp_path, asset=prep.loaded.asset))
    assert any("runs past the end" in w for w in res.warnings)
    assert probe(res.clip).frames == 24
