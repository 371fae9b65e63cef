"""The cut: conform, join (copying what need not change), transitions, sound mix, loudness.

Every step is bounded whatever the film's length: the picture is one concat list (copied runs read
straight from their sources, only transitions, fades and frames off key frames encoded), the sound
is mixed in chunks of at most MAX_INPUTS sources written back to back as raw samples and measured
as it is written (its one true-peak measurement), and the levels are found on those samples before
the one AAC encode."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import ffmpeg as ff  # ffmpeg-python

from storyboard.errors import MediaError
from storyboard.media.clips import AUDIO, BITEXACT, RATE, conform_filter, source, video_codec
from storyboard.media.ffmpeg import (Command, ConcatEntry, FfmpegFailed, Script, compile, concat_input, concat_script,
                                     run, safe_path, start, timeout_for)
from storyboard.media.probe import index
from storyboard.stages.timeline import Timeline

DECLICK = 0.01  # seconds of fade at hard cuts: no clicks at joins
MUSIC_GAIN_DB = -16.0  # the bed's level when the storyboard sets no music_volume
MAX_INPUTS = 32  # sources per sound-mix step: ffmpeg's memory, threads and open files stay bounded
LOUDNESS_TOLERANCE = 0.5  # LU either side of the target: the promise
PRE_TOLERANCE = 0.2  # LU: how close the levelled samples must come before the encode (AAC moves it ~0.1)
MAX_TRIES = 8  # measurements of the limited samples at most
MAX_GAIN = 40.0  # dB: a film of near silence is not raised further
MAX_STEP = 6.0  # dB: the most one try moves the gain
LIMIT_HEADROOM = 1.2  # dB the limiter (which sees samples) leaves under the true-peak ceiling
GAIN_HEADROOM = 0.5  # dB the levelled samples' true peak leaves under the ceiling for what the AAC encoder adds
RAW = {"f": "f32le", "ar": RATE, "ac": 2}  # the mix between steps: raw float samples, joined by appending
STEREO = {"sample_fmts": "fltp", "channel_layouts": "stereo"}


# -- sources: every shot's clip in the house format -------------------------------------------

def conform_cmd(src: Path, out: Path, width: int, height: int, fps: int, frames: int, has_audio: bool,
                src_size: tuple[int, int] | None = None) -> Command:
    """Re-encode any clip to the house format at the film's size (`src_size`: the clip's, when known,
    so a nearly-matching shape is cropped rather than boxed), exactly `frames` long, with exactly one
    audio track."""
    inp = source(src)
    v = (conform_filter(inp["v:0"], src_size, width, height).filter("fps", fps=fps).trim(end_frame=frames).setpts("PTS-STARTPTS")
         .filter("tpad", stop_mode="clone", stop=frames).trim(end_frame=frames).filter("format", pix_fmts="yuv420p"))
    a = inp["a:0"] if has_audio else ff.input(f"anullsrc=r={RATE}:cl=stereo", f="lavfi").audio
    a = (a.filter("aresample", RATE).filter("aformat", **STEREO).filter("apad")
         .filter("atrim", end_sample=samples(frames, fps)))
    out_spec = ff.output(v, a, safe_path(out), **video_codec(fps), **AUDIO, **{"frames:v": frames}, **BITEXACT,
                         movflags="+faststart")
    return compile(out_spec, f"conforming {src.name}", timeout_for(frames / fps, "encode"))


def slate_cmd(png: Path, out: Path, fps: int, frames: int) -> Command:
    # the picture decoded once and repeated (as the animatic's camera does), not the PNG read again for
    # every frame (`-loop 1`): the same bytes out, 2.5 times less CPU
    v = (source(png).video.filter("loop", loop=frames - 1, size=1, start=0).filter("setpts", f"N/({fps}*TB)")
         .filter("format", pix_fmts="yuv420p"))
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


MAX_RUN = 8  # pieces encoded by one ffmpeg at most (each shot it reads is one decoder)


def plan_runs(pieces: list[Piece], max_run: int | None = None) -> list[list[int]]:
    """The pieces that cannot be copied, as runs of neighbours encoded by one ffmpeg each: a
    dissolve with the frames off key frames on either side of it is one piece of picture, one x264
    start-up and one decode of each side, not three."""
    runs: list[list[int]] = []
    for k, p in enumerate(pieces):
        if p.kind == "copy":
            continue
        if runs and runs[-1][-1] == k - 1 and len(runs[-1]) < (max_run or MAX_RUN):
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


def run_cmd(run_pieces: list[Piece], sources: list[Path], out: Path, fps: int,
            keyframes_of: dict[int, list[int]] | None = None) -> Command:
    """Encode neighbouring pieces that cannot be copied (runs off key frames with their fades, and
    transitions) as one file. Each shot is decoded once, from the key frame before the first frame
    any piece needs of it."""
    reads: dict[int, list[tuple[int, int]]] = {}  # shot -> the frame ranges read from it, in order
    for p in run_pieces:
        reads.setdefault(p.shot, []).append((p.start, p.end))
        if p.kind == "xfade":
            reads.setdefault(p.shot + 1, []).append((0, p.frames))
    feeds, skipped = {}, 0
    for shot, ranges in reads.items():
        lo = min(a for a, _ in ranges)
        inp, skip = _from_frame(sources[shot], lo, (keyframes_of or {}).get(shot, []), fps)
        skipped = max(skipped, skip)
        v = inp["v:0"]
        split = v.filter_multi_output("split", len(ranges)) if len(ranges) > 1 else None
        first = lo - skip  # the frame decoding starts at
        feeds[shot] = iter([(split[k] if split is not None else v, first) for k in range(len(ranges))])

    def frames(shot: int, start: int, end: int):
        v, first = next(feeds[shot])
        return v.trim(start_frame=start - first, end_frame=end - first).setpts("PTS-STARTPTS")
    parts = []
    for p in run_pieces:
        a = frames(p.shot, p.start, p.end)
        if p.kind == "encode":
            n = p.end - p.start
            if p.fade_in:
                a = a.filter("fade", t="in", start_frame=0, nb_frames=p.fade_in)
            if p.fade_out:
                a = a.filter("fade", t="out", start_frame=n - p.fade_out, nb_frames=p.fade_out)
        else:
            b = frames(p.shot + 1, 0, p.frames)
            a = ff.filter([a, b], "xfade", transition=p.transition, duration=f"{p.frames / fps:.6f}", offset=0)
        parts.append(a)
    v = ff.concat(*parts, v=1, a=0) if len(parts) > 1 else parts[0]
    length = sum(p.length for p in run_pieces)
    first, last = run_pieces[0], run_pieces[-1]
    what = (f"transition after shot {first.shot + 1}" if len(run_pieces) == 1 and first.kind == "xfade" else
            f"encoding frames {first.start}-{first.end} of shot {first.shot + 1}" if len(run_pieces) == 1 else
            f"encoding the picture around shots {first.shot + 1}-{last.shot + 1 + (last.kind == 'xfade')}")
    out_spec = ff.output(v.filter("format", pix_fmts="yuv420p"), safe_path(out), an=None, **video_codec(fps),
                         **{"frames:v": length}, **BITEXACT)
    return compile(out_spec, what, timeout_for(length / fps + skipped / fps, "encode"))


def piece_cmd(p: Piece, sources: list[Path], out: Path, fps: int, keyframes_of: dict[int, list[int]] | None = None) -> Command:
    """Encode one piece that cannot be copied: a run off key frames (with its fades), or a transition.
    Decoding starts at the key frame before the piece, not at the source's start."""
    return run_cmd([p], sources, out, fps, keyframes_of)


def picture_list(pieces: list[Piece], sources: list[Path], encoded: dict[int, Path], fps: int) -> Script:
    """The concat list of the whole picture: copied runs cut from their sources at key frames
    (inpoint rounded up, outpoint down: the key frame is in, the next run's first frame out),
    encoded files whole (`encoded` names each by its first piece; the pieces after it that are
    neither copied nor named are in it too); every duration from the cut's frame grid, so no
    rounding adds up."""
    entries = []
    pos = 0
    k = 0
    while k < len(pieces):
        p = pieces[k]
        if p.kind == "copy":
            path, start, end, length = sources[p.shot], p.start, p.end, p.length
            k += 1
        else:
            path, length = encoded[k], p.length
            k += 1
            while k < len(pieces) and pieces[k].kind != "copy" and k not in encoded:
                length += pieces[k].length
                k += 1
            start, end = 0, length
        entries.append(ConcatEntry(path, inpoint=-(-start * 1_000_000 // fps), outpoint=_us(end, fps),
                                   duration=_us(pos + length, fps) - _us(pos, fps)))
        pos += length
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


def _shot_sound(stream, tl: Timeline, i: int):
    """Shot i's sound, exactly its picture's length, faded at its edges (crossfades under dissolves
    and wipes, fades under fades, a declick at cuts)."""
    sp, fps = tl.spans[i], tl.fps
    e = sp
    n = samples(sp.start + sp.length, fps) - samples(sp.start, fps)
    declick = int(DECLICK * RATE)
    fin = samples(e.head, fps) if e.head else samples(e.fade_in, fps) if e.fade_in else declick
    fout = samples(e.tail, fps) if e.tail else samples(e.fade_out, fps) if e.fade_out else declick
    fin, fout = max(1, min(fin, n)), max(1, min(fout, n))
    return (stream.filter("aresample", RATE).filter("aformat", **STEREO).filter("apad")
            .filter("atrim", end_sample=n).filter("asetpts", "PTS-STARTPTS")
            .filter("afade", t="in", ss=0, ns=fin, curve="qsin")
            .filter("afade", t="out", ss=n - fout, ns=fout, curve="qsin"))


def plan_layers(tl: Timeline, chunk: Chunk) -> list[list[int]]:
    """The chunk's shots as layers in which none overlaps another: each layer is one sequence of
    shots and silences joined end to end (concat), and only the layers are mixed. Mixing every shot
    at its offset instead made each window cost its number of shots times its length (a 30-shot
    window of hard cuts mixed 15 films' worth of silence). Hard cuts are one layer; dissolves two."""
    fps = tl.fps
    layers: list[list[int]] = []
    ends: list[int] = []
    for i in chunk.shots:
        start = samples(tl.spans[i].start, fps)
        k = next((k for k, end in enumerate(ends) if end <= start), None)
        if k is None:
            layers.append([])
            ends.append(0)
            k = len(layers) - 1
        layers[k].append(i)
        ends[k] = samples(tl.spans[i].start + tl.spans[i].length, fps)
    return layers


def _layer(parts: dict, tl: Timeline, shots: list[int], chunk: Chunk):
    """One layer of a window: its shots back to back, each padded with silence up to the next one's
    start (the first delayed to its own, or trimmed when it began in an earlier window), the last
    to the window's end."""
    fps, segments = tl.fps, []
    for k, i in enumerate(shots):
        s = parts[i]
        offset = samples(tl.spans[i].start, fps) - chunk.start
        if k == 0 and offset > 0:
            s = s.filter("adelay", delays=f"{offset}S", all=1)
        elif offset < 0:  # began in an earlier window: only its end is heard here
            s = s.filter("atrim", start_sample=-offset).filter("asetpts", "PTS-STARTPTS")
        nxt = samples(tl.spans[shots[k + 1]].start, fps) if k + 1 < len(shots) else chunk.end
        length = nxt - max(chunk.start, samples(tl.spans[i].start, fps)) + (max(offset, 0) if k == 0 else 0)
        segments.append(s.filter("apad", whole_len=length).filter("atrim", end_sample=length))
    return ff.concat(*segments, v=0, a=1) if len(segments) > 1 else segments[0]


def chunk_cmd(tl: Timeline, chunk: Chunk, sources: list[Path]) -> Command:
    """One window of the shots' sound, as raw float samples on stdout (appended to the mix)."""
    uses = Counter(sources[i] for i in chunk.shots)  # one clip can serve several shots: decode it once
    feeds = {}
    for path, n in uses.items():
        a = source(path)["a:0"]
        split = a.filter_multi_output("asplit") if n > 1 else None
        feeds[path] = iter([split[k] for k in range(n)] if split is not None else [a])
    parts = {i: _shot_sound(next(feeds[sources[i]]), tl, i) for i in chunk.shots}
    layers = [_layer(parts, tl, shots, chunk) for shots in plan_layers(tl, chunk)]
    mixed = ff.filter(layers, "amix", inputs=len(layers), normalize=0, duration="longest") if len(layers) > 1 else layers[0]
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


SILENCE = -70.0  # LUFS: EBU R128's absolute gate; ebur128 reports silence here


def silent(measured: dict[str, float]) -> bool:
    return measured["I"] <= SILENCE


def plan_levels(measured: dict[str, float], target: float, ceiling: float) -> Levels:
    """A plain gain to the target when the peaks stay under the ceiling (exact and transparent);
    else the same gain into a limiter a little under the ceiling. Silence stays silence (it was
    raised 56 dB), and nothing is raised more than MAX_GAIN."""
    if silent(measured):
        return Levels()
    gain = min(target - measured["I"], MAX_GAIN)
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


def mux_cmd(video: Path, mix_raw: Path, out: Path, levels: Levels, subtitles: Script | None, fps: int,
            seconds: float) -> Command:
    """Picture (copied, or re-encoded only to burn subtitles) with the levelled sound, AAC. Nothing is
    measured here: the levels were found on the samples, where a gain is exact."""
    v = source(video)["v:0"]
    if subtitles is None:
        vcodec = {"c:v": "copy"}
    else:
        cards = concat_input(subtitles)["v:0"]
        v = ff.filter([v, cards], "overlay", x=0, y=0, format="auto", eof_action="pass").filter("format", pix_fmts="yuv420p")
        vcodec = video_codec(fps)
    a = levels.apply(source(mix_raw, **RAW).audio)
    out_spec = ff.output(v, a, safe_path(out), **vcodec, **AUDIO, shortest=None, **BITEXACT, movflags="+faststart")
    return compile(out_spec, "writing the cut", timeout_for(seconds, "encode" if subtitles else "audio"))


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
    """Encode the pieces that cannot be copied, neighbours together (plan_runs), one small ffmpeg at
    a time (an x264 at 720p holds ~80 MB); their files by the number of each run's first piece."""
    encoded: dict[int, Path] = {}
    for run_ in plan_runs(pieces):
        out = work / f"piece{run_[0]:05d}.mp4"
        run(run_cmd([pieces[k] for k in run_], sources, out, fps, keyframes_of))
        encoded[run_[0]] = out
    return encoded


def join_picture(pieces: list[Piece], sources: list[Path], work: Path, fps: int, keyframes_of: dict[int, list[int]],
                 seconds: float) -> Path:
    """The whole picture: what cannot be copied encoded, then everything joined by copying packets.
    Runs beside the sound mix (one more process at a time, bounded)."""
    encoded = encode_pieces(pieces, sources, work, fps, keyframes_of)
    out = work / "picture.mp4"
    run(concat_cmd(picture_list(pieces, sources, encoded, fps), out, seconds))
    for path in encoded.values():
        path.unlink()
    return out


def find_levels(mix: Path, measured: dict[str, float], target: float, ceiling: float, seconds: float,
                on_step: Callable[[str], None]) -> tuple[Levels, dict[str, float]]:
    """The levels for the mix, and the figures (I, TP) of the sound they make, before the encode.

    Two passes, like loudnorm's linear mode with measured values: the mix was measured as it was
    made; where its peaks allow, the gain to the target is exact and so are the figures (a gain
    moves loudness and true peak by itself). Where the true-peak ceiling forbids that gain, a limiter
    goes before it and the gain that reaches the target through it is searched on the samples (a
    limiter takes loudness with the peaks), each try measured with its true peak, a few at most.
    (loudnorm itself resamples to 192 kHz and, when its linear conditions fail, silently falls back
    to its dynamic mode: the misses this replaces.)"""
    levels = plan_levels(measured, target, ceiling)
    if levels.limit is None:
        return levels, {"I": measured["I"] + levels.gain, "TP": measured["TP"] + levels.gain}
    tries: list[tuple[Levels, dict[str, float]]] = []
    while len(tries) < MAX_TRIES:
        on_step("levelling the sound" + (f" (try {len(tries) + 1}: under the limiter, nearer the target)" if tries else ""))
        got = measure(mix, raw=True, levels=levels, seconds=seconds)
        tries.append((levels, got))
        over = got["TP"] - (ceiling - GAIN_HEADROOM)
        if over > 0:  # inter-sample peaks got through: the limiter goes lower, the gain stays
            levels = replace(levels, limit=levels.limit - over - 0.1)
            continue
        if silent(got) or abs(got["I"] - target) <= PRE_TOLERANCE:
            break
        gain = next_gain([(lv.gain, f["I"]) for lv, f in tries if lv.limit == levels.limit], target)
        if gain == levels.gain:  # no further to go (MAX_GAIN)
            break
        levels = replace(levels, gain=gain)
    fit = [(lv, f) for lv, f in tries if f["TP"] <= ceiling - GAIN_HEADROOM] or tries
    return min(fit, key=lambda t: abs(t[1]["I"] - target))


@dataclass(frozen=True)
class CutSound:
    """The cut as written, with its sound's figures: measured on the levelled samples that were
    encoded (AAC moves the loudness by about 0.1 LU and the peak by less than GAIN_HEADROOM)."""

    path: Path
    loudness: float  # LUFS, integrated
    true_peak: float  # dBTP
    warnings: list[str]
    levels: Levels = Levels()


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
    mix = work / "mix.f32"
    with ThreadPoolExecutor(max_workers=1) as pool:  # the picture is encoded and joined while the sound is mixed
        picture = pool.submit(join_picture, pieces, sources, work, fps, keyframes_of, seconds)
        on_step("mixing sound")
        try:
            measured = mix_sound(tl, sources, mix, music, music_gain_db)
        except KeyboardInterrupt:  # told as an interruption, whatever the picture's ffmpeg made of it
            with contextlib.suppress(BaseException):
                picture.result()
            raise
        except BaseException:
            picture.result()  # its error, if both failed, is the one to tell
            raise
        video = picture.result()
    levels, got = find_levels(mix, measured, loudness, true_peak, seconds, on_step)
    on_step("writing the cut")
    run(mux_cmd(video, mix, out, levels, subtitle_cards, fps, seconds))
    warnings = []
    if not silent(got) and (abs(got["I"] - loudness) > LOUDNESS_TOLERANCE or got["TP"] > true_peak):
        why = (f"it is too quiet to raise by more than {MAX_GAIN:.0f} dB" if levels.gain >= MAX_GAIN else
               "its peaks would break the ceiling" if got["I"] < loudness else "it is louder than the target")
        warnings.append(f"the sound lands at {got['I']:.1f} LUFS, true peak {got['TP']:+.1f} dBTP, not "
                        f"{loudness:.1f} LUFS under {true_peak:+.1f} dBTP: {why}")
    return CutSound(out, got["I"], got["TP"], warnings, levels)
