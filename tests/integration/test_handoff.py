"""The hand-off of a real render: media gathered under shot names, stems, and every export read
back through its adapter to the length of final.mp4, naming only files that exist."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from storyboard.cli import main
from storyboard.errors import ShotBlocked
from storyboard.exports import handoff
from storyboard.media.probe import decodes, probe
from storyboard.stages.timeline import build
from tests.conftest import read_manifest
from tests.media import make_tone, rms_db
from tests.unit.test_editorial import expected_by_join, transitions_by_join

FILM = """
version: 1
title: Hand-off
defaults: {size: 320x180}
characters:
  ana: {name: Ana, description: a woman}
locations:
  room: {description: a room, time: night}
shots:
  - id: one
    duration: 2
    location: room
    characters: [ana]
    action: Ana waits.
    dialogue:
      - ana: Hello there.
    transition: dissolve 0.5s
  - id: two
    duration: 2
    location: room
    action: The lamp flickers.
    transition: fade 1s
  - id: three
    duration: 1.5
    location: room
    action: The door.
    transition: wipe-left 0.625s
  - id: four
    duration: 1.5
    location: room
    action: The room is empty.
    transition: fade-to-black 0.5s
music: theme.wav
"""
# the same cut as the timeline builds it: (id, seconds, transition, its seconds)
ROWS = [("one", 2, "dissolve", 0.5), ("two", 2, "fade", 1), ("three", 1.5, "wipe-left", 0.625),
        ("four", 1.5, "fade-to-black", 0.5)]
EXPORTS = [("timeline.otio", "otio_json", {}), ("final.edl", "cmx_3600", {"rate": 24}), ("final.xml", "fcp_xml", {})]


# the tests of the module's one render run on one xdist worker (--dist loadgroup): it is made once
HANDED = pytest.mark.xdist_group("handoff")


def wav_samples(path: Path) -> np.ndarray:
    """A WAV stem's sound as mono float (24-bit PCM decodes to packed integers)."""
    import av
    with av.open(str(path)) as c:
        to_float = av.AudioResampler(format="flt", layout="mono", rate=48000)
        chunks = [f.to_ndarray().reshape(-1) for frame in c.decode(audio=0) for f in to_float.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in to_float.resample(None)]
    return np.concatenate(chunks)


@pytest.fixture(scope="module")
def handed(tmp_path_factory):
    """One render (shot four blocked, so it stands as a slate), isolated like every test."""
    root = tmp_path_factory.mktemp("handoff")
    (root / ".storyboard").write_text("")
    (root / "film.yaml").write_text(FILM)
    make_tone(root / "theme.wav", 1.5)
    from storyboard.animatic.backend import AnimaticBackend
    real = AnimaticBackend.render

    def render(self, req):
        if req.shot.id == "four":
            raise ShotBlocked("four", "moderation_blocked", "the prompt was refused", "prompt", charged=False)
        return real(self, req)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORYBOARD_CACHE", str(root / "cache"))
        mp.setenv("STORYBOARD_CONFIG", str(root / "config.toml"))
        mp.setattr(AnimaticBackend, "render", render)
        assert main(["render", str(root / "film.yaml")]) == 1  # done, with a slate
    return root / "film"


@HANDED
def test_media_are_named_by_shot_and_linked_from_the_cache(handed):
    media = handed / "media"
    assert sorted(os.listdir(media)) == ["001_one_t1.mp4", "001_one_t1.wav", "002_two_t1.mp4", "002_two_t1.wav",
                                         "003_three_t1.mp4", "003_three_t1.wav", "004_four_slate.mp4",
                                         "004_four_slate.wav", "music_theme.wav"]
    for shot in read_manifest(handed)["shots"][:3]:  # the animatic's clips are the cut's sources as they are
        n = ROWS.index(next(r for r in ROWS if r[0] == shot["id"])) + 1
        assert os.path.samefile(media / f"{n:03d}_{shot['id']}_t1.mp4", shot["clip"])
    assert decodes(media / "004_four_slate.mp4") == 36


@HANDED
def test_every_export_reads_back_to_the_length_of_the_cut(handed):
    tl = build(ROWS, 24, 1280, 720)
    frames = decodes(handed / "final.mp4")
    assert frames == tl.total_frames == 48 + 48 - 12 + 36 + 36 - 15
    for name, adapter, kw in EXPORTS:
        back = otio.adapters.read_from_file(str(handed / name), adapter_name=adapter, **kw)
        assert [t.kind for t in back.tracks] == ["Video", "Audio", "Audio"], name
        for track in back.tracks:
            assert track.duration().to_frames() == frames, (name, track.name)
        for track in back.tracks[:2]:
            assert transitions_by_join(track, tl) == expected_by_join(tl), name
        named = [c.media_reference.target_url for c in back.find_clips()
                 if isinstance(c.media_reference, otio.schema.ExternalReference)]
        assert named and all(not Path(u).is_absolute() and (handed / u).is_file() for u in named), name
        if name != "final.edl":  # the EDL reader drops TO CLIP paths (see test_editorial)
            assert len(set(named)) == 9, name


@HANDED
def test_stems_last_as_long_as_the_picture_they_go_with(handed):
    media = handed / "media"
    tl = build(ROWS, 24, 1280, 720)
    for sp, n in zip(tl.spans, ("001_one_t1", "002_two_t1", "003_three_t1", "004_four_slate")):
        wav = probe(media / f"{n}.wav")
        assert (wav.acodec, wav.sample_rate, wav.channels) == ("pcm_s24le", 48000, 2)
        assert round(wav.audio_duration * 48000) == sp.length * 2000 == probe(media / f"{n}.mp4").frames * 2000
    hello = wav_samples(media / "001_one_t1.wav")
    assert rms_db(hello[int(0.4 * 48000):int(1.0 * 48000)]) > rms_db(hello[int(1.7 * 48000):]) + 10  # the line
    assert rms_db(wav_samples(media / "004_four_slate.wav")) < -90  # a slate says nothing
    bed = wav_samples(media / "music_theme.wav")
    assert len(bed) == tl.total_frames * 2000
    start, end = rms_db(bed[24000:48000]), rms_db(bed[-4800:])
    assert -40 < start < -20 and end < start - 10  # looped past its 1.5 s at the cut's level, faded out
    assert np.abs(bed[int(1.6 * 48000):int(1.7 * 48000)]).max() > 0.01


@HANDED
def test_media_root_names_absolute_paths(handed, tmp_path, monkeypatch):
    film = handed.parent / "film.yaml"
    assert main(["render", str(film), "--out", str(tmp_path / "x"), "--media-root", "edit/film"]) == 2
    assert not (tmp_path / "x" / "final.mp4").exists()  # refused before anything was rendered
    monkeypatch.setenv("STORYBOARD_CACHE", str(handed.parent / "cache"))  # the module's clips, reused
    out = tmp_path / "abs"
    assert main(["render", str(film), "--out", str(out), "--media-root", "/Volumes/Edit/my film"]) == 0
    for name, adapter, kw in EXPORTS:
        back = otio.adapters.read_from_file(str(out / name), adapter_name=adapter, **kw)
        urls = [c.media_reference.target_url for c in back.find_clips()
                if isinstance(c.media_reference, otio.schema.ExternalReference)]
        assert urls and all(u.startswith("file:///Volumes/Edit/my%20film/media/") for u in urls), name
        assert all((out / "media" / u.rsplit("/", 1)[-1]).is_file() for u in urls)
    assert "004_four_t1.mp4" in os.listdir(out / "media")  # rendered this time: no slate


def test_place_links_else_copies_and_prune_keeps_only_what_exports_name(tmp_path, monkeypatch):
    src = tmp_path / "cache" / "clip.mp4"
    src.parent.mkdir()
    src.write_bytes(b"frames")
    media = tmp_path / "out" / "media"
    assert handoff.place(src, media / "001_a_t1.mp4") == "linked"
    assert os.path.samefile(src, media / "001_a_t1.mp4")

    def no_link(a, b):
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    monkeypatch.setattr(os, "link", no_link)
    assert handoff.place(src, media / "001_a_t2.mp4") == "copied"
    assert (media / "001_a_t2.mp4").read_bytes() == b"frames" and not os.path.samefile(src, media / "001_a_t2.mp4")
    (media / "notes.txt").write_text("the editor's")
    (media / ".001_a_t1.4242.part.wav").write_bytes(b"")  # left by a killed run
    assert handoff.prune(media, {"001_a_t2.mp4"}) == [".001_a_t1.4242.part.wav", "001_a_t1.mp4"]
    assert sorted(os.listdir(media)) == ["001_a_t2.mp4", "notes.txt"]


def test_stems_of_one_clip_serving_several_shots_in_chunks(tmp_path, monkeypatch):
    """Shots sharing a clip and a length (which raised 'a split filter is probably required'), over
    more shots than one ffmpeg takes: each WAV is written, exactly its frames long."""
    from storyboard.media import stems
    from tests.media import make_clip
    monkeypatch.setattr(stems, "MAX_INPUTS", 2)
    clip = make_clip(tmp_path / "c.mp4", 1)
    items = [(clip, 24, tmp_path / f"s{i}.wav") for i in range(3)] + [(clip, 12, tmp_path / "s3.wav")]
    stems.write_shot_sounds(items, 24)
    for _, frames, out in items:
        assert round(probe(out).audio_duration * 48000) == frames * 2000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4", "s0.wav", "s1.wav", "s2.wav", "s3.wav"]
