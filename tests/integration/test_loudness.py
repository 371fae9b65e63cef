"""Every film lands at its loudness: -14 LUFS within 0.5 LU and a true peak under -1 dBTP, measured
on final.mp4's AAC as a listener gets it, for five different films (issue 29 item 2): short and
long, speech-only, dialogue over a quiet bed, music-heavy, and very quiet."""

from __future__ import annotations

from pathlib import Path

import ffmpeg as ff
import pytest

from storyboard.media import assemble
from storyboard.media.clips import AUDIO, video_codec
from storyboard.media.ffmpeg import compile, run, timeout_for
from storyboard.stages.timeline import build

FPS = 24
# speech-like: syllables 4 a second, with sharp consonant clicks: peaks far above the loudness
SPEECH = "{a}*sin(2*PI*{f}*t)*pow(sin(4*PI*t),2)+if(lt(mod(t,0.5),0.002),{c}*sin(2*PI*2000*t),0)"


def clip(path: Path, seconds: float, expr: str) -> Path:
    """A small house clip whose sound is `expr` (an aevalsrc expression of t) on both channels."""
    streams = [ff.input(f"color=c=gray:size=160x90:rate={FPS}", f="lavfi").video,
               ff.input(f"aevalsrc=exprs='{expr}|{expr}':s=48000", f="lavfi").audio]
    run(compile(ff.output(*streams, str(path), t=f"{seconds}", **video_codec(FPS), **AUDIO), "test clip",
                timeout_for(seconds, "encode")))
    return path


def film(tmp_path: Path, name: str, sources: list[Path], seconds: float, music: Path | None = None,
         music_gain_db: float = assemble.MUSIC_GAIN_DB, transition: str = "cut") -> assemble.CutSound:
    tl = build([(f"s{i}", seconds, transition, 0.5 if transition != "cut" else 0) for i in range(len(sources))],
               FPS, 160, 90)
    work = tmp_path / f"work-{name}"
    work.mkdir()
    keys = {i: assemble.keyframes(s, FPS) for i, s in enumerate(sources)}
    return assemble.make_cut(tl, sources, work, tmp_path / f"{name}.mp4", music=music, keyframes_of=keys,
                             music_gain_db=music_gain_db)


@pytest.fixture(scope="module")
def sounds(tmp_path_factory):
    d = tmp_path_factory.mktemp("loudness")
    return {
        "speech": [clip(d / f"speech{i}.mp4", 2, SPEECH.format(a=0.1 + 0.05 * i, f=180 + 40 * i, c=0.9))
                   for i in range(3)],
        "quiet": clip(d / "quiet.mp4", 1, "0.004*sin(2*PI*330*t)"),  # about -50 LUFS
        "loud_music": clip(d / "music.mp4", 3, "0.6*sin(2*PI*220*t)+0.3*sin(2*PI*660*t)*sin(2*PI*3*t)"),
        "silent": clip(d / "silent.mp4", 2, "0"),
        "d": d,
    }


def films(tmp_path, sounds):
    speech, quiet = sounds["speech"], sounds["quiet"]
    yield "speech only, 3 shots", film(tmp_path, "speech", speech, 2)
    yield "dialogue over a quiet bed, dissolves", film(tmp_path, "dialogue", [speech[i % 3] for i in range(6)], 2,
                                                       music=sounds["loud_music"], music_gain_db=-30,
                                                       transition="dissolve")
    yield "music-heavy: a loud bed under silent shots", film(tmp_path, "music", [sounds["silent"]] * 3, 2,
                                                            music=sounds["loud_music"], music_gain_db=0)
    yield "very quiet, 40 shots", film(tmp_path, "quiet", [quiet] * 40, 1)
    yield "long and mixed, 36 shots", film(tmp_path, "long", [speech[i % 3] if i % 4 else quiet for i in range(36)],
                                          2, music=sounds["loud_music"], music_gain_db=-24)


@pytest.mark.slow
def test_five_films_land_on_target(tmp_path, sounds):
    got = {}
    for name, sound in films(tmp_path, sounds):
        integrated, peak = assemble.ebur128(sound.path)  # measured on the file, as it will be heard
        got[name] = (integrated, peak, sound.loudness, sound.true_peak, sound.levels)
        assert not sound.warnings, (name, sound.warnings)
    for name, (integrated, peak, said_i, said_tp, levels) in got.items():
        assert abs(integrated - -14.0) <= 0.5, (name, got[name])
        assert peak <= -1.0, (name, got[name])
        assert abs(said_i - integrated) <= 0.2 and said_tp <= -1.0, (name, got[name])  # what the manifest says
    assert got["speech only, 3 shots"][4].limit is not None  # the ceiling forbade a plain gain there
    assert got["very quiet, 40 shots"][4].limit is None  # a plain gain, exact


def test_silence_stays_silent(tmp_path, sounds):
    """A film of silence is not raised (it was, by 56 dB) and is no loudness miss."""
    sound = film(tmp_path, "silence", [sounds["silent"]] * 2, 2)
    assert sound.levels == assemble.Levels() and sound.loudness <= assemble.SILENCE and not sound.warnings
