"""Screenplay -> a storyboard draft: characters, locations and shots, with comments saying what to fill in.

The rules, in the order the draft applies them:

- A scene heading is a location: INT/EXT, its name and time of day. The same place
  (setting and name) has one id in every scene; a later scene at another time of day
  changes the location's `time` from its first shot on. A script with no heading at all (a
  treatment) is one scene in one placeholder location.
- A character cue is a character, its id slugged from the name, its name as the action spells
  it (else title-cased: TOMÁS is Tomás), described by the words that introduce it where its
  name first stands in capitals. (V.O.) and (O.S.) lines stay marked; (CONT'D) is understood
  and dropped; other extensions become delivery. Dual dialogue starts together (one `at:`).
- An action paragraph and the dialogue after it are one beat, and a beat is one shot,
  split into several when it would last longer than 20 s. Its characters are those who speak
  on screen or are named; a shot that names no one shows who is in the scene so far.
- Framing: the first shot of a scene is an establishing wide; after it, a shot where two or
  more people speak on screen is a medium shot, a shot with one speaker on screen a
  close-up, and a shot with no one speaking on screen a medium shot.
- Duration: the action's words at three a second, then the dialogue as the checks hold a shot
  to it (`timeline.needed_seconds`: speaking pace, dual dialogue counted once, ended before a
  dissolve out), rounded up to half a second, from 2 s (longer than any transition the draft
  writes, so every dissolve fits) to 20 s.
- Scene numbers (#12#, or the scene's place in the script) name the shots: s12_01, s12_02...
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storyboard.errors import UsageError
from storyboard.importers import yamltext
from storyboard.importers.screenplay import Beat, Scene, Screenplay, Speech
from storyboard.model.storyboard import OVERLAPPING
from storyboard.stages.loader import CONTROL
from storyboard.stages.timeline import LEAD, beat, needed_seconds, speech_seconds

MAX_SECONDS = 20.0
MIN_SECONDS = 2.0
ACTION_WORDS_PER_SECOND = 3.0
LINE_GAP = 0.25           # between two lines of dialogue, in splitting a long beat
MAX_PIECE_CHARS = 900     # a dialogue line may hold 1000 characters
MAX_ACTION_CHARS = 3600   # a shot's action may hold 4000
INTRO_WORDS = 16          # the most words a character's introduction gives their description
DUAL_AT_STEP = 0.5        # dual dialogue starts together at a time rounded up to this (`at:`)
PLACEHOLDER = "SOMEWHERE"  # the one place of a script with no scene heading (a treatment)
WRITTEN_TRANSITIONS = ("cut", "dissolve 1s", "fade 1s", "fade-to-black 1s", "wipe-left 1s")  # what transition() gives
NOT_A_TIME = {"CONTINUOUS", "LATER", "MOMENTS LATER", "A MOMENT LATER", "SAME", "SAME TIME", "SIMULTANEOUS",
              "CONTINUED", "CONT'D", "CONTD"}
SETTING_WORDS = {"INT": "interior", "EXT": "exterior", "INT/EXT": "interior and exterior"}
FRAMING_RULE = ("Framing: the first shot of a scene is an establishing wide; then a shot where two or more "
                "people speak on screen is a medium shot, one speaker on screen a close-up, and no speaker "
                "on screen a medium shot.")
SHOT_FIELDS = ("id", "duration", "location", "characters", "camera", "action", "dialogue", "sound", "continuity",
               "changes", "transition", "prompt", "take")


@dataclass
class Entry:
    """A character, location or shot: its fields in order, with the comments that go with it."""

    data: dict[str, Any]
    before: list[str] = field(default_factory=list)    # comment lines above it
    notes: dict[str, str] = field(default_factory=dict)  # field -> end-of-line comment
    prefix: str = ""    # a shot's scene, as its id prefix: s12


@dataclass
class Draft:
    header: list[str]
    top: dict[str, Any]                 # version, title, include, and what else a merged file had
    characters: dict[str, Entry]
    locations: dict[str, Entry]
    shots: list[Entry]
    footer: list[str] = field(default_factory=list)
    scenes: dict[str, str] = field(default_factory=dict)  # every scene of the script: prefix -> heading, in order


# -- ids ----------------------------------------------------------------------------------------

def slug(text: str) -> str:
    """An id from a name: ASCII letters and digits joined by _, lower case; '' if none survive."""
    s = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c) and c not in "'\u2019")
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()[:48].rstrip("_")


def _norm(name: str) -> str:
    return " ".join(name.upper().split())


def _free(base: str, taken: set[str], kind: str) -> str:
    base = base or f"{kind}_1"
    if base[0] == "_" or not base[0].isalnum():
        base = f"{kind}_{base}"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def scene_prefixes(scenes: tuple[Scene, ...]) -> list[str]:
    """Each scene's shot id prefix: s + its number (two digits at least), each one different."""
    out: list[str] = []
    for sc in scenes:
        label = re.sub(r"[^A-Za-z0-9-]", "-", sc.label).strip("-")[:24] or "0"
        label = label.zfill(2) if label.isdigit() else label
        p, n = f"s{label}", 1
        while p in out:
            n += 1
            p = f"s{label}{chr(ord('a') + n - 1) if n <= 26 else n}"
        out.append(p)
    return out


def select(sp: Screenplay, wanted: list[str]) -> list[int]:
    """Indexes of the scenes named by --scene (their number as written, or their place); all when none."""
    if not wanted:
        return list(range(len(sp.scenes)))
    labels = [sc.label.lstrip("0").upper() or "0" for sc in sp.scenes]
    out, unknown = [], []
    for w in wanted:
        key = w.strip().lstrip("0").upper() or "0"
        hits = [i for i, lab in enumerate(labels) if lab == key]
        if not hits:
            unknown.append(w)
        out += [i for i in hits if i not in out]
    if unknown:
        have = ", ".join(sc.label for sc in sp.scenes if sc.heading) or "none"
        raise UsageError(f"no scene {', '.join(unknown)} in the script; its scenes are: {have}")
    return sorted(out)


# -- estimates and splitting -------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?\u2026])\s+|(?<=[\u3002\uff01\uff1f])")
_WORD = re.compile(r"[\w']+")


def action_seconds(text: str) -> float:
    return len(_WORD.findall(text)) / ACTION_WORDS_PER_SECOND


def dialogue_seconds(texts: list[str]) -> float:
    """How long lines take, spoken one after another with a quarter second between (splitting a beat)."""
    return sum(speech_seconds(t) for t in texts) + LINE_GAP * max(0, len(texts) - 1)


def shot_seconds(action: str, texts: list[str], at: dict[int, float] | None = None, overlap: float = 0.0) -> float:
    """The action's words, then the dialogue as the checks and the cut hold a shot to it
    (`timeline.needed_seconds`: placed tight, lines spoken together by their `at:` counted once, and
    ended before the dissolve or wipe out, `overlap` seconds)."""
    at = at or {}
    dialogue = needed_seconds([beat(t, at.get(k)) for k, t in enumerate(texts)], overlap) if texts else 0.0
    need = action_seconds(action) + dialogue
    return min(MAX_SECONDS, max(MIN_SECONDS, math.ceil(need * 2 - 1e-9) / 2))


def _dual_starts(speeches: list[Speech]) -> dict[int, float]:
    """Dual dialogue is spoken at once: the `at:` of each of its lines (the time the first would start,
    after the lines before it, rounded up), and of the line after them, which waits for the longer."""
    dual = [k for k, s in enumerate(speeches) if s.dual]
    if len({speeches[k].character for k in dual}) < 2:
        return {}
    before = [speeches[k].text for k in range(dual[0])]
    start = LEAD + dialogue_seconds(before) + (LINE_GAP if before else 0.0)
    at = max(DUAL_AT_STEP, math.ceil(start / DUAL_AT_STEP - 1e-9) * DUAL_AT_STEP)
    out = {k: at for k in dual}
    after = dual[-1] + 1
    if after < len(speeches):
        end = at + max(speech_seconds(speeches[k].text) for k in dual) + LINE_GAP
        out[after] = math.ceil(end / DUAL_AT_STEP - 1e-9) * DUAL_AT_STEP
    return out


def _pieces(text: str, fits: Callable[[str], bool], level: int = 0) -> list[str]:
    """`text` cut at sentence ends, else between words, else anywhere, into pieces that each fit."""
    if fits(text) or level > 2:
        return [text]
    split, glue = ((lambda t: [s for s in _SENTENCE.split(t) if s], " "), (str.split, " "), (list, ""))[level]
    parts = split(text)
    if len(parts) <= 1:
        return _pieces(text, fits, level + 1)
    out: list[str] = []
    cur = ""
    for part in parts:
        joined = f"{cur}{glue}{part}" if cur else part
        if fits(joined):
            cur = joined
            continue
        if cur:
            out.append(cur)
        cur = ""
        if fits(part):
            cur = part
        else:
            out += _pieces(part, fits, level + 1)
    return out + ([cur] if cur else [])


def _speech_fits(t: str) -> bool:
    return speech_seconds(t) + LINE_GAP <= MAX_SECONDS and len(t) <= MAX_PIECE_CHARS


def _action_fits(t: str) -> bool:
    return action_seconds(t) <= MAX_SECONDS and len(t) <= MAX_PIECE_CHARS


@dataclass(frozen=True)
class _Unit:
    action: str = ""
    speech: Speech | None = None

    @property
    def seconds(self) -> float:
        return speech_seconds(self.speech.text) + LINE_GAP if self.speech else action_seconds(self.action)


def _units(beat: Beat) -> list[_Unit]:
    units = [_Unit(action=p) for p in _pieces(beat.action, _action_fits)] if beat.action else []
    for sp in beat.speeches:
        for i, text in enumerate(_pieces(sp.text, _speech_fits)):
            units.append(_Unit(speech=Speech(sp.character, text, sp.delivery if i == 0 else "", sp.voice_over,
                                             sp.off_screen, sp.dual, sp.sung, sp.line)))
    return units


def split_beat(beat: Beat) -> list[list[_Unit]]:
    """The beat's action and lines in groups of at most 20 s, about equal in length."""
    units = _units(beat)
    total = sum(u.seconds for u in units)
    target = total / max(1, math.ceil(total / MAX_SECONDS))
    groups: list[list[_Unit]] = [[]]
    secs = chars = 0.0
    for u in units:
        over = secs + u.seconds > MAX_SECONDS or (u.action and chars + len(u.action) > MAX_ACTION_CHARS)
        if groups[-1] and (over or secs >= target - 1e-9):
            groups.append([])
            secs = chars = 0.0
        groups[-1].append(u)
        secs += u.seconds
        chars += len(u.action)
    return [g for g in groups if g]


# -- transitions ----------------------------------------------------------------------------------

def transition(text: str) -> tuple[str | None, str]:
    """The storyboard transition for a script's (CUT TO:, DISSOLVE TO:, FADE OUT.) and a comment if it is a guess."""
    t = " ".join(re.sub(r"[^A-Z ]", " ", text.upper()).split())
    if not t:
        return None, ""
    if t in ("FADE IN", "FADE UP"):
        return None, ""
    if "DISSOLVE" in t:
        return "dissolve 1s", ""
    if "WIPE" in t:
        return "wipe-left 1s", ""
    if t.startswith(("FADE OUT", "FADE TO BLACK", "CUT TO BLACK", "SMASH TO BLACK")):
        return "fade-to-black 1s", ""
    if t.startswith("FADE"):
        return "fade 1s", ""
    if "CUT" in t:
        return "cut", ""
    return "cut", f"the script says {text!r}; the storyboard has cut, dissolve, fade, fade-to-black and wipe-left"


# -- the draft ----------------------------------------------------------------------------------

class _Cast:
    """Script names -> character ids: reused from a bible or the merged file, else slugged."""

    def __init__(self, known: dict[str, dict], taken: set[str]):
        self.known = {_norm(str(v.get("name") or "")): k for k, v in known.items() if isinstance(v, dict) and v.get("name")}
        self.known_ids = set(known)
        self.taken = taken
        self.ids: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def id(self, name: str) -> str:
        key = _norm(name)
        if key not in self.ids:
            s = slug(name)
            if key in self.known:
                cid = self.known[key]
            elif s and s in self.known_ids:
                cid = s
            else:
                cid = _free(s, self.taken, "character")
            self.ids[key] = cid
            self.names[key] = name
        return self.ids[key]


def _mentions(name: str, text: str) -> bool:
    if any(ord(c) > 0x2E80 for c in name):
        return name.upper() in text.upper()
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I) is not None


_APPOSITIVE_BEFORE = re.compile(r"^.*(?:^|[\s,;:])((?:an?|the)\s+[^,;:.!?()\[\]]{1,60}),\s*$", re.I | re.S)
_CLAUSE_END = re.compile(r"[.;:!?\u2014]|\s[-\u2013]+\s")


def _introduction(name: str, sentences: list[str]) -> str:
    """How the script introduces a character, as a screenwriter does at their name's first appearance in
    capitals: the words around it that say who they are, not the sentence. "At the stern an old deckhand,
    WES (70s, oilskin cap), coils a rope." -> "an old deckhand, 70s, oilskin cap"; "IRIS, 40s, sharp-eyed,
    follows." -> "40s, sharp-eyed"; "MARA climbs." -> '' (the name alone says nothing)."""
    if name.upper() == name.lower():  # a script without case (李明) has no introduction in capitals
        return ""
    caps = re.compile(rf"(?<!\w){re.escape(name.upper())}(?!\w)")
    m, sentence = next(((m, s) for s in sentences if (m := caps.search(s))), (None, ""))
    if m is None:
        return ""
    before, after = sentence[:m.start()], sentence[m.end():].lstrip()
    parts: list[str] = []
    if a := _APPOSITIVE_BEFORE.match(before):  # "a tired woman, IRIS"
        parts.append(a.group(1))
    if after.startswith("("):  # "JUNO (30s, a paramedic)"
        inner = after[1:after.find(")")] if ")" in after else ""
        parts.append(inner)
    elif after.startswith(","):  # "IRIS, 40s, sharp-eyed, follows": the phrases closed by a comma
        segments = [x.strip() for x in _CLAUSE_END.split(after[1:], maxsplit=1)[0].split(",")]
        parts += segments[:-1] if len(segments) > 1 else segments
    words = ", ".join(" ".join(p.split()) for p in parts if p.strip()).split()
    return " ".join(words[:INTRO_WORDS]).rstrip(",;")


def title_name(name: str) -> str:
    """A name written all in capitals, as a name is written: TOMÁS -> Tomás, O'BRIEN -> O'Brien,
    JEAN-LUC -> Jean-Luc, MCCLANE -> McClane. A name with any lower case (McCLANE) is the writer's
    spelling and stays; so does one in a script without case (李明)."""
    if name != name.upper() or name == name.lower():
        return name
    out = []
    last = 0
    for m in re.finditer(r"[^\W\d_]+", name):
        w = m.group(0)
        glue = name[last:m.start()]
        prev = out[-1] if out else ""
        if glue in ("'", "\u2019") and len(prev) > 1:  # KEEPER'S -> Keeper's, but O'BRIEN -> O'Brien
            word = w.lower()
        elif len(w) > 3 and w.startswith("MC"):
            word = "Mc" + w[2] + w[3:].lower()
        else:
            word = w[0] + w[1:].lower()
        out += [glue, word]
        last = m.end()
    return "".join(out) + name[last:]


def _spelling(name: str, actions: list[str]) -> str:
    """The name as the action spells it, capitalised but not in capitals (Mara for MARA), else as on the
    cue, title-cased when the cue is in capitals (a cue always is)."""
    for a in actions:
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", a, re.I):
            if m.group(0) != m.group(0).upper() and m.group(0)[0].isupper():
                return m.group(0)
    return title_name(name)


def _line_text(sp: Speech) -> str:
    marks = "(V.O.) " if sp.voice_over else ("(O.S.) " if sp.off_screen else "")
    how = f"({sp.delivery}) " if sp.delivery else ""
    return f"{marks}{how}{sp.text}"


def _scene_title(sc: Scene, treatment: bool = False) -> str:
    if treatment:
        return "the script has no scene heading: its shots are in one place, to fill in"
    return f"{sc.label}. {sc.heading}" if sc.heading else "before the first scene heading"


def known_setting(lid: str, data: dict) -> str:
    """The setting (INT, EXT, INT/EXT) a known location's id or imported description gives, '' if neither
    does (the user's own words): diner_ext is EXT, "Diner, interior" is INT."""
    description = " ".join(str(data.get("description") or "").split()).lower()
    for setting in sorted(SETTING_WORDS, key=len, reverse=True):  # INT/EXT before EXT
        if lid.endswith("_" + slug(setting)) or description.endswith(", " + SETTING_WORDS[setting]):
            return setting
    return ""


def _time(sc: Scene) -> str:
    """The time of day the heading gives, '' for none or for CONTINUOUS, LATER..."""
    return "" if _norm(sc.time) in NOT_A_TIME else sc.time.lower()


class _Drafter:
    """The state of one import: the ids given so far and each location's current time of day."""

    def __init__(self, sp: Screenplay, chosen: list[int], known_characters: dict[str, dict],
                 known_locations: dict[str, dict], elsewhere: set[str]):
        self.elsewhere = elsewhere
        self.known_locations = known_locations
        self.taken: set[str] = set(known_characters) | set(known_locations)
        self.cast = _Cast(known_characters, self.taken)
        self.actions = [b.action for i in chosen for b in sp.scenes[i].beats if b.action]
        for i in chosen:  # every speaker first, in order of appearance: ids stay put and anyone can be seen early
            for b in sp.scenes[i].beats:
                for s in b.speeches:
                    self.cast.id(s.character)
        self.names = {cid: self.cast.names[key] for key, cid in self.cast.ids.items()}
        self.names |= {k: str(v.get("name") or k) for k, v in known_characters.items() if k not in self.names}
        self.locations: dict[str, Entry] = {}
        self.place_ids: dict[tuple[str, str], str] = {}
        self.known_places: dict[str, list[str]] = {}  # a name -> the known locations of that name
        for k, v in known_locations.items():
            if v.get("name"):
                self.known_places.setdefault(_norm(str(v["name"])), []).append(k)
        self.known_settings = {k: known_setting(k, v) for k, v in known_locations.items()}
        self.time = {k: str(v.get("time") or "") for k, v in known_locations.items()}
        self.treatment = not any(sc.heading for sc in sp.scenes)

    def location(self, sc: Scene) -> str | None:
        """The id of a scene's place: the same setting and name, the same id. A known location (a
        bible's, the merged storyboard's) of that name is reused when its setting is the scene's or
        unknown; INT. and EXT. of one name are two places, never swapped."""
        if not sc.place and not self.treatment:
            return None
        place = sc.place or PLACEHOLDER
        key = (sc.setting, _norm(place))
        if key in self.place_ids:
            return self.place_ids[key]
        s, used = slug(place), set(self.place_ids.values())
        with_setting = slug(f"{place} {sc.setting}") if sc.setting else s
        named = [k for k in self.known_places.get(_norm(place), []) if k not in used]
        fits = [k for k in named if self.known_settings[k] == sc.setting] or \
            ([with_setting] if with_setting in self.known_locations and with_setting not in used else []) or \
            [k for k in named if not self.known_settings[k]] or \
            ([s] if s in self.known_locations and s not in used and self.known_settings[s] in ("", sc.setting) else [])
        if fits:
            lid = fits[0]
        else:  # INT. and EXT. of one name are two places: the second gets its setting in its id
            lid = _free(s if s not in used and s not in self.known_locations else with_setting, self.taken, "location")
        if lid not in self.elsewhere:
            where = SETTING_WORDS.get(sc.setting, "")
            words = _pieces(place[:1].upper() + place[1:].lower(), lambda t: len(t) <= MAX_PIECE_CHARS)[0]
            data = {"name": place, "description": words + (f", {where}" if where else "")}
            if _time(sc):
                data["time"] = _time(sc)
            self.time.setdefault(lid, _time(sc))
            what = ("fill in: the script has no scene heading; where this happens and what it looks like"
                    if not sc.place else "fill in: what the place looks like")
            self.locations[lid] = Entry(data, notes={"description": f"{what}; every shot here uses these words"})
        self.place_ids[key] = lid
        return lid

    def scene(self, sc: Scene, prefix: str) -> list[Entry]:
        """The shots of one scene: a beat each, or several for a long beat."""
        lid = self.location(sc)
        changes = None
        if lid and _time(sc) and self.time.get(lid) != _time(sc):  # the place at another time of day, from here on
            changes = {lid: {"time": _time(sc)}}
            self.time[lid] = _time(sc)
        shots: list[Entry] = []
        present: list[str] = []  # who has been on screen in the scene so far
        for beat in sc.beats:
            groups = split_beat(beat)
            for g, group in enumerate(groups):
                entry = self.shot(beat, group, first_of_beat=g == 0, last_of_beat=g == len(groups) - 1,
                                  shot_id=f"{prefix}_{len(shots) + 1:02d}", lid=lid, present=present,
                                  establishing=not shots, changes=None if shots else changes)
                entry.prefix = prefix
                if not shots:
                    entry.before[:0] = [*sc.comments, _scene_title(sc, self.treatment)]
                shots.append(entry)
        return shots

    def shot(self, beat: Beat, group: list[_Unit], *, first_of_beat: bool, last_of_beat: bool, shot_id: str,
             lid: str | None, present: list[str], establishing: bool, changes: dict | None) -> Entry:
        speeches = [u.speech for u in group if u.speech]
        action = " ".join(u.action for u in group if u.action)
        if first_of_beat and beat.centered:
            action = f"Title card: {action}"
        elif not first_of_beat and action:
            action = f"(continued) {action}"
        seen = [self.cast.id(s.character) for s in speeches if not (s.voice_over or s.off_screen)]
        on_screen = list(dict.fromkeys(seen + [cid for cid, name in self.names.items() if action and _mentions(name, action)]))
        inherited = not on_screen and bool(action) and not beat.centered and bool(present)
        if inherited:  # "They glare at each other.": whoever is in the scene
            on_screen = list(present)
        present += [c for c in on_screen if c not in present]
        framing = "wide" if establishing else "close-up" if len(set(seen)) == 1 else "medium"
        together = _dual_starts(speeches)
        out, why = transition(beat.transition) if last_of_beat and beat.transition else (None, "")
        overlap = float(out.split()[1].rstrip("s")) if out and out.split()[0] in OVERLAPPING else 0.0
        data: dict[str, Any] = {"id": shot_id,
                                "duration": shot_seconds(action, [s.text for s in speeches], together, overlap)}
        if lid:
            data["location"] = lid
        if on_screen:
            data["characters"] = on_screen
        data["camera"] = {"framing": framing}
        if action:
            data["action"] = action
        if speeches:
            data["dialogue"] = [{self.cast.id(s.character): _line_text(s), **({"at": together[k]} if k in together else {})}
                                for k, s in enumerate(speeches)]
        if first_of_beat and beat.sound:
            data["sound"] = f"singing: {beat.sound}"
        if changes:
            data["changes"] = changes
        entry = Entry(data, before=list(beat.comments) if first_of_beat else [])
        if inherited:
            entry.notes["characters"] = "the action names no one: who is in the scene"
        if establishing:
            entry.notes["camera"] = "establishing shot; add angle, move and lens as you see it"
        duals = [(k + 1, s.character) for k, s in enumerate(speeches) if s.dual]
        if len({name for _, name in duals}) > 1:
            lines = [str(k) for k, _ in duals]
            names = " and ".join(dict.fromkeys(name for _, name in duals))
            entry.before.append(f"dual dialogue: lines {', '.join(lines[:-1])} and {lines[-1]} ({names}) "
                                "are spoken at the same time")
        if last_of_beat and beat.transition:
            if out:
                data["transition"] = out
            if why:
                entry.notes["transition"] = why
            elif not out:
                entry.before.append(f"transition: {beat.transition}")
        return entry

    def characters(self) -> dict[str, Entry]:
        """A definition for each new character: their name, and the sentence that introduces them if any."""
        sentences = [s for a in self.actions for s in _SENTENCE.split(a) if s]
        out: dict[str, Entry] = {}
        for key, cid in self.cast.ids.items():
            if cid in self.elsewhere:
                continue
            name = self.cast.names[key]
            intro = _introduction(name, sentences)
            note = "fill in: who they are and how they look; every shot with them uses these words"
            out[cid] = Entry({"name": _spelling(name, self.actions), "description": intro or _spelling(name, self.actions)},
                             notes={"description": note + (" (this is where the script introduces them)" if intro else "")})
        return out


def build(sp: Screenplay, source: str, *, known_characters: dict[str, dict] | None = None,
          known_locations: dict[str, dict] | None = None, elsewhere: set[str] | None = None,
          include: list[str] | None = None, scenes: list[str] | None = None) -> Draft:
    """The draft of `sp` (only the `scenes` asked for).

    Known characters and locations (a bible's, or the storyboard being merged into) keep their
    ids, matched by name or by id; those in `elsewhere` (default: all known) are not defined again.
    """
    sp = printable(sp)
    known_characters = {k: v for k, v in (known_characters or {}).items() if isinstance(v, dict)}
    known_locations = {k: v for k, v in (known_locations or {}).items() if isinstance(v, dict)}
    elsewhere = set(known_characters) | set(known_locations) if elsewhere is None else elsewhere
    prefixes = scene_prefixes(sp.scenes)
    chosen = select(sp, scenes or [])
    d = _Drafter(sp, chosen, known_characters, known_locations, elsewhere)
    shots = [shot for i in chosen for shot in d.scene(sp.scenes[i], prefixes[i])]
    header = [f"A storyboard draft{f' of {sp.title}' if sp.title else ''}, imported from {source} by storyboard import.",
              "Fill in what the comments mark 'fill in': how the characters and places look, then the camera.",
              FRAMING_RULE,
              "Durations are estimated from the words: dialogue at speaking pace, action at three words a second."]
    header += [f"title page: {c}" for c in sp.credits] + [f"script note: {n}" for n in sp.notes]
    top: dict[str, Any] = {"version": 1}
    if sp.title:
        top["title"] = sp.title
    if include:
        top["include"] = list(include)
    return Draft(header, top, d.characters(), d.locations, shots, footer=list(sp.trailing),
                 scenes={p: _scene_title(sc, d.treatment) for p, sc in zip(prefixes, sp.scenes, strict=True)})


def printable(value: Any) -> Any:
    """The script with control characters dropped from every text (a storyboard may not hold them;
    they come from a bad copy and paste, not from the writer)."""
    import dataclasses
    if isinstance(value, str):
        return CONTROL.sub("", value)
    if isinstance(value, tuple):
        return tuple(printable(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: printable(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.init})
    return value


# -- text ---------------------------------------------------------------------------------------

def render(d: Draft) -> str:
    """The draft as YAML text."""
    lines = [f"# {yamltext.comment(h)}" for h in d.header]
    for k, v in d.top.items():
        lines += yamltext.entry(k, v, 0)
    if "style" not in d.top:
        lines.append('# style: "the look of the whole film, said once"   (fill in, then remove the #)')
    for section, entries in (("characters", d.characters), ("locations", d.locations)):
        if not entries:
            continue
        lines += ["", f"{section}:"]
        for key, e in entries.items():
            lines += [f"  # {yamltext.comment(c)}" for c in e.before]
            lines.append(f"  {yamltext.scalar(key)}:")
            for k, v in e.data.items():
                lines += yamltext.entry(k, v, 4, e.notes.get(k, ""))
    lines += ["", "shots:"]
    for e in d.shots:
        lines.append("")
        lines += [f"  # {yamltext.comment(c)}" for c in e.before]
        body: list[str] = []
        for k, v in e.data.items():
            body += yamltext.entry(k, v, 4, e.notes.get(k, ""))
        lines.append("  - " + body[0][4:])
        lines += body[1:]
    if d.footer:
        lines.append("")
        lines += [f"# {yamltext.comment(c)}" for c in d.footer]
    return "\n".join(lines) + "\n"
