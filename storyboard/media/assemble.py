"""The cut: conform, join (copying what need not change), transitions, sound mix, loudness."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.media.clips import AUDIO, BITEXACT, RATE, fit_filter, video_codec
from storyboard.media.ffmpeg import SAFE_INPUT, run, run_capture, safe_path
from storyboard.timeline import Timeline

DECLICK = 0.01  # seconds of fade at hard cuts: no clicks at joins
MUSIC_GAIN_DB = -16.0  # the bed's level when the storyboard sets no music_volume
TP_TOLERANCE = 0.3  # dB over the true-peak ceiling tolerated after AAC encoding


# -- sources: every shot's clip in the house format -------------------------------------------

def conform_cmd(src: Path, out: Path, width: int, height: int, fps: int, frames: int, has_audio: bool) -> list[str]:
    """Re-encode any clip to the house format, exactly `frames` long, with exactly one audio track."""
    args = [*SAFE_INPUT, "-i", safe_path(src)]
    if not has_audio:
        args += ["-f", "lavfi", "-i", f"anullsrc=r={RATE}:cl=stereo"]
    vf = f"{fit_filter(width, height)},fps={fps},trim=end_frame={frames},setpts=PTS-STARTPTS,tpad=stop_mode=clone:stop={frames},trim=end_frame={frames},format=yuv420p"
    secs = frames / fps
    af = f"aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,apad,atrim=end={secs:.6f}"
    return [*args, "-map", "0:v:0", "-map", "0:a:0" if has_audio else "1:a:0", "-vf", vf, "-af", af,
            *video_codec(fps), *AUDIO, "-frames:v", str(frames), *BITEXACT, "-movflags", "+faststart", safe_path(out)]


def slate_cmd(png: Path, out: Path, fps: int, frames: int) -> list[str]:
    return [*SAFE_INPUT, "-loop", "1", "-framerate", str(fps), "-i", safe_path(png),
            "-f", "lavfi", "-i", f"anullsrc=r={RATE}:cl=stereo", "-map", "0:v", "-map", "1:a",
            "-vf", "format=yuv420p", *video_codec(fps), *AUDIO, "-frames:v", str(frames),
            "-t", f"{frames / fps:.6f}", *BITEXACT, safe_path(out)]


def keyframes(path: Path, fps: int) -> list[int]:
    """Frame numbers of the key frames of a clip's video (read from packets; nothing decoded)."""
    import av
    out = []
    with av.open(str(path), options={"protocol_whitelist": "file"}) as c:
        v = c.streams.video[0]
        for pkt in c.demux(v):
            if pkt.is_keyframe and pkt.pts is not None:
                out.append(int(Fraction(pkt.pts) * v.time_base * fps + Fraction(1, 2)))
    return sorted(out)


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
    for i, sp in enumerate(tl.spans):
        head, tail, fade_in, fade_out = sp.head, sp.tail, sp.fade_in, sp.fade_out
        lo, hi = head, sp.length - tail
        # a copy may start on a key frame and stop on one, or at the very end of the source
        bounds = keyframes_of.get(i, [])
        bounds = sorted(set(bounds) | ({sp.length} if bounds else set()))
        keys = [k for k in bounds if lo + fade_in <= k <= hi - fade_out]
        if len(keys) >= 2 and keys[-1] > keys[0]:
            k1, k2 = keys[0], keys[-1]
            if k1 > lo:
                pieces.append(Piece("encode", i, lo, k1, fade_in=fade_in))
            pieces.append(Piece("copy", i, k1, k2))
            if hi > k2:
                pieces.append(Piece("encode", i, k2, hi, fade_out=fade_out))
        elif hi > lo:
            pieces.append(Piece("encode", i, lo, hi, fade_in=fade_in, fade_out=fade_out))
        if tail:
            pieces.append(Piece("xfade", i, sp.length - tail, sp.length,
                                transition="fade" if sp.transition_out == "dissolve" else "wipeleft", frames=tail))
    return pieces


def piece_cmd(p: Piece, sources: list[Path], out: Path, fps: int) -> list[str]:
    src = sources[p.shot]
    if p.kind == "copy":
        return ["-ss", f"{p.start / fps:.6f}", *SAFE_INPUT, "-i", safe_path(src), "-t", f"{(p.end - p.start) / fps:.6f}",
                "-map", "0:v:0", "-c", "copy", "-an", *BITEXACT, safe_path(out)]
    if p.kind == "encode":
        n = p.end - p.start
        chain = f"trim=start_frame={p.start}:end_frame={p.end},setpts=PTS-STARTPTS"
        if p.fade_in:
            chain += f",fade=t=in:start_frame=0:nb_frames={p.fade_in}"
        if p.fade_out:
            chain += f",fade=t=out:start_frame={n - p.fade_out}:nb_frames={p.fade_out}"
        return [*SAFE_INPUT, "-i", safe_path(src), "-map", "0:v:0", "-vf", chain + ",format=yuv420p", "-an",
                *video_codec(fps), "-frames:v", str(n), *BITEXACT, safe_path(out)]
    nxt = sources[p.shot + 1]
    d = p.frames / fps
    graph = (f"[0:v]trim=start_frame={p.start}:end_frame={p.end},setpts=PTS-STARTPTS[a];"
             f"[1:v]trim=end_frame={p.frames},setpts=PTS-STARTPTS[b];"
             f"[a][b]xfade=transition={p.transition}:duration={d:.6f}:offset=0,format=yuv420p[v]")
    return [*SAFE_INPUT, "-i", safe_path(src), *SAFE_INPUT, "-i", safe_path(nxt), "-filter_complex", graph,
            "-map", "[v]", "-an", *video_codec(fps), "-frames:v", str(p.frames), *BITEXACT, safe_path(out)]


def concat_cmd(list_file: Path, out: Path) -> list[str]:
    """Join pieces named only by our own file names: -safe 1, files only."""
    return ["-f", "concat", "-safe", "1", "-protocol_whitelist", "file", "-i", safe_path(list_file),
            "-map", "0:v", "-c", "copy", "-an", *BITEXACT, "-movflags", "+faststart", safe_path(out)]


# -- sound ------------------------------------------------------------------------------------

def audio_mix_cmd(tl: Timeline, sources: list[Path], out_wav: Path, music: Path | None,
                  music_gain_db: float = MUSIC_GAIN_DB) -> list[str]:
    """Every shot's own sound placed where its picture is, crossfaded under dissolves and wipes,
    faded under fades, declicked at cuts; the music bed looped to the film and ducked under it."""
    fps = tl.fps
    args: list[str] = []
    graph: list[str] = []
    labels = []
    for i, sp in enumerate(tl.spans):
        args += [*SAFE_INPUT, "-i", safe_path(sources[i])]
        secs = sp.length / fps
        # sound follows the picture: crossfaded under overlaps, faded with fades, declicked at cuts
        fin = (sp.head or sp.fade_in) / fps or DECLICK
        fout = (sp.tail or sp.fade_out) / fps or DECLICK
        start_samples = int(Fraction(sp.start, fps) * RATE)
        chain = (f"[{i}:a:0]aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                 f"apad,atrim=end={secs:.6f},asetpts=PTS-STARTPTS,"
                 f"afade=t=in:st=0:d={fin:.6f}:curve=qsin,afade=t=out:st={max(0.0, secs - fout):.6f}:d={fout:.6f}:curve=qsin,"
                 f"adelay=delays={start_samples}S:all=1[s{i}]")
        graph.append(chain)
        labels.append(f"[s{i}]")
    total = float(tl.duration)
    graph.append(f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest,"
                 f"apad,atrim=end={total:.6f}[shots]")
    final = "[shots]"
    if music is not None:
        m = len(tl.spans)
        args += ["-stream_loop", "-1", *SAFE_INPUT, "-i", safe_path(music)]
        graph.append(f"[{m}:a:0]aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                     f"atrim=end={total:.6f},volume={music_gain_db:.1f}dB,"
                     f"afade=t=out:st={max(0.0, total - 2):.6f}:d=2[bed]")
        graph.append("[shots]asplit=2[key][dry]")
        graph.append("[bed][key]sidechaincompress=threshold=0.02:ratio=8:attack=30:release=500[ducked]")
        graph.append("[dry][ducked]amix=inputs=2:normalize=0:duration=first[mixed]")
        final = "[mixed]"
    return [*args, "-filter_complex", ";".join(graph), "-map", final, "-c:a", "pcm_f32le", "-ar", str(RATE),
            "-ac", "2", "-t", f"{total:.6f}", safe_path(out_wav)]  # -t: a looped bed can never run away


def measure(path: Path) -> dict[str, float]:
    """EBU R128 figures of a file's sound: integrated (I), range (LRA), gate threshold, true peak (TP).
    ebur128 at 48 kHz with 4x true-peak oversampling: several times faster than loudnorm's analysis."""
    log = run_capture([*SAFE_INPUT, "-i", safe_path(path), "-map", "0:a:0", "-af", "ebur128=peak=true",
                       "-f", "null", "-"], what="loudness measurement")
    summary = log[log.rfind("Summary:"):]
    def grab(pattern: str) -> float:
        m = re.search(pattern, summary)
        if not m:
            raise MediaError(f"loudness measurement printed no {pattern.split(':')[0]}")
        return float(m.group(1))
    return {"I": grab(r"I:\s+(-?[\d.]+|-inf) LUFS"), "thresh": grab(r"Threshold:\s+(-?[\d.]+|-inf) LUFS"),
            "LRA": grab(r"LRA:\s+(-?[\d.]+|-inf) LU"), "TP": grab(r"Peak:\s+(-?[\d.]+|-inf) dBFS")}


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's sound."""
    m = measure(path)
    return m["I"], m["TP"]


def normalise_filter(measured: dict[str, float], target: float, ceiling: float) -> str:
    """A plain gain when the loudness target fits under the true-peak ceiling (exact and cheap);
    else loudnorm, which limits the peaks, fed the measured figures."""
    if measured["I"] == float("-inf"):
        return "anull"  # silence stays silence
    gain = target - measured["I"]
    if measured["TP"] + gain <= ceiling:
        return f"volume={gain:.2f}dB"
    def num(v: float) -> str:
        return f"{v:.2f}" if v not in (float("inf"), float("-inf")) else "-99"
    return (f"loudnorm=I={target}:TP={ceiling}:LRA=20:measured_I={num(measured['I'])}:"
            f"measured_TP={num(measured['TP'])}:measured_LRA={num(measured['LRA'])}:"
            f"measured_thresh={num(measured['thresh'])}:linear=true,aresample={RATE}")


def mux_cmd(video: Path, wav: Path, out: Path, audio_filter: str, subtitles: Path | None, fps: int) -> list[str]:
    """Picture (copied, or re-encoded only to burn subtitles) with the normalised sound, AAC."""
    args = [*SAFE_INPUT, "-i", safe_path(video), *SAFE_INPUT, "-i", safe_path(wav)]
    if subtitles is None:
        vmap = ["-map", "0:v:0", "-c:v", "copy"]
    else:
        args += ["-f", "concat", "-safe", "1", "-protocol_whitelist", "file", "-i", safe_path(subtitles)]
        vmap = ["-filter_complex", "[0:v][2:v]overlay=0:0:format=auto:eof_action=pass,format=yuv420p[v]",
                "-map", "[v]", *video_codec(fps)]
    return [*args, *vmap, "-map", "1:a:0", "-af", audio_filter, *AUDIO, "-shortest", *BITEXACT,
            "-movflags", "+faststart", safe_path(out)]


# -- the whole cut ------------------------------------------------------------------------------

def make_cut(tl: Timeline, sources: list[Path], work: Path, out: Path, music: Path | None = None,
             loudness: float = -14.0, true_peak: float = -1.0, subtitle_cards: Path | None = None,
             music_gain_db: float = MUSIC_GAIN_DB,
             keyframes_of: dict[int, list[int]] | None = None, on_step=lambda step: None) -> Path:
    """Join house-format sources into `out` (written under a temporary name by the caller)."""
    fps = tl.fps
    pieces = plan_pieces(tl, keyframes_of or {})
    names = []
    on_step(f"joining picture ({sum(1 for p in pieces if p.kind != 'copy')} encoded pieces, "
            f"{sum(1 for p in pieces if p.kind == 'copy')} copied)")
    for k, p in enumerate(pieces):
        name = f"piece{k:04d}.mp4"
        run(piece_cmd(p, sources, work / name, fps), what=f"cut piece {k} ({p.kind} of shot {p.shot + 1})")
        names.append(name)
    (work / "pieces.txt").write_text("".join(f"file '{n}'\n" for n in names))
    run(concat_cmd(work / "pieces.txt", work / "picture.mp4"), what="joining the picture")
    on_step("mixing sound")
    run(audio_mix_cmd(tl, sources, work / "mix.wav", music, music_gain_db), what="mixing the sound")
    on_step("measuring loudness")
    measured = measure(work / "mix.wav")
    on_step("writing the cut")
    ceiling = true_peak
    for _ in range(3):
        run(mux_cmd(work / "picture.mp4", work / "mix.wav", out, normalise_filter(measured, loudness, ceiling),
                    subtitle_cards, fps), what="writing the cut")
        _, peak = ebur128(out)
        if not peak > true_peak + TP_TOLERANCE:
            break
        # the AAC encoder overshot the limiter: lower the ceiling by what it added, and encode again
        on_step(f"true peak {peak:+.1f} dBTP over {true_peak:+.1f}; encoding the sound again")
        ceiling -= peak - true_peak + 0.2
    return out
