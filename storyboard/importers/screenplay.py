"""A parsed screenplay, whatever it was written in: scenes of beats of action and speech.

Both readers (Fountain, Final Draft) turn their file into a flat list of `Element`s, one per
paragraph, with the line it started on; `build` groups them into scenes and beats the same way
for both. A beat is one action paragraph and the dialogue that follows it: the draft makes one
shot of each (more, when it is too long for one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storyboard.errors import Diagnostic, FormatError

KINDS = ("heading", "action", "centered", "cue", "paren", "speech", "lyric", "transition",
         "section", "synopsis", "note")


@dataclass(frozen=True)
class Element:
    """One paragraph of a script as its reader found it."""

    kind: str
    text: str
    line: int
    number: str = ""                    # a heading's scene number, as written
    extensions: tuple[str, ...] = ()    # a cue's extensions: "V.O.", "CONT'D", ...
    dual: bool = False                  # a cue in dual dialogue


@dataclass(frozen=True)
class Speech:
    """What one character says after one cue (or one piece of it, once split)."""

    character: str      # the name as written on the cue, without its extensions
    text: str
    delivery: str = ""  # the parentheticals, joined
    voice_over: bool = False
    off_screen: bool = False
    dual: bool = False  # spoken at the same time as the line next to it
    sung: bool = False
    line: int = 0


@dataclass(frozen=True)
class Beat:
    action: str
    speeches: tuple[Speech, ...] = ()
    sound: str = ""
    comments: tuple[str, ...] = ()  # notes, sections, synopses met in or before this beat
    transition: str = ""            # as written, into what follows
    centered: bool = False
    line: int = 0


@dataclass(frozen=True)
class Scene:
    label: str      # the scene number as written (#12#), else its place among the scenes
    heading: str    # as written; "" for what comes before the first heading
    setting: str    # INT, EXT, INT/EXT or ""
    place: str      # LAMP ROOM
    time: str       # NIGHT
    beats: tuple[Beat, ...]
    comments: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Screenplay:
    title: str
    credits: tuple[str, ...]    # the rest of the title page, one "Key: value" each
    scenes: tuple[Scene, ...]
    notes: tuple[str, ...] = ()  # notes of the whole document
    trailing: tuple[str, ...] = ()  # comments after the last beat


_SETTING = re.compile(r"^(INT\.?\s*/\s*EXT|EXT\.?\s*/\s*INT|I\s*/\s*E|INT|EXT|EST)(?:\.\s*|\s+)(.*)$", re.I)
_TIME_SPLIT = re.compile(r"\s+[-\u2013\u2014]+\s+")
_EXTENSIONS = re.compile(r"^(.*?)\s*((?:\([^()]*\)\s*)+)$")
VOICE_OVER = {"V.O.", "VO", "V/O"}
OFF_SCREEN = {"O.S.", "OS", "O.C.", "OC", "OFFSCREEN", "OFF-SCREEN", "OFF"}
CONTINUED = {"CONT'D", "CONTD", "CONT", "CONT\u2019D", "CONTINUING", "CONTINUED", "MORE"}


def split_heading(heading: str) -> tuple[str, str, str]:
    """(setting, place, time) of a scene heading: "INT. LAMP ROOM - NIGHT" -> (INT, LAMP ROOM, NIGHT)."""
    text = " ".join(heading.split())
    setting = ""
    m = _SETTING.match(text)
    if m:
        prefix = re.sub(r"[\s.]", "", m.group(1)).upper()
        setting = {"EST": "EXT", "I/E": "INT/EXT", "EXT/INT": "INT/EXT"}.get(prefix, prefix)
        text = m.group(2)
    parts = _TIME_SPLIT.split(text)
    if len(parts) >= 2 and parts[-1]:
        return setting, " - ".join(parts[:-1]), parts[-1]
    return setting, text.strip(" -\u2013\u2014"), ""


def split_cue(cue: str) -> tuple[str, tuple[str, ...]]:
    """A character cue's name and extensions: "MARA (V.O.) (CONT'D)" -> ("MARA", ("V.O.", "CONT'D"))."""
    cue = " ".join(cue.split()).rstrip("^ ").lstrip("@")
    m = _EXTENSIONS.match(cue)
    if not m or not m.group(1):
        return cue, ()
    return m.group(1).strip(), tuple(x.strip() for x in re.findall(r"\(([^()]*)\)", m.group(2)) if x.strip())


def extension_words(extensions: tuple[str, ...]) -> list[str]:
    """Each extension, however a reader split it: "V.O.) (CONT'D" is two."""
    out = []
    for e in extensions:
        out += [w.strip(" ()") for w in re.split(r"\)\s*\(", e) if w.strip(" ()")]
    return out


def _spoken(extensions: tuple[str, ...]) -> tuple[bool, bool, list[str]]:
    """(voice over, off screen, other extensions as delivery words) of a cue's extensions."""
    vo = os_ = False
    other = []
    for word in extension_words(extensions):
        keys = {word.upper(), word.upper().replace(" ", "")}
        if keys & VOICE_OVER:
            vo = True
        elif keys & OFF_SCREEN:
            os_ = True
        elif not keys & CONTINUED:
            other.append(word.lower())
    return vo, os_, other


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass
class _Builder:
    """Groups elements into scenes and beats, in one pass over the script in reading order."""

    scenes: list[Scene] = field(default_factory=list)
    head: dict | None = None        # the scene being built
    beats: list[Beat] = field(default_factory=list)
    beat: dict | None = None        # the beat being built
    cue: dict | None = None         # the speech being built
    pending: list[str] = field(default_factory=list)  # comments waiting for the next beat or scene
    headings: int = 0

    def open_beat(self, action: str, line: int, centered: bool = False) -> dict:
        self.close_beat()
        if self.head is None:  # a cold open, before any heading
            self.head = {"label": "0", "heading": "", "setting": "", "place": "", "time": "", "comments": [],
                         "line": line}
        self.beat = {"action": action, "speeches": [], "sound": [], "comments": self.pending,
                     "transition": "", "centered": centered, "line": line}
        self.pending = []
        return self.beat

    def close_speech(self, keep_cue: bool = False) -> None:
        """End the line being spoken; with `keep_cue`, the same character goes on (after a parenthetical)."""
        c = self.cue
        self.cue = None
        if c is None or self.beat is None:
            return
        text = _one_line("".join(c["text"]))
        how = c["how"] + c["parens"] + (["singing"] if c["sung"] else [])
        if keep_cue:
            self.cue = c | {"text": [], "parens": [], "sung": False, "lyric": False}
        if not text:  # a cue with only a parenthetical: what they do, not what they say
            if how and not keep_cue:
                self.beat["comments"].append(f"{c['character']}: ({', '.join(how)})")
            return
        self.beat["speeches"].append(Speech(c["character"], text, ", ".join(how), c["vo"], c["os"], c["dual"],
                                            c["sung"], c["line"]))

    def close_beat(self) -> None:
        self.close_speech()
        b, self.beat = self.beat, None
        if b is None:
            return
        if not b["action"] and not b["speeches"] and not b["sound"]:
            self.pending = b["comments"] + self.pending  # nothing to show: its comments wait for the next
            return
        self.beats.append(Beat(b["action"], tuple(b["speeches"]), " / ".join(b["sound"]), tuple(b["comments"]),
                               b["transition"], b["centered"], b["line"]))

    def close_scene(self) -> None:
        self.close_beat()
        h, self.head = self.head, None
        if h is not None and self.beats:
            self.scenes.append(Scene(h["label"], h["heading"], h["setting"], h["place"], h["time"],
                                     tuple(self.beats), tuple(h["comments"]), h["line"]))
        elif h is not None:  # a heading with nothing under it: say so where the scene would have been
            gone = [f"{h['label']}. {h['heading']} (no action or dialogue)"] if h["heading"] else []
            self.pending = h["comments"] + gone + self.pending
        self.beats = []

    def transition(self, text: str) -> None:
        self.close_speech()
        if self.beat is not None and (self.beat["action"] or self.beat["speeches"] or self.beat["sound"]):
            self.beat["transition"] = text
            return
        self.close_beat()
        if self.beats:
            self.beats[-1] = _with_transition(self.beats[-1], text)
        elif self.head is None and self.scenes:  # after the scene it ends
            last = self.scenes[-1]
            self.scenes[-1] = Scene(last.label, last.heading, last.setting, last.place, last.time,
                                    last.beats[:-1] + (_with_transition(last.beats[-1], text),),
                                    last.comments, last.line)
        else:  # FADE IN: and the like, before anything is shown
            self.pending.append(f"transition: {text}")

    def add(self, e: Element) -> None:
        if e.kind == "heading":
            self.close_scene()
            self.headings += 1
            setting, place, time = split_heading(e.text)
            self.head = {"label": e.number or str(self.headings), "heading": _one_line(e.text),
                         "setting": setting, "place": place, "time": time, "comments": self.pending, "line": e.line}
            self.pending = []
        elif e.kind == "note":  # about what it sits in
            (self.beat["comments"] if self.beat is not None else self.pending).append(f"note: {_one_line(e.text)}")
        elif e.kind in ("section", "synopsis"):  # about what follows
            self.pending.append(f"{e.kind}: {_one_line(e.text)}")
        elif e.kind in ("action", "centered"):
            self.open_beat(_one_line(e.text), e.line, centered=e.kind == "centered")
        elif e.kind == "transition":
            self.transition(_one_line(e.text))
        elif e.kind == "cue":
            self.close_speech()
            if self.beat is None or self.beat["transition"]:  # dialogue after a transition starts a new beat
                self.open_beat("", e.line)
            vo, os_, how = _spoken(e.extensions)
            self.cue = {"character": split_cue(e.text)[0], "vo": vo, "os": os_, "how": how, "dual": e.dual,
                        "line": e.line, "text": [], "parens": [], "sung": False, "lyric": False}
        elif e.kind == "paren" and self.cue is not None:
            if self.cue["text"]:  # a parenthetical inside a speech starts a new line, delivered its way
                self.close_speech(keep_cue=True)
            inner = e.text.strip()
            inner = inner[1:-1] if inner.startswith("(") and inner.endswith(")") else inner
            inner = _one_line(inner.replace("(", " ").replace(")", " "))
            if inner:
                self.cue["parens"].append(inner)
        elif e.kind in ("speech", "lyric") and self.cue is not None:
            lyric = e.kind == "lyric"
            if self.cue["text"]:
                self.cue["text"].append(" / " if lyric and self.cue["lyric"] else " ")
            self.cue["text"].append(e.text)
            self.cue["sung"] = self.cue["sung"] or lyric
            self.cue["lyric"] = lyric
        elif e.kind == "lyric":  # a song nobody on the page sings: the shot's sound
            (self.beat if self.beat is not None else self.open_beat("", e.line))["sound"].append(_one_line(e.text))
        elif e.kind in ("paren", "speech"):  # dialogue without a cue: keep the words as action
            beat = self.beat if self.beat is not None else self.open_beat("", e.line)
            beat["action"] = _one_line(f"{beat['action']} {e.text}")
        else:
            raise ValueError(f"unknown element kind {e.kind!r}")

    def finish(self) -> tuple[tuple[Scene, ...], tuple[str, ...]]:
        self.close_scene()
        return tuple(self.scenes), tuple(self.pending)


def _with_transition(beat: Beat, text: str) -> Beat:
    return Beat(beat.action, beat.speeches, beat.sound, beat.comments, " ".join(text.split()), beat.centered, beat.line)


def build(elements: list[Element], title: str, credits: tuple[str, ...], file: str,
          notes: tuple[str, ...] = ()) -> Screenplay:
    """Scenes and beats from a reader's elements; FormatError when the text is no screenplay."""
    b = _Builder()
    for e in elements:
        b.add(e)
    scenes, trailing = b.finish()
    if not scenes:  # only a title page, notes, headings...: nothing to show or say
        raise FormatError([Diagnostic(file, 1, 1, "this is not a screenplay: it has no action and no dialogue "
                                                  "(a scene is a heading, INT. / EXT. ..., then what happens)")])
    if not b.headings:  # a treatment, all action: one scene, the first
        scenes = tuple(Scene("1", sc.heading, sc.setting, sc.place, sc.time, sc.beats, sc.comments, sc.line)
                       for sc in scenes)
    return Screenplay(title, credits, scenes, notes, trailing)

