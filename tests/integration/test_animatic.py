"""The offline animatic: real clips, to the frame, drawn, moving, voiced and deterministic; voices
told apart by pitch, sound beds heard, lines timed as written, and continuous shots that start from
the previous picture without its text."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

import storyboard
from storyboard.animatic.voices import median_pitch
from storyboard.backends.base import RenderRequest, create
from storyboard.media.probe import probe
from storyboard.pipeline import make_plan, prepare
from storyboard.store.cache import Cache
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


# The tests of one module-scoped render run on one xdist worker (--dist loadgroup): it is made once,
# not once on each worker
LANDSCAPE = pytest.mark.xdist_group("animatic-landscape")
FILM_RENDER = pytest.mark.xdist_group("animatic-film")


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


@LANDSCAPE
def test_clip_layout_to_the_frame(landscape):
    for sid, frames in (("talk", 60), ("quiet", 48)):
        info = probe(landscape[sid].clip)
        assert (info.width, info.height, info.fps, info.frames) == (1280, 720, 24, frames), sid
        assert (info.vcodec, info.pix_fmt) == ("h264", "yuv420p")
        assert (info.audio_streams, info.acodec, info.sample_rate, info.channels) == (1, "aac", 48000, 2)
        assert abs(info.audio_duration - frames / 24) < 1 / 24


@LANDSCAPE
def test_panel_is_drawn_and_the_camera_moves(landscape):
    frames = video_frames(landscape["talk"].clip)
    first, last = frames[0].astype(int), frames[-2].astype(int)
    assert first.std() > 20  # not a blank frame
    assert np.abs(first - last).mean() > 3  # the dolly pushed in
    still = video_frames(landscape["quiet"].clip)
    assert np.abs(still[0].astype(int) - still[-2].astype(int)).mean() < 1.5  # static holds (encoder noise only)


@LANDSCAPE
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


FILM = """
version: 1
characters:
  ana: {name: Ana, description: a woman in her thirties}
  ben: {name: Ben, description: a man in his forties}
  cleo: {name: Cleo, description: a woman in her thirties}
locations:
  field: {description: an open field, time: day}
  yard: {description: an open yard, time: day, weather: heavy rain}
shots:
  - id: duet
    duration: 6
    location: field
    characters: [ana, ben]
    dialogue:
      - ana: I walked all the way along the river this morning.
      - ben: I waited here for a long time in the cold wind.
  - id: women
    duration: 6
    location: field
    characters: [ana, cleo]
    dialogue:
      - ana: I walked all the way along the river this morning.
      - cleo: I walked all the way along the river this morning.
  - id: rainy
    duration: 2
    location: yard
    sound: heavy rain on the roof
  - id: hush
    duration: 2
    location: field
    sound: silence
  - id: spread
    duration: 12
    location: field
    characters: [ana]
    dialogue:
      - ana: One.
      - ana: Two.
      - {ana: "Three.", at: 9}
  - id: firstshotwithalongname
    duration: 2
    location: field
    characters: [ana]
    camera: {framing: wide}
    action: Ana stands in the field.
  - id: b
    duration: 2
    location: field
    characters: [ana]
    camera: {framing: close-up}
    continuity: continuous
"""


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    p = tmp_path_factory.mktemp("film")
    (p / ".storyboard").write_text("")
    (p / "film.yaml").write_text(FILM)
    prep = storyboard.compile(p / "film.yaml", backend="animatic")
    cache = Cache(p / "cache")
    rendered = storyboard.render_shots(prep, cache=cache)
    assert rendered.complete
    return {sid: o for sid, o in rendered.outcomes.items()}


def _line_pitch(outcome, k: int) -> float:
    audio = audio_samples(outcome.entry.clip)
    line = outcome.entry.meta["dialogue"][k]
    return median_pitch(audio[int(line["start"] * 48000):int(line["end"] * 48000)])


@FILM_RENDER
def test_each_character_has_a_voice_of_their_own(film):
    ana, ben = _line_pitch(film["duet"], 0), _line_pitch(film["duet"], 1)
    assert ana > 160 and ben < 140  # a woman and a man
    assert 12 * np.log2(ana / ben) > 4
    ana2, cleo = _line_pitch(film["women"], 0), _line_pitch(film["women"], 1)
    assert abs(12 * np.log2(ana2 / cleo)) > 1.5  # two women, the same words: still two voices


@FILM_RENDER
def test_the_sound_words_make_a_bed(film):
    rain = audio_samples(film["rainy"].entry.clip)
    hush = audio_samples(film["hush"].entry.clip)
    assert rms_db(rain) > rms_db(hush) + 15


@FILM_RENDER
def test_lines_are_timed_as_written_and_spread(film):
    lines = film["spread"].entry.meta["dialogue"]
    assert lines[2]["start"] == 9.0  # at: 9
    assert lines[1]["start"] - lines[0]["end"] > 1.0  # natural gaps, not stacked at the start
    assert lines[1]["end"] < 9.0


@FILM_RENDER
def test_a_continuous_shot_starts_from_the_picture_not_the_text(film):
    first = video_frames(film["firstshotwithalongname"].entry.clip)
    second = video_frames(film["b"].entry.clip)
    band = (slice(8, 60), slice(300, 700))  # where the first shot's long id is written (past "B  TAKE 1")
    white = lambda im: int((im[band].min(axis=2) > 235).sum())  # noqa: E731 - white text pixels
    assert white(first[len(first) // 2]) > 200  # the HUD is on the shot...
    assert white(first[-1]) == white(first[len(first) // 2])  # ...to its last frame: no flash at the cut
    assert white(second[0]) == 0  # yet nothing of it reaches the next shot, which starts from the picture
    picture = (slice(200, 500), slice(100, 1180))
    assert np.abs(second[0][picture].astype(int) - first[-1][picture].astype(int)).mean() < 6  # the same picture
    assert np.abs(second[-2][picture].astype(int) - first[-1][picture].astype(int)).mean() > 10  # then its own
    last = np.asarray(Image.open(film["firstshotwithalongname"].entry.last_frame).convert("RGB"))
    assert white(last) == 0 and np.abs(last[picture].astype(int) - first[-1][picture].astype(int)).mean() < 6


@FILM_RENDER
@pytest.mark.slow
def test_no_frame_of_the_cut_loses_its_text(film, tmp_path):
    """Every frame of final.mp4 carries its shot's HUD band, the frames at the cuts too (they used
    to flash without it for one frame at every cut)."""
    folder = film["duet"].entry.folder
    prep = storyboard.compile(folder.parents[3] / "film.yaml", backend="animatic")
    rendered = storyboard.render_shots(prep, cache=Cache(folder.parents[2]))  # all cached
    result = storyboard.cut(prep, rendered, tmp_path / "out")
    ids = [int((f[8:60, 0:500].min(axis=2) > 235).sum()) for f in video_frames(result.final)]  # the shot id's white
    assert len(ids) == sum(round(s.duration * 24) for s in prep.shots)
    assert min(ids) > 100, [k for k, n in enumerate(ids) if n <= 100]


def test_takes_differ_as_a_redraw_would_and_show_their_number(tmp_path):
    """Issue 22 item 15: takes of an animatic shot were byte-identical and nothing showed the take.
    A new take moves the figures a little and lets the camera drift; the HUD names the take."""
    from dataclasses import replace
    (tmp_path / ".storyboard").write_text("")
    (tmp_path / "s.yaml").write_text(STORYBOARD.format(size="1280x720", move="static"))
    prep = prepare(tmp_path / "s.yaml", "animatic")
    job = next(j for j in make_plan(prep).jobs if j.shot.id == "quiet")
    backend = create(prep.caps)
    frames = {}
    for take in (1, 2, 3):
        work = tmp_path / f"t{take}"
        work.mkdir()
        res = backend.render(RenderRequest(job=replace(job, take=take), workdir=work, asset=prep.loaded.asset))
        frames[take] = video_frames(res.clip)
    picture = (slice(200, 540), slice(0, 1280))
    moved = lambda a, b: float(np.abs(a[picture].astype(int) - b[picture].astype(int)).mean())  # noqa: E731
    assert moved(frames[1][0], frames[2][0]) > 1 and moved(frames[2][0], frames[3][0]) > 1  # each take its own
    assert moved(frames[2][0], frames[2][-1]) > 0.5  # the camera drifts over the take
    assert moved(frames[1][0], frames[1][-1]) < 0.5  # (a static first take holds still, as before)
    id_band = (slice(8, 60), slice(0, 640))
    assert not np.array_equal(frames[1][5][id_band], frames[2][5][id_band])  # the take's number is written


@pytest.mark.parametrize("move", ["dolly in", "pan left", "handheld", "tracking", "orbit", "truck right"])
def test_the_last_picture_is_the_clips_last_frame_without_text(tmp_path, move):
    """The picture a continuous shot starts from is composed apart from the encode (camera, riding and
    lit figures, rain): it must be the clip's last frame, text aside."""
    (tmp_path / ".storyboard").write_text("")
    (tmp_path / "s.yaml").write_text(STORYBOARD.format(size="1280x720", move=move).replace(
        "room: {description: a room, time: night}", "room: {description: a city street, time: night, weather: rain}"))
    prep = prepare(tmp_path / "s.yaml", "animatic")
    job = next(j for j in make_plan(prep).jobs if j.shot.id == "talk")
    res = create(prep.caps).render(RenderRequest(job=job, workdir=tmp_path, asset=prep.loaded.asset))
    last = np.asarray(Image.open(res.last_frame).convert("RGB")).astype(int)
    clip = video_frames(res.clip)[-1].astype(int)
    picture = (slice(190, 520), slice(0, 1280))  # between the HUD's band and the subtitles
    assert np.abs(last[picture] - clip[picture]).mean() < 3.2, move  # the encoder's loss only


@pytest.mark.slow  # a second cut of the 1280x720 film; test_cut's long film copies its runs in the developer's run
def test_hard_cuts_copy_the_animatics_clips_to_the_frame(film, tmp_path):
    """The animatic encodes in the house format (its signature in the entry), so the cut copies its
    clips' pictures at hard cuts instead of conforming them: no conformed copy is made, and the
    cut's picture packets are the clips' own, frame for frame."""
    import av

    from storyboard.media.clips import house_signature
    folder = film["duet"].entry.folder
    prep = storyboard.compile(folder.parents[3] / "film.yaml", backend="animatic")
    rendered = storyboard.render_shots(prep, cache=Cache(folder.parents[2]))  # all cached
    result = storyboard.cut(prep, rendered, tmp_path / "out")

    def packets(path):
        """Each picture's NAL units, without the stream parameters the cut repeats at key frames."""
        out = []
        with av.open(str(path)) as c:
            for p in c.demux(c.streams.video[0]):
                data, k, units = bytes(p), 0, []
                while k < len(data):
                    n = int.from_bytes(data[k:k + 4], "big")
                    if data[k + 4] & 0x1F not in (7, 8):  # SPS, PPS
                        units.append(data[k + 4:k + 4 + n])
                    k += 4 + n
                if p.size:
                    out.append(units)
        return out
    ids = [s.id for s in prep.shots]
    for sid in ids:
        assert film[sid].entry.meta["house"] == house_signature(1280, 720, 24)
        assert not list(film[sid].entry.folder.glob("house-*.mp4")), f"{sid} was conformed, not copied"
    cut = packets(result.final)
    assert len(cut) == sum(round(s.duration * 24) for s in prep.shots)
    first, second = packets(film[ids[0]].entry.clip), packets(film[ids[1]].entry.clip)
    assert ids[1] != "b" and cut[:len(first)] == first  # a hard cut: the first shot's packets as encoded
    assert cut[len(first):len(first) + len(second)] == second
