"""The final cut on generated media: lengths to the frame, sync, sound at joins, loudness, exports."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from storyboard.media import assemble
from storyboard.media.probe import decodes, probe
from storyboard.stages.timeline import build
from tests.media import audio_samples, make_clip, rms_db

FPS = 24


def cut(tmp_path, shots, sources, music=None, **kw):
    tl = build(shots, FPS, 320, 180, kw.pop("dialogue", None))
    keys = {i: assemble.keyframes(s, FPS) for i, s in enumerate(sources)}
    out = tmp_path / "cut.mp4"
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    assemble.make_cut(tl, sources, work, out, music=music, keyframes_of=keys, **kw)
    return tl, out


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return [make_clip(d / f"c{i}.mp4", 3, tone=300 + 100 * i) for i in range(3)]


@pytest.mark.parametrize("kind,secs,expected", [
    ("cut", 0, 216), ("dissolve", 1, 216 - 48), ("wipe-left", 0.5, 216 - 24), ("fade", 1, 216), ("fade-to-black", 1, 216),
])
def test_length_to_the_frame_with_each_transition(tmp_path, clips, kind, secs, expected):
    shots = [(f"s{i}", 3.0, kind if i < 2 else "cut", secs) for i in range(3)]
    tl, out = cut(tmp_path, shots, clips)
    assert tl.total_frames == expected
    info = probe(out)
    assert decodes(out) == expected
    assert (info.width, info.height, info.fps, info.audio_streams, info.acodec, info.sample_rate, info.channels) == \
        (320, 180, 24, 1, "aac", 48000, 2)
    assert abs(info.audio_duration - expected / FPS) <= 1 / FPS  # picture and sound end together
    assert frame_times(out) == [Fraction(k, FPS) for k in range(expected)]  # every frame on the grid


def frame_times(path):
    import av
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return sorted(Fraction(p.pts) * v.time_base for p in c.demux(v) if p.size)


def test_chunked_sound_is_the_same_mix_to_the_sample(tmp_path, clips, monkeypatch):
    """Mixed in windows of 2 shots (each also hearing the shot that dissolves into it) or all at once,
    the film's sound is the same samples: the chunks join exactly, crossfades included."""
    sources = [clips[i % 3] for i in range(7)]  # the same file twice in one window, too
    shots = [(f"s{i}", 3.0, ("dissolve", "cut", "fade", "wipe-left")[i % 4], 0.5) for i in range(7)]
    tl = build(shots, FPS, 320, 180)
    mixes = {}
    for bound in (4, 32):
        monkeypatch.setattr(assemble, "MAX_INPUTS", bound)
        assert len(assemble.plan_chunks(tl)) == (4 if bound == 4 else 1)
        figures = assemble.mix_sound(tl, sources, tmp_path / f"mix{bound}.f32", None)
        mixes[bound] = np.fromfile(tmp_path / f"mix{bound}.f32", dtype="<f4")
        assert figures["I"] < 0
    assert len(mixes[4]) == len(mixes[32]) == 2 * assemble.samples(tl.total_frames, FPS)
    assert np.abs(mixes[4] - mixes[32]).max() < 1e-6


def test_a_long_film_joins_in_one_step_with_bounded_commands(tmp_path, clips, monkeypatch):
    """80 shots: the sound in 3 chunks of at most 32 inputs, the picture in one concat of copied runs."""
    calls = []
    real_run = assemble.run

    def spy(cmd, **kw):
        calls.append(cmd)
        return real_run(cmd, **kw)
    monkeypatch.setattr(assemble, "run", spy)
    shots = [(f"s{i}", 0.5, "cut", 0) for i in range(80)]  # the count is the point, not the length
    short = [make_clip(tmp_path / f"k{i}.mp4", 1, tone=300 + 50 * i) for i in range(4)]
    tl, out = cut(tmp_path, shots, [short[i % 4] for i in range(80)])
    assert decodes(out) == 80 * FPS // 2
    whats = [c.what for c in calls]
    assert whats.count("joining the picture") == 1 and not any(w.startswith("encoding") for w in whats)
    assert sum(w.startswith("mixing the sound of shots") for w in whats) == 3
    assert all(len(c.args) < 400 for c in calls)


def test_sound_has_no_hole_at_hard_cuts(tmp_path, clips):
    tl, out = cut(tmp_path, [(f"s{i}", 3.0, "cut", 0) for i in range(3)], clips)
    a = audio_samples(out)
    assert abs(len(a) / 48000 - 9.0) < 1 / FPS
    for join in (3.0, 6.0):  # 5 ms windows around each join: a hole would read as silence
        for off in (-0.02, -0.01, 0.01, 0.02):
            s = int((join + off) * 48000)
            assert rms_db(a[s:s + 240]) > -40, (join, off)


@pytest.mark.parametrize("target", [-16.0, -14.0])
def test_loudness_target_and_true_peak(tmp_path, clips, target):
    _, out = cut(tmp_path, [(f"s{i}", 3.0, "dissolve", 1) for i in range(3)], clips, loudness=target)
    integrated, peak = assemble.ebur128(out)  # measured on the AAC, as it will be heard
    assert abs(integrated - target) <= 0.5
    assert peak <= -1.0


def test_loudness_of_peaky_sound_is_limited_not_missed(tmp_path):
    """Speech-like sound (short loud bursts over quiet): a plain gain to -14 LUFS would clip, so the
    peaks are limited and the loudness still lands on target (loudnorm's fallback landed 1 LU low)."""
    from tests.media import make_bursts
    src = make_bursts(tmp_path / "bursts.mp4", 4)
    _, out = cut(tmp_path, [("a", 4.0, "cut", 0)], [src], loudness=-14.0)
    integrated, peak = assemble.ebur128(out)
    assert abs(integrated - -14.0) <= 0.5
    assert peak <= -1.0


def test_dissolve_crossfades_the_sound(tmp_path, clips):
    tl, out = cut(tmp_path, [("a", 3.0, "dissolve", 1), ("b", 3.0, "cut", 0)], clips[:2])
    a = audio_samples(out)
    mid = a[int(2.4 * 48000):int(2.6 * 48000)]  # inside the overlap: both tones present
    spec = np.abs(np.fft.rfft(mid))
    freqs = np.fft.rfftfreq(len(mid), 1 / 48000)
    def band(f):
        return spec[(freqs > f - 10) & (freqs < f + 10)].max()
    assert band(300) > 0.1 * spec.max() and band(400) > 0.1 * spec.max()


def test_mismatched_clips_are_conformed(tmp_path):
    odd = make_clip(tmp_path / "odd.mp4", 2, size="640x480", fps=30, rate=44100, channels=1, house=False)
    silent = make_clip(tmp_path / "silent.mp4", 2, tone=None, house=False)
    sources = []
    for i, src in enumerate((odd, silent)):
        has_audio = probe(src).audio_streams > 0
        conformed = tmp_path / f"conf{i}.mp4"
        from storyboard.media.ffmpeg import run
        run(assemble.conform_cmd(src, conformed, 320, 180, FPS, 48, has_audio))
        info = probe(conformed)
        assert (info.width, info.height, info.fps, info.frames, info.sample_rate, info.channels, info.audio_streams) == \
            (320, 180, 24, 48, 48000, 2, 1)
        sources.append(conformed)
    tl, out = cut(tmp_path, [("a", 2.0, "cut", 0), ("b", 2.0, "cut", 0)], sources)
    assert decodes(out) == 96


def test_music_is_looped_and_ducked(tmp_path, clips):
    music = make_clip(tmp_path / "m.mp4", 1.5, tone=1000)  # shorter than the film: it loops
    _, out = cut(tmp_path, [(f"s{i}", 3.0, "cut", 0) for i in range(3)], clips, music=music)
    a = audio_samples(out)
    spec = np.abs(np.fft.rfft(a[int(7.5 * 48000):int(8.0 * 48000)]))  # past the bed's own length
    freqs = np.fft.rfftfreq(int(0.5 * 48000), 1 / 48000)
    assert spec[(freqs > 990) & (freqs < 1010)].max() > 0.01 * spec.max()


def test_burnt_subtitles(tmp_path, clips):
    from storyboard.cutting import subtitle_cards
    from tests.media import video_frames
    lines = {"a": [{"name": "Ana", "text": "Hello there.", "start": 0.5, "end": 1.5}]}
    shots = [("a", 3.0, "cut", 0), ("b", 3.0, "cut", 0)]
    work = tmp_path / "cards"
    work.mkdir()
    tl = build(shots, FPS, 320, 180, lines)
    (tmp_path / "plain").mkdir()
    (tmp_path / "burnt").mkdir()
    _, plain = cut(tmp_path / "plain", shots, clips[:2], dialogue=lines)
    _, burnt = cut(tmp_path / "burnt", shots, clips[:2], dialogue=lines, subtitle_cards=subtitle_cards(tl, work, {"Ana": "#ff0000"}))
    p, b = video_frames(plain), video_frames(burnt)
    assert len(p) == len(b) == 144
    assert abs(p[24].astype(int) - b[24].astype(int))[-60:].mean() > 5  # 1.0 s: the card is on screen
    assert abs(p[60].astype(int) - b[60].astype(int)).mean() < 3  # 2.5 s: it is gone


def test_each_dissolve_is_one_encode_with_its_edges(tmp_path, clips, monkeypatch):
    """Dissolves of 0.5 s (off the key frames): each join's frames off key frames and its dissolve are
    one ffmpeg, not three, and the cut stays exact to the frame."""
    calls = []
    real_run = assemble.run

    def spy(cmd, **kw):
        calls.append(cmd.what)
        return real_run(cmd, **kw)
    monkeypatch.setattr(assemble, "run", spy)
    tl, out = cut(tmp_path, [(f"s{i}", 3.0, "dissolve" if i < 2 else "cut", 0.5) for i in range(3)], clips)
    encodes = [w for w in calls if w.startswith(("encoding", "transition"))]
    assert len(encodes) == 2, calls
    assert decodes(out) == tl.total_frames == 216 - 24
    assert frame_times(out) == [Fraction(k, FPS) for k in range(tl.total_frames)]


# -- Ctrl-C: the terminal sends it to ffmpeg too ----------------------------------------------------

def test_an_ffmpeg_stopped_by_ctrl_c_is_an_interruption_not_a_failure(tmp_path):
    """ffmpeg catches SIGINT, ends its file and exits 255: the Ctrl-C that reached our process too. It
    used to be told as the step failing ('transition after shot 1 failed (ffmpeg exit 255)', exit 3)."""
    import os
    import signal

    import ffmpeg as ff

    from storyboard.media.ffmpeg import Running, compile
    cmd = compile(ff.output(ff.input("testsrc2=size=320x180:rate=24", f="lavfi").video, str(tmp_path / "long.mp4"),
                            t="600", vcodec="libx264", preset="ultrafast"), "a long encode", 60)
    with Running(cmd) as r:
        from tests.conftest import wait_for
        wait_for(lambda: (tmp_path / "long.mp4").exists() and (tmp_path / "long.mp4").stat().st_size > 0, 20)
        os.kill(r.proc.pid, signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            r.finish()


def test_a_ctrl_c_during_the_sound_mix_is_not_replaced_by_the_pictures_error(tmp_path, clips, monkeypatch):
    """The picture is joined beside the sound mix: when the mix is interrupted, the picture's ffmpeg
    (stopped by the same Ctrl-C, or failing) must not turn the interruption into a failed cut."""
    from storyboard.errors import MediaError

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    def failed(*a, **k):
        raise MediaError("transition after shot 1 failed (ffmpeg exit 1)")
    monkeypatch.setattr(assemble, "mix_sound", interrupted)
    monkeypatch.setattr(assemble, "join_picture", failed)
    with pytest.raises(KeyboardInterrupt):
        cut(tmp_path, [(f"s{i}", 3.0, "dissolve", 1) for i in range(3)], clips)
    monkeypatch.setattr(assemble, "mix_sound", failed)  # a failure on both sides: told as a failure
    with pytest.raises(MediaError):
        cut(tmp_path, [(f"s{i}", 3.0, "dissolve", 1) for i in range(3)], clips)
