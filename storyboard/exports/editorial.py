"""The edit for editors: an OpenTimelineIO timeline (picture, the shots' sound, music, markers), and
from it, through the OTIO adapters, a CMX 3600 EDL and FCP 7 XML, completed where the adapters stop short.

How the cut maps onto editorial terms (the same in every export):
- a dissolve or wipe of N frames is a transition centred on the cut point: N//2 frames before it,
  the rest after, taken from each shot's frames beyond its trimmed range;
- a fade of N frames is a transition to black over the outgoing shot's last N - N//2 frames and
  one from black over the incoming shot's first N//2; fade-to-black is the first half alone.
  Black is a gap of no length between them, so a fade changes no clip's length, as in the cut;
- the shots' sound mirrors the picture (cross-fades where the picture dissolves or fades);
  the music bed runs under the whole cut.
Pure: paths arrive as the exports should write them."""

from __future__ import annotations

import collections
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Iterator

import opentimelineio as otio

from storyboard.exports.handoff import REEL_LENGTH
from storyboard.stages.timeline import Timeline

MUSIC_REEL = "MUSIC"
COLOURS = {"dialogue": otio.schema.MarkerColor.BLUE, "slate": otio.schema.MarkerColor.RED,
           "warning": otio.schema.MarkerColor.YELLOW, "note": otio.schema.MarkerColor.PURPLE}


@dataclass(frozen=True)
class ShotClip:
    """One shot as the exports present it."""

    video: str  # the picture file, as the exports name it (relative path or file URL)
    sound: str  # the shot's sound (WAV), likewise
    reel: str
    metadata: dict = field(default_factory=dict)  # prompt, backend, model, job_id, take, cost, status
    slate: str = ""  # why the shot stands as a slate; "" when it was rendered
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # the review room's status and notes ("review: retake", "Ana: too dark")


@dataclass(frozen=True)
class Bed:
    """The music bed as used in the cut: one file as long as the cut."""

    url: str


def _name(url: str) -> str:
    """A clip is named after its file, as editing programs name what they import."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _rt(frames: int, fps: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, fps)


def _range(start: int, duration: int, fps: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start, fps), _rt(duration, fps))


def _transition(kind: str, before: int, after: int, fps: int, frames: int, sound: bool) -> otio.schema.Transition:
    """Sound cross-fades wherever the picture changes gradually."""
    wipe = kind == "wipe-left" and not sound
    return otio.schema.Transition(
        name=kind, transition_type="SMPTE_Wipe" if wipe else otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=_rt(before, fps), out_offset=_rt(after, fps),
        metadata={"storyboard": {"transition": kind, "frames": frames}})


def _track(tl: Timeline, name: str, kind: str, clip_for) -> otio.schema.Track:
    """Shots end to end with their transitions; `clip_for(i, trimmed range)` makes shot i's clip."""
    fps = tl.fps
    track = otio.schema.Track(name=name, kind=kind)
    sound = kind == otio.schema.TrackKind.Audio
    for i, sp in enumerate(tl.spans):
        # an editor's transition sits centred on the cut: each clip gives up half the overlap
        head, tail = sp.head // 2, sp.tail - sp.tail // 2
        track.append(clip_for(i, _range(head, sp.length - head - tail, fps)))
        n = sp.out_frames
        if sp.overlaps_next:
            track.append(_transition(sp.transition_out, n // 2, tail, fps, n, sound))
        elif sp.fade_out:
            track.append(_transition("fade-out", sp.fade_out, 0, fps, n, sound))
            track.append(otio.schema.Gap(source_range=_range(0, 0, fps)))
            nxt = tl.spans[i + 1] if i + 1 < len(tl.spans) else None
            if nxt is not None and nxt.fade_in:
                track.append(_transition("fade-in", 0, nxt.fade_in, fps, n, sound))
    return track


def _clip(url: str, reel: str, available: int, trimmed: otio.opentime.TimeRange, metadata: dict) -> otio.schema.Clip:
    fps = int(trimmed.duration.rate)
    ref = otio.schema.ExternalReference(target_url=url, available_range=_range(0, available, fps))
    return otio.schema.Clip(name=_name(url), media_reference=ref, source_range=trimmed,
                            metadata={"storyboard": metadata, "cmx_3600": {"reel": reel}})


def _marker(kind: str, name: str, start: int, length: int, fps: int, **meta) -> otio.schema.Marker:
    return otio.schema.Marker(name=" ".join(name.split()), marked_range=_range(start, length, fps),
                              color=COLOURS[kind], metadata={"storyboard": {"kind": kind, **meta}})


def build_otio(tl: Timeline, title: str, shots: list[ShotClip], music: Bed | None = None) -> otio.schema.Timeline:
    """Picture, the shots' sound and the music on their own tracks; a marker for each line of
    dialogue (speaker: text), each slate, each warning and each review note, in the cut's frames."""
    fps = tl.fps
    timeline = otio.schema.Timeline(name=title or "storyboard", global_start_time=_rt(0, fps))
    timeline.metadata["storyboard"] = {"width": tl.width, "height": tl.height, "fps": fps,
                                       "frames": tl.total_frames}

    def meta(i: int) -> dict:
        sp, sc = tl.spans[i], shots[i]
        return dict(sc.metadata, shot_id=sp.shot_id, slate=sc.slate or None, warnings=list(sc.warnings),
                    transition_out=sp.transition_out, transition_frames=sp.out_frames)

    timeline.tracks.append(_track(tl, "Picture", otio.schema.TrackKind.Video, lambda i, r: _clip(
        shots[i].video, shots[i].reel, tl.spans[i].length, r, meta(i))))
    timeline.tracks.append(_track(tl, "Dialogue", otio.schema.TrackKind.Audio, lambda i, r: _clip(
        shots[i].sound, shots[i].reel, tl.spans[i].length, r, {"shot_id": tl.spans[i].shot_id})))
    if music is not None:
        bed = otio.schema.Track(name="Music", kind=otio.schema.TrackKind.Audio)
        bed.append(_clip(music.url, MUSIC_REEL, tl.total_frames, _range(0, tl.total_frames, fps), {"music": True}))
        timeline.tracks.append(bed)

    markers = timeline.tracks.markers
    for cue in tl.cues:
        start = int(cue.start * fps + 0.5)
        markers.append(_marker("dialogue", f"{cue.speaker}: {cue.text}", start,
                               max(0, int(cue.end * fps + 0.5) - start), fps, speaker=cue.speaker, text=cue.text))
    for sp, sc in zip(tl.spans, shots):
        if sc.slate:
            markers.append(_marker("slate", f"SLATE {sp.shot_id}: {sc.slate}", sp.start, sp.length, fps,
                                   shot_id=sp.shot_id))
        for w in sc.warnings:
            markers.append(_marker("warning", f"WARNING {sp.shot_id}: {w}", sp.start, 0, fps, shot_id=sp.shot_id))
        for n in sc.notes:
            markers.append(_marker("note", f"NOTE {sp.shot_id}: {n}", sp.start, 0, fps, shot_id=sp.shot_id, text=n))
    return timeline


def to_otio_json(otl: otio.schema.Timeline) -> str:
    return otio.adapters.write_to_string(otl, adapter_name="otio_json")


# -- CMX 3600 ---------------------------------------------------------------------------------------

def to_edl(otl: otio.schema.Timeline) -> str:
    """Picture on V, the shots' sound on A, the music on A2; dissolves and fades as D events
    (fades to and from black, BL), wipes as W001; markers as LOC lines in record timecode.

    The OTIO adapter writes one track per call, always on channel V or A, numbers each from 1,
    and writes every transition as D: the tracks are joined, renumbered and labelled here."""
    cmx = otio.adapters.from_name("cmx_3600").module()
    work = otl.deepcopy()  # the adapter rewrites the tracks it writes
    fps = int(work.duration().rate)
    picture = work.video_tracks()[0]
    _markers_onto_clips(work.tracks.markers, picture, fps)
    for track in work.tracks:
        # the adapter lengthens the gap after a transition by its in-offset from the gap's own start,
        # which must leave it at 00:00:00:00 (the source of black)
        for k, item in enumerate(track):
            if isinstance(item, otio.schema.Gap) and k and isinstance(track[k - 1], otio.schema.Transition):
                item.source_range = _range(int(track[k - 1].in_offset.value), 0, fps)
    writer = cmx.EDLWriter(tracks=work.tracks, rate=fps, style="avid", reelname_len=REEL_LENGTH)
    lines = [f"TITLE: {' '.join(otl.name.split())}", "FCM: NON-DROP FRAME", ""]
    number = 1
    channels = {0: "V", 1: "A", 2: "A2"}
    for idx, track in enumerate(work.tracks):
        kinds = [t.name for t in track if isinstance(t, otio.schema.Transition)]
        text = writer.get_content_for_track_at_index(idx, title=None)
        block, number = _relabel(text, number, channels[idx], kinds if track.kind == otio.schema.TrackKind.Video else [])
        lines += block
    # the adapter writes a marker's words upper-case; a LOC comment may have any case (Avid writes
    # them as typed, and the adapter reads them back as they are): the words as written
    written = {}
    for m in otl.tracks.markers:
        written.setdefault(m.name.upper(), m.name)
    seen: set[str] = set()
    out = []
    for line in lines:  # a dissolve event repeats the outgoing clip's LOC lines: keep each once
        if (loc := _LOC.match(line)):
            line = loc.group(1) + written.get(loc.group(2), loc.group(2))
            if line in seen:
                continue
            seen.add(line)
        out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


def _markers_onto_clips(markers, track: otio.schema.Track, fps: int) -> None:
    """CMX has no timeline markers: each goes on the clip where it falls, at its record frame
    (LOC timecode is record timecode, as Avid writes it)."""
    clips = [(c, track.range_of_child(c)) for c in track if isinstance(c, otio.schema.Clip)]
    for m in markers:
        at = int(m.marked_range.start_time.value)
        clip = next((c for c, r in clips if r.start_time.value <= at < r.end_time_exclusive().value), clips[-1][0])
        clip.markers.append(otio.schema.Marker(name=m.name, marked_range=_range(at, 0, fps),
                                               color=m.color, metadata=m.metadata))


_LOC = re.compile(r"^(\* LOC: \S+ \S+ +)(.*)$")  # the timecode, the colour, the words
_EVENT = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(C|D)\s+(?:(\d+)\s+)?(\S+ \S+ \S+ \S+)\s*$")


def _relabel(text: str, first: int, channel: str, kinds: list[str]) -> tuple[list[str], int]:
    """One track's events from the adapter, numbered from `first` on `channel`; the k-th
    transition in the track is the k-th D line, and a wipe is written W001."""
    numbers: dict[str, int] = {}
    transitions = iter(kinds)
    out = []
    for line in text.splitlines():
        m = _EVENT.match(line)
        if not m:
            if line.strip():
                out.append(line)
            continue
        num = numbers.setdefault(m.group(1), first + len(numbers))
        code = "C"
        if m.group(4) == "D":
            code = "W001" if next(transitions, "") == "wipe-left" else "D"
            code = f"{code} {int(m.group(5)):03d}"
        out.append(f"{num:03d}  {m.group(2):8} {channel:5} {code:9}{m.group(6)}")
    return out, first + len(numbers)


# -- FCP 7 XML --------------------------------------------------------------------------------------

VIDEO_EFFECTS = {
    "wipe-left": ("Edge Wipe", "Edge Wipe", "Wipe"),
    "dissolve": ("Cross Dissolve", "Cross Dissolve", "Dissolve"),
    "fade-out": ("Cross Dissolve", "Cross Dissolve", "Dissolve"),
    "fade-in": ("Cross Dissolve", "Cross Dissolve", "Dissolve"),
}
AUDIO_EFFECT = ("Cross Fade (+3dB)", "KGAudioTransCrossFade3dB", "")


def to_fcp_xml(otl: otio.schema.Timeline, width: int, height: int, sample_rate: int = 48_000) -> str:
    """FCP 7 XML (Premiere Pro, DaVinci Resolve) from the OTIO adapter, then completed: the
    sequence format (samplecharacteristics: rate, size, pixel aspect, anamorphic; Resolve refuses
    an empty one), each file's media description, transition effects (video dissolves and wipes,
    audio cross-fades; fades as single-sided cross dissolves to and from black), and the few
    places where the adapter's output strays from FCP 7's (a doubled rate, clip durations,
    point markers)."""
    fps = int(otl.duration().rate)
    root = _fcp_tree(otl)
    for el in root.iter():  # no whitespace-only text (as the adapter's pretty-printing read back had none)
        if el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    seq = root.find("./project/children/sequence")
    video, audio = seq.find("./media/video"), seq.find("./media/audio")
    fmt = video.find("./format")
    fmt.clear()
    fmt.append(_video_characteristics(fps, width, height))
    audio.insert(0, _el("numOutputChannels", "2"))
    audio.insert(1, _el("format", None, _el("samplecharacteristics", None, _el("depth", "16"),
                                             _el("samplerate", str(sample_rate)))))
    for item in root.iter("clipitem"):
        for extra in item.findall("./rate")[1:]:  # the adapter writes a clip's rate twice
            item.remove(extra)
        length = item.findtext("./file/duration")
        if length is not None:  # a clipitem's duration is its media's, not the part it shows
            item.find("./duration").text = length
    for marker in root.iter("marker"):  # a point marker's out is -1
        if marker.findtext("./in") == marker.findtext("./out"):
            marker.find("./out").text = "-1"
    for f in root.iter("file"):
        media = f.find("./media")
        if media is None:
            continue
        if media.find("./video") is not None:
            media.find("./video").append(_video_characteristics(fps, width, height))
        if media.find("./audio") is not None:
            a = media.find("./audio")
            depth = "24" if f.findtext("./pathurl", "").lower().endswith(".wav") else "16"
            a.append(_el("samplecharacteristics", None, _el("depth", depth), _el("samplerate", str(sample_rate))))
            a.append(_el("channelcount", "2"))
    for kind, tracks in (("video", video.findall("./track")), ("audio", audio.findall("./track"))):
        for track in tracks:
            if kind == "audio":
                track.attrib.update({"currentExplodedTrackIndex": "0", "totalExplodedTrackCount": "1",
                                     "premiereTrackType": "Stereo"})
                for item in track.findall("./clipitem"):
                    item.append(_el("sourcetrack", None, _el("mediatype", "audio"), _el("trackindex", "1")))
            for t in track.findall("./transitionitem"):
                _complete_transition(t, kind)
    ET.indent(root, "  ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def _fcp_tree(otl: otio.schema.Timeline) -> ET.Element:
    """The FCP 7 XML adapter's element tree of a timeline, built as its `write_to_string` builds it,
    without the step that ends it: a round trip through minidom to pretty-print the text, which
    held a DOM of the whole document at once (~65 KB a shot: 95 MB of a 1,500-shot cut's memory,
    and half the export's CPU), only for the text to be parsed and indented again here. The writer
    only reads the timeline, so it is given the timeline itself, not a copy (another 10 KB a shot).
    tests/unit/test_editorial.py checks both against the adapter's own output."""
    adapter = otio.adapters.from_name("fcp_xml").module()
    root = ET.Element("xmeml", version="4")
    project = ET.SubElement(root, "project")
    ET.SubElement(project, "name").text = otl.name
    children = ET.SubElement(project, "children")
    whole = otio.opentime.TimeRange(start_time=otl.global_start_time, duration=otl.duration())
    children.append(adapter._build_sequence_for_timeline(otl, whole, collections.defaultdict(dict)))
    return root


def _el(tag: str, text: str | None = None, *children: ET.Element) -> ET.Element:
    e = ET.Element(tag)
    e.text = text
    e.extend(children)
    return e


def _video_characteristics(fps: int, width: int, height: int) -> ET.Element:
    return _el("samplecharacteristics", None,
               _el("rate", None, _el("timebase", str(fps)), _el("ntsc", "FALSE")),
               _el("width", str(width)), _el("height", str(height)), _el("anamorphic", "FALSE"),
               _el("pixelaspectratio", "square"), _el("fielddominance", "none"), _el("colordepth", "24"))


def _complete_transition(t: ET.Element, kind: str) -> None:
    """The adapter writes every transition as a video Cross Dissolve named after the OTIO
    transition, aligned by which side has frames: name the effect, and align fades to black."""
    effect = t.find("./effect")
    ours = effect.findtext("./name", "dissolve")
    name, effectid, category = AUDIO_EFFECT if kind == "audio" else VIDEO_EFFECTS.get(ours, VIDEO_EFFECTS["dissolve"])
    effect.clear()
    effect.extend([_el("name", name), _el("effectid", effectid)]
                  + ([_el("effectcategory", category)] if category else [])
                  + [_el("effecttype", "transition"), _el("mediatype", kind)])
    align = t.find("./alignment")
    if ours == "fade-out":
        align.text = "end-black"
    elif ours == "fade-in":
        align.text = "start-black"
    else:  # a one-frame dissolve has frames on one side only: it is not a fade
        align.text = {"start-black": "start", "end-black": "end"}.get(align.text, align.text)


NAMES = ("timeline.otio", "final.edl", "final.xml")  # what `exports` writes, in the output folder


def each_export(otl: otio.schema.Timeline, width: int, height: int) -> Iterator[tuple[str, str]]:
    """Every editor file by its name in the output folder, one at a time: written as it comes, only
    one file's text is held at once (the OTIO JSON is 5.6 KB a shot)."""
    yield NAMES[0], to_otio_json(otl)
    yield NAMES[1], to_edl(otl)
    yield NAMES[2], to_fcp_xml(otl, width, height)


def exports(otl: otio.schema.Timeline, width: int, height: int) -> dict[str, str]:
    """Every editor file by its name in the output folder."""
    return dict(each_export(otl, width, height))


def shaped_by(tl: Timeline, title: str, shots: list[ShotClip], music: Bed | None = None) -> str:
    """A digest of everything `build_otio` and `exports` make the files from: the same means the same
    files (the timeline, the shots as presented, this code and the OTIO adapters' versions)."""
    from storyboard.exports import record
    return record.digest({"code": record.code(("storyboard.exports.editorial",),
                                              packages=("opentimelineio", "otio-cmx3600-adapter", "otio-fcp-adapter")),
                          "timeline": repr(tl), "title": title, "shots": shots, "music": music})
