"""The cut: conform, join (copying what need not change), transitions, sound mix, loudness.

Every step is bounded whatever the film's length: the picture is one concat list (copied runs read
straight from their sources, only transitions, fades and frames off key frames encoded), the sound
is mixed in chunks of at most MAX_INPUTS sources written back to back as raw samples, and the
loudness is measured on the final AAC and corrected there when it is off."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import ffmpeg as ff  # ffmpeg-python

from storyboard.errors import MediaError
from storyboard.media.clips import AUDIO, BITEXACT, RATE, fit_filter, source, video_codec
from storyboard.media.ffmpeg import (Command, ConcatEntry, FfmpegFailed, Script, compile, concat_input, concat_script,
                                     run, safe_path, start, timeout_for, with_loopback)
from storyboard.media.probe import index
from storyboard.stages.timeline import Timeline

DECLICK = 0.01  # seconds of fade at hard cuts: no clicks at joins
MUSIC_GAIN_DB = -16.0  # the bed's level when the storyboard sets no music_volume
MAX_INPUTS = 32  # sources per sound-mix step: ffmpeg's memory, threads and open files stay bounded
LOUDNESS_TOLERANCE = 0.5  # LU either side of the target, measured on the final AAC
MAX_PASSES = 3  # AAC encodes of the sound at most: the first, and corrections when it is off
PRE_TOLERANCE = 0.2  # LU: how close the limited samples must come before the encode (AAC moves it ~0.1)
MAX_TRIES = 5  # measurements of the limited samples at most
MAX_GAIN = 40.0  # dB: a film of near silence is not raised further
MAX_STEP = 6.0  # dB: the most one correction moves the gain
LIMIT_HEADROOM = 1.2  # dB the limiter (which sees samples) leaves under the true-peak ceiling
GAIN_HEADROOM = 0.5  # dB a plain gain leaves under the ceiling for what the AAC encoder adds
RAW = {"f": "f32le", "ar": RATE, "ac": 2}  # the mix between steps: raw float samples, joined by appending
STEREO = {"sample_fmts": "fltp", "channel_layouts": "stereo"}


# -- sources: every shot's clip in the house format -------------------------------------------

def conform_cmd(src: Path, out: Path, width: int, height: int, fps: int, frames: int, has_audio: bool) -> Command:
    """Re-encode any clip to the house format, exactly `frames` long, with exactly one audio track."""
    inp = source(src)
    v = (fit_filter(inp["v:0"], width, height).filter("fps", fps=fps).trim(end_frame=frames).setpts("PTS-STARTPTS")
         .filter("tpad", stop_mode="clone", stop=frames).trim(end_frame=frames).filter("format", pix_fmts="yuv420p"))
    a = inp["a:0"] if has_audio else ff.input(f"anullsrc=r={RATE}:cl=stereo", f="lavfi").audio
    a = (a.filter("aresample", RATE).filter("aformat", **STEREO).filter("apad")
         .filter("atrim", end_sample=samples(frames, fps)))
    out_spec = ff.output(v, a, safe_path(out), **video_codec(fps), **AUDIO, **{"frames:v": frames}, **BITEXACT,
                         movflags="+faststart")
    return compile(out_spec, f"conforming {src.name}", timeout_for(frames / fps, "encode"))


def slate_cmd(png: Path, out: Path, fps: int, frames: int) -> Command:
    v = source(png, loop=1, framerate=fps).video.filter("format", pix_fmts="yuv420p")
    a = ff.input(f"anullsrc=r={RATE}:cl=stereo", f="lavfi").audio
    out_spec = ff.output(v, a, safe_path(out), **video_codec(fps), **AUDIO, **{"frames:v": frames},
                         t=f"{frames / fps:.6f}", **BITEXACT)
    return compile(out_spec, "slate", timeout_for(frames / fps, "encode"))


def keyframes(path: Path, fps: int) -> list[int]:
    """Frame numbers of the key frames of a clip's video (read from packets; nothing decoded)."""
    return list(index(path, fps).keyframes)


# -- pieces: the cut as copied and encoded runs of frames (pure) ---------------------------------

@dataclass(frozen=True)
class Piece:
    """A run of the cut's picture: copied from one source, encoded from one, or a transition of two."""

    kind: str  # "copy" | "encode" | "xfade"
    shot: int  # index of the (first) shot
    start: int  # first frame in that shot's source
    end: int  # frame after the last
    fade_in: int = 0  # frames of fade from black at the start (encode only)
    fade_out: int = 0  # frames of fade to black at the end (encode only)
    transition: str = ""  # xfade: "fade" (dissolve) or "wipeleft"
    frames: int = 0  # xfade: overlap length

    @property
    def length(self) -> int:
        return self.frames if self.kind == "xfade" else self.end - self.start


def plan_pieces(tl: Timeline, keyframes_of: dict[int, list[int]]) -> list[Piece]:
    """Split the cut into pieces so that only transitions and frames off key frames are encoded.

    `keyframes_of[i]` lists shot i's key frames (empty: encode that shot whole)."""
    pieces: list[Piece] = []
    spans = tl.spans
    for i, sp in enumerate(spans):
        e = sp  # the span carries its overlaps and fades (counted once, in timeline.build)
        lo, hi = e.head, sp.length - e.tail
        # a copy may start on a key frame and stop on one, or at the very end of the source
        bounds = keyframes_of.get(i, [])
        bounds = sorted(set(bounds) | ({sp.length} if bounds else set()))
        keys = [k for k in bounds if lo + e.fade_in <= k <= hi - e.fade_out]
        if len(keys) >= 2 and keys[-1] > keys[0]:
            k1, k2 = keys[0], keys[-1]
            if k1 > lo:
                pieces.append(Piece("encode", i, lo, k1, fade_in=e.fade_in))
            pieces.append(Piece("copy", i, k1, k2))
            if hi > k2:
                pieces.append(Piece("encode", i, k2, hi, fade_out=e.fade_out))
        elif hi > lo:
            pieces.append(Piece("encode", i, lo, hi, fade_in=e.fade_in, fade_out=e.fade_out))
        if e.tail:
            pieces.append(Piece("xfade", i, sp.length - e.tail, sp.length,
                                transition="fade" if sp.transition_out == "dissolve" else "wipeleft", frames=e.tail))
    return pieces


def _us(frame: int, fps: int) -> int:
    """Microseconds (ffmpeg's unit for seeking and concat points) at a frame, rounded down."""
    return frame * 1_000_000 // fps


def _seconds(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def _from_frame(src: Path, frame: int, keys: list[int], fps: int):
    """(input, frames to skip): the input starts decoding at the last key frame at or before `frame`.
    The seek point is rounded down, so the key frame itself is never skipped."""
    k = max((x for x in keys if x <= frame), default=0)
    return (source(src, ss=_seconds(_us(k, fps))) if k else source(src)), frame - k


def piece_cmd(p: Piece, sources: list[Path], out: Path, fps: int, keyframes_of: dict[int, list[int]] | None = None) -> Command:
    """Encode one piece that cannot be copied: a run off key frames (with its fades), or a transition.
    Decoding starts at the key frame before the piece, not at the source's start."""
    keys = (keyframes_of or {}).get(p.shot, [])
    inp, skip = _from_frame(sources[p.shot], p.start, keys, fps)
    a = inp["v:0"].trim(start_frame=skip, end_frame=skip + (p.end - p.start)).setpts("PTS-STARTPTS")
    if p.kind == "encode":
        n = p.end - p.start
        if p.fade_in:
            a = a.filter("fade", t="in", start_frame=0, nb_frames=p.fade_in)
        if p.fade_out:
            a = a.filter("fade", t="out", start_frame=n - p.fade_out, nb_frames=p.fade_out)
        what = f"encoding frames {p.start}-{p.end} of shot {p.shot + 1}"
    else:
        b = source(sources[p.shot + 1])["v:0"].trim(end_frame=p.frames).setpts("PTS-STARTPTS")
        a = ff.filter([a, b], "xfade", transition=p.transition, duration=f"{p.frames / fps:.6f}", offset=0)
        what = f"transition after shot {p.shot + 1}"
    out_spec = ff.output(a.filter("format", pix_fmts="yuv420p"), safe_path(out), an=None, **video_codec(fps),
                         **{"frames:v": p.length}, **BITEXACT)
    return compile(out_spec, what, timeout_for(p.length / fps + skip / fps, "encode"))


def picture_list(pieces: list[Piece], sources: list[Path], encoded: dict[int, Path], fps: int) -> Script:
    """The concat list of the whole picture: copied runs cut from their sources at key frames
    (inpoint rounded up, outpoint down: the key frame is in, the next run's first frame out),
    encoded pieces whole; every duration from the cut's frame grid, so no rounding adds up."""
    entries = []
    pos = 0
    for k, p in enumerate(pieces):
        path, start, end = (sources[p.shot], p.start, p.end) if p.kind == "copy" else (encoded[k], 0, p.length)
        entries.append(ConcatEntry(path, inpoint=-(-start * 1_000_000 // fps), outpoint=_us(end, fps),
                                   duration=_us(pos + p.length, fps) - _us(pos, fps)))
        pos += p.length
    return concat_script(entries, "picture.txt")


def concat_cmd(listing: Script, out: Path, seconds: float) -> Command:
    """Join the picture by copying packets: our own files named in a list, read as files only."""
    out_spec = ff.output(concat_input(listing)["v:0"], safe_path(out), **{"c:v": "copy"}, an=None, **BITEXACT,
                         movflags="+faststart")
    return compile(out_spec, "joining the picture", timeout_for(seconds, "copy"))


# -- sound: chunks of shots, mixed and written back to back (pure plans, then commands) ---------

def samples(frame: int, fps: int) -> int:
    """The sample at which a frame starts (48 kHz: exact at every whole frame rate that divides it)."""
    return frame * RATE // fps


@dataclass(frozen=True)
class Chunk:
    """A window of the cut's sound [start, end) in samples, and the shots heard in it."""

    start: int
    end: int
    shots: tuple[int, ...]


def plan_chunks(tl: Timeline, max_inputs: int | None = None) -> list[Chunk]:
    """Windows that start where a shot starts, each mixing at most `max_inputs` (MAX_INPUTS) shots:
    its own, and any earlier shot still heard at its start (the outgoing side of a dissolve)."""
    spans, fps = tl.spans, tl.fps
    max_inputs = max_inputs or MAX_INPUTS
    longest = max(sp.length for sp in spans)
    own = max(1, max_inputs - 2)  # room for shots reaching in from the previous window
    chunks = []
    for a in range(0, len(spans), own):
        b = min(a + own, len(spans))
        start = spans[a].start
        reach = []
        j = a - 1
        while j >= 0 and spans[j].start + longest > start:  # only these can still be playing
            if spans[j].start + spans[j].length > start:
                reach.append(j)
            j -= 1
        end = spans[b].start if b < len(spans) else tl.total_frames
        chunks.append(Chunk(samples(start, fps), samples(end, fps), (*reversed(reach), *range(a, b))))
    return chunks


def _shot_sound(stream, tl: Timeline, i: int, window_start: int):
    """Shot i's sound, exactly its picture's length, faded at its edges (crossfades under dissolves
    and wipes, fades under fades, a declick at cuts), placed in a window starting at `window_start`."""
    sp, fps = tl.spans[i], tl.fps
    e = sp
    n = samples(sp.start + sp.length, fps) - samples(sp.start, fps)
    declick = int(DECLICK * RATE)
    fin = samples(e.head, fps) if e.head else samples(e.fade_in, fps) if e.fade_in else declick
    fout = samples(e.tail, fps) if e.tail else samples(e.fade_out, fps) if e.fade_out else declick
    fin, fout = max(1, min(fin, n)), max(1, min(fout, n))
    s = (stream.filter("aresample", RATE).filter("aformat", **STEREO).filter("apad")
         .filter("atrim", end_sample=n).filter("asetpts", "PTS-STARTPTS")
         .filter("afade", t="in", ss=0, ns=fin, curve="qsin")
         .filter("afade", t="out", ss=n - fout, ns=fout, curve="qsin"))
    offset = samples(sp.start, fps) - window_start
    if offset > 0:
        s = s.filter("adelay", delays=f"{offset}S", all=1)
    elif offset < 0:  # began in an earlier window: only its end is heard here
        s = s.filter("atrim", start_sample=-offset).filter("asetpts", "PTS-STARTPTS")
    return s


def chunk_cmd(tl: Timeline, chunk: Chunk, sources: list[Path]) -> Command:
    """One window of the shots' sound, as raw float samples on stdout (appended to the mix)."""
    uses = Counter(sources[i] for i in chunk.shots)  # one clip can serve several shots: decode it once
    feeds = {}
    for path, n in uses.items():
        a = source(path)["a:0"]
        split = a.filter_multi_output("asplit") if n > 1 else None
        feeds[path] = iter([split[k] for k in range(n)] if split is not None else [a])
    parts = [_shot_sound(next(feeds[sources[i]]), tl, i, chunk.start) for i in chunk.shots]
    mixed = ff.filter(parts, "amix", inputs=len(parts), normalize=0, duration="longest") if len(parts) > 1 else parts[0]
    mixed = mixed.filter("apad").filter("atrim", end_sample=chunk.end - chunk.start)
    seconds = (chunk.end - chunk.start) / RATE
    out_spec = ff.output(mixed, "pipe:1", **RAW, **{"c:a": "pcm_f32le"})
    return compile(out_spec, f"mixing the sound of shots {chunk.shots[0] + 1}-{chunk.shots[-1] + 1}",
                   timeout_for(seconds * 2, "audio"))


def sink_cmd(total: int, music: Path | None, out_raw: Path, music_gain_db: float = MUSIC_GAIN_DB) -> Command:
    """The end of the sound mix: the chunks arrive back to back on stdin; the music bed (looped to
    the film's length, ducked under the shots' sound) is added; the result is written as raw
    samples and measured (EBU R128) on the way, so the mix is never read again to measure it."""
    shots = ff.input("pipe:0", **RAW).audio
    if music is not None:
        bed = (source(music, stream_loop=-1)["a:0"].filter("aresample", RATE).filter("aformat", **STEREO)
               .filter("atrim", end_sample=total).filter("volume", volume=f"{music_gain_db:.1f}dB")
               .filter("afade", t="out", ss=max(0, total - 2 * RATE), ns=max(1, min(total, 2 * RATE))))
        split = shots.filter_multi_output("asplit")
        ducked = ff.filter([bed, split[0]], "sidechaincompress", threshold=0.02, ratio=8, attack=30, release=500)
        shots = ff.filter([split[1], ducked], "amix", inputs=2, normalize=0, duration="first")
    mixed = shots.filter("apad").filter("atrim", end_sample=total).filter_multi_output("asplit")
    out = ff.output(mixed[0], safe_path(out_raw), **RAW, **{"c:a": "pcm_f32le"})
    measured = ff.output(_ebur128(mixed[1]), "-", f="null")
    return compile(ff.merge_outputs(out, measured), "mixing the sound" + (" with the music bed" if music else ""),
                   timeout_for(3 * total / RATE, "audio"), loglevel="info")  # the chunks feed it all along


# -- loudness -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Levels:
    """What the sound gets before the AAC encode: a gain, then (when the peaks need it) a limiter."""

    gain: float = 0.0  # dB
    limit: float | None = None  # dBFS ceiling of the limiter, or no limiter

    def apply(self, stream):
        s = stream.filter("volume", volume=f"{self.gain:.2f}dB")
        if self.limit is not None:
            # sample-peak look-ahead limiter; latency=1 keeps every sample where it was
            s = s.filter("alimiter", limit=f"{max(10 ** (self.limit / 20), 0.0625):.5f}", attack=5, release=50,
                         level=0, latency=1)
        return s


EBUR128 = "ebur128=framelog=verbose:peak=true"  # 4x true peak; at info level, the summary only


def _ebur128(stream, peak: bool = True):
    return stream.filter("ebur128", **({"peak": "true"} if peak else {}), framelog="verbose")


def measure_cmd(path: Path, raw: bool = False, levels: Levels | None = None, seconds: float = 0.0,
                peak: bool = True) -> Command:
    """EBU R128 figures (integrated, range, true peak) of a file's sound, after `levels` if given.
    Without `peak` there is no true-peak figure, and the pass costs a third as much."""
    a = (source(path, **RAW) if raw else source(path))["a:0"]
    if levels is not None:
        a = levels.apply(a)
    return compile(ff.output(_ebur128(a, peak), "-", f="null"), "measuring loudness", timeout_for(seconds, "audio"),
                   loglevel="info")


def parse_measure(log: str) -> dict[str, float]:
    """The figures of the last ebur128 summary in an ffmpeg log (info level)."""
    summary = log[log.rfind("Summary:"):]

    def grab(pattern: str) -> float:
        m = re.search(pattern, summary)
        if not m:
            raise MediaError(f"the loudness measurement printed no {pattern.split(':')[0]}")
        return float(m.group(1))
    figures = {"I": grab(r"I:\s+(-?[\d.]+|-inf) LUFS"), "thresh": grab(r"Threshold:\s+(-?[\d.]+|-inf) LUFS"),
               "LRA": grab(r"LRA:\s+(-?[\d.]+|-inf) LU")}
    if "Peak:" in summary:
        figures["TP"] = grab(r"Peak:\s+(-?[\d.]+|-inf) dBFS")
    return figures


def measure(path: Path, raw: bool = False, levels: Levels | None = None, seconds: float = 0.0,
            peak: bool = True) -> dict[str, float]:
    """EBU R128 figures of a file's sound: integrated (I), range (LRA), gate threshold, true peak (TP).
    ebur128 at 48 kHz with 4x true-peak oversampling: several times faster than loudnorm's analysis."""
    return parse_measure(run(measure_cmd(path, raw, levels, seconds, peak)).log)


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's sound."""
    m = measure(path)
    return m["I"], m["TP"]


def plan_levels(measured: dict[str, float], target: float, ceiling: float) -> Levels:
    """A plain gain to the target when the peaks stay under the ceiling (exact and transparent);
    else the same gain into a limiter a little under the ceiling."""
    if measured["I"] == float("-inf"):
        return Levels()  # silence stays silence
    gain = target - measured["I"]
    if measured["TP"] + gain <= ceiling - GAIN_HEADROOM:
        return Levels(gain)
    return Levels(gain, ceiling - LIMIT_HEADROOM)


def slope(tries: list[tuple[float, float]]) -> float:
    """How much the loudness rose per dB of gain over the last two (gain, loudness) tries: 1 without
    a limiter; less under one (speech lost 3 LU to +13 dB here). Kept in [0.25, 1] so one odd
    measurement cannot send the gain flying."""
    if len(tries) < 2 or tries[-1][0] == tries[-2][0]:
        return 1.0
    (g0, i0), (g1, i1) = tries[-2], tries[-1]
    return min(1.0, max(0.25, (i1 - i0) / (g1 - g0)))


def next_gain(tries: list[tuple[float, float]], target: float) -> float:
    """The gain to try next: along the secant through the last two tries, at most MAX_STEP away."""
    gain, got = tries[-1]
    step = (target - got) / slope(tries)
    return min(gain + max(-MAX_STEP, min(MAX_STEP, step)), MAX_GAIN)


def correct(levels: Levels, measured: dict[str, float], target: float, ceiling: float,
            rise: float = 1.0) -> Levels | None:
    """The levels for another pass when the measured result is off (None: it is on target); `rise`
    is the loudness gained per dB of gain (see `slope`)."""
    if measured["I"] == float("-inf"):
        return None
    off = target - measured["I"]
    over = measured["TP"] - ceiling
    if abs(off) <= LOUDNESS_TOLERANCE and over <= 0:
        return None
    limit = levels.limit
    if over > 0:  # bring in the limiter, or lower its ceiling by what got through
        limit = ceiling - LIMIT_HEADROOM if limit is None else limit - over - 0.2
    return Levels(levels.gain + max(-MAX_STEP, min(MAX_STEP, off / rise)), limit)


def mux_cmd(video: Path, mix_raw: Path, out: Path, levels: Levels, subtitles: Script | None, fps: int,
            seconds: float) -> Command:
    """Picture (copied, or re-encoded only to burn subtitles) with the levelled sound, AAC; the AAC
    is decoded again in the same run (a loopback decoder) and measured, so the figures are those
    of the sound as it will be heard, without reading the file back."""
    v = source(video)["v:0"]
    if subtitles is None:
        vcodec = {"c:v": "copy"}
    else:
        cards = concat_input(subtitles)["v:0"]
        v = ff.filter([v, cards], "overlay", x=0, y=0, format="auto", eof_action="pass").filter("format", pix_fmts="yuv420p")
        vcodec = video_codec(fps)
    a = levels.apply(source(mix_raw, **RAW).audio)
    out_spec = ff.output(v, a, safe_path(out), **vcodec, **AUDIO, shortest=None, **BITEXACT, movflags="+faststart")
    cmd = compile(out_spec, "writing the cut", timeout_for(seconds, "encode" if subtitles else "audio"), loglevel="info")
    return with_loopback(cmd, "0:1", EBUR128)  # output 0's stream 1: the AAC (the picture is mapped first)


# -- the whole cut ------------------------------------------------------------------------------

def mix_sound(tl: Timeline, sources: list[Path], out_raw: Path, music: Path | None,
              music_gain_db: float = MUSIC_GAIN_DB) -> dict[str, float]:
    """The film's sound as one raw float file, sample-exact: chunks written back to back into one
    sink process (which adds the bed and measures). Returns the measured figures."""
    total = samples(tl.total_frames, tl.fps)
    with start(sink_cmd(total, music, out_raw, music_gain_db)) as sink:
        for chunk in plan_chunks(tl):
            try:
                run(chunk_cmd(tl, chunk, sources), stdout=sink.stdin)
            except FfmpegFailed:
                if sink.proc.poll():  # the sink stopped first (the chunk only saw a broken pipe): its error
                    sink.finish()
                raise
        figures = parse_measure(sink.finish().log)
    if out_raw.stat().st_size != total * 8:
        raise MediaError(f"the sound mix has {out_raw.stat().st_size // 8} samples, the cut {total}")
    return figures


def encode_pieces(pieces: list[Piece], sources: list[Path], work: Path, fps: int,
                  keyframes_of: dict[int, list[int]]) -> dict[int, Path]:
    """Encode the pieces that cannot be copied (one small ffmpeg each, one at a time: an x264 at
    720p holds ~80 MB); their files by piece number."""
    encoded: dict[int, Path] = {}
    for k, p in enumerate(pieces):
        if p.kind != "copy":
            encoded[k] = work / f"piece{k:05d}.mp4"
            run(piece_cmd(p, sources, encoded[k], fps, keyframes_of))
    return encoded


def find_levels(mix: Path, measured: dict[str, float], target: float, ceiling: float, seconds: float,
                on_step: Callable[[str], None]) -> tuple[Levels, float]:
    """The levels for the mix, and how much loudness a dB of gain adds under them. A plain gain is
    exact; under a limiter (which takes loudness with the peaks) the gain that gives it back is
    found on the samples, with no encode, a few measurements at most."""
    levels = plan_levels(measured, target, ceiling)
    tries: list[tuple[float, float]] = []
    while levels.limit is not None and len(tries) < MAX_TRIES:
        on_step("levelling the sound")
        got = measure(mix, raw=True, levels=levels, seconds=seconds, peak=False)["I"]  # the AAC's peak is checked later
        tries.append((levels.gain, got))
        if got == float("-inf") or abs(got - target) <= PRE_TOLERANCE:
            break
        levels = replace(levels, gain=next_gain(tries, target))
    if tries and abs(tries[-1][1] - target) > PRE_TOLERANCE:  # none close enough: the closest
        levels = replace(levels, gain=min(tries, key=lambda t: abs(t[1] - target))[0])
    return levels, slope(tries)


@dataclass(frozen=True)
class CutSound:
    """The cut as written, with its sound's figures measured on the final AAC."""

    path: Path
    loudness: float  # LUFS, integrated
    true_peak: float  # dBTP
    passes: int  # AAC encodes it took (1: on target the first time)
    warnings: list[str]


def make_cut(tl: Timeline, sources: list[Path], work: Path, out: Path, music: Path | None = None,
             loudness: float = -14.0, true_peak: float = -1.0, subtitle_cards: Script | None = None,
             keyframes_of: dict[int, list[int]] | None = None,
             on_step: Callable[[str], None] = lambda step: None, music_gain_db: float = MUSIC_GAIN_DB) -> CutSound:
    """Join house-format sources into `out` (written under a temporary name by the caller)."""
    fps = tl.fps
    seconds = float(tl.duration)
    keyframes_of = keyframes_of or {}
    pieces = plan_pieces(tl, keyframes_of)
    on_step(f"joining picture ({sum(1 for p in pieces if p.kind != 'copy')} encoded pieces, "
            f"{sum(1 for p in pieces if p.kind == 'copy')} copied)")
    encoded = encode_pieces(pieces, sources, work, fps, keyframes_of)
    mix = work / "mix.f32"
    on_step("mixing sound")
    with ThreadPoolExecutor(max_workers=1) as pool:  # the join copies packets while the sound is mixed
        picture = pool.submit(run, concat_cmd(picture_list(pieces, sources, encoded, fps), work / "picture.mp4", seconds))
        measured = mix_sound(tl, sources, mix, music, music_gain_db)
        picture.result()
    for path in encoded.values():
        path.unlink()
    levels, rise = find_levels(mix, measured, loudness, true_peak, seconds, on_step)
    on_step("writing the cut")
    for passes in range(1, MAX_PASSES + 1):
        measured = parse_measure(run(mux_cmd(work / "picture.mp4", mix, out, levels, subtitle_cards, fps, seconds)).log)
        again = correct(levels, measured, loudness, true_peak, rise)
        if again is None or passes == MAX_PASSES:
            break
        on_step(f"loudness {measured['I']:.1f} LUFS, true peak {measured['TP']:+.1f} dBTP: encoding the sound again")
        levels = again
    warnings = []
    if again is not None:
        warnings.append(f"the sound lands at {measured['I']:.1f} LUFS, true peak {measured['TP']:+.1f} dBTP after "
                        f"{passes} passes, not {loudness:.1f} LUFS under {true_peak:+.1f} dBTP")
    return CutSound(out, measured["I"], measured["TP"], passes, warnings)
