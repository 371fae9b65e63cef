"""Re-import a changed script into a storyboard the user has edited, keeping their edits.

Shots are matched by their words (action and dialogue), not their ids, so a beat added early
in the script does not shift every later shot onto someone else's edits: identical shots pair
up first (difflib), then, between them, shots whose words are still mostly the same. A matched
shot keeps its id and everything the user set (camera, duration, prompt, continuity, take,
characters...), and takes from the script what the script says: location, action, dialogue,
and the transition, sound and changes when the script has them. What the importer writes and
the script no longer says goes with it (a FADE OUT that moved to a new scene, a heading's time of
day); a transition, sound or change of the user's own stays. Script shots with no match are
added; old shots with no match are removed if their id is the importer's (s03_02), kept if the
user named them. Character and location definitions are the user's; new ones are added, and
the comments at the end of their lines (the import's "fill in", or the user's own) stay.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from storyboard.importers.draft import SHOT_FIELDS, WRITTEN_TRANSITIONS, Draft, Entry
from storyboard.stages.yamlsrc import Source

GENERATED = re.compile(r"^(s[A-Za-z0-9-]+)_(\d+)$")
FROM_SCRIPT = ("location", "action", "dialogue")
FROM_SCRIPT_WHEN_SAID = ("transition", "sound", "changes")
USER_EDITS = ("camera", "duration", "prompt")
SIMILAR = 0.6  # difflib ratio of two shots' words above which they are the same shot, reworded


@dataclass(frozen=True)
class Change:
    scene: str      # the scene it belongs to, as "12. INT. LAMP ROOM - NIGHT"
    subject: str    # a shot id, or "character mara"
    what: str       # added | removed | updated | kept
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.what} {self.subject}" + (f": {self.detail}" if self.detail else "")


def _words(data: dict) -> str:
    said = [str(v) for line in data.get("dialogue") or [] if isinstance(line, dict) for v in line.values()]
    return " ".join(" ".join([str(data.get("action") or ""), *said]).lower().split())


def _snippet(data: dict) -> str:
    w = " ".join(str(data.get("action") or "").split()) or _words(data)
    return w if len(w) <= 60 else w[:57] + "..."


def _align(old: list[dict], new: list[Entry]) -> list[tuple[int | None, int | None]]:
    """(old index, new index) pairs in the merged order; None on the side that has no match."""
    a, b = [_words(o) for o in old], [_words(n.data) for n in new]
    out: list[tuple[int | None, int | None]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out += list(zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        i = i1
        for j in range(j1, j2):
            best, score = None, SIMILAR
            for k in range(i, i2):
                m = difflib.SequenceMatcher(None, a[k], b[j], autojunk=False)
                if m.real_quick_ratio() >= score and m.quick_ratio() >= score and (r := m.ratio()) >= score:
                    best, score = k, r
            if best is None:
                out.append((None, j))
                continue
            out += [(k, None) for k in range(i, best)] + [(best, j)]
            i = best + 1
        out += [(k, None) for k in range(i, i2)]
    return out


def _merged_shot(o: dict, n: Entry) -> tuple[Entry, list[str], list[str]]:
    """The old shot updated from the script: (entry, what the script changed, which user edits were kept)."""
    data: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for k in list(dict.fromkeys([*SHOT_FIELDS, *o, *n.data])):
        if k == "id":
            v = o["id"]
        elif k in FROM_SCRIPT:
            v = n.data.get(k)
        elif k in FROM_SCRIPT_WHEN_SAID:
            v = _from_script(k, o.get(k), n.data.get(k))
        elif k == "characters" and k in o:  # the user's cast of the shot, plus whoever now speaks on screen
            v = list(dict.fromkeys([*o[k], *(c for c in n.data.get(k) or [] if _speaks(n, c))]))
        else:
            v = o[k] if k in o else n.data.get(k)
        if v is not None:
            data[k] = v
            if k in n.notes and v == n.data.get(k):  # a comment for what the import wrote and the user left
                notes[k] = n.notes[k]
    changed = [k for k in (*FROM_SCRIPT, *FROM_SCRIPT_WHEN_SAID, "characters") if o.get(k) != data.get(k)]
    kept = [k for k in USER_EDITS if k in o and o[k] != n.data.get(k)]
    return Entry(data, list(n.before), notes, n.prefix), changed, kept


def _from_script(k: str, old: Any, new: Any) -> Any:
    """A transition, sound or changes: what the script says now, and of the old value only what the
    user wrote (what the importer writes is the script's, and goes when the script stops saying it)."""
    if k == "changes":  # a heading's time of day is the script's; every other change is the user's
        mine = {key: {f: x for f, x in c.items() if f != "time"} if isinstance(c, dict) else c
                for key, c in (old or {}).items()} if isinstance(old, dict) else old
        if not isinstance(mine, dict):
            return new if new is not None else mine
        out = {key: c for key, c in mine.items() if c != {}}
        for key, c in (new or {}).items():
            out[key] = {**out[key], **c} if isinstance(out.get(key), dict) else c
        return out or None
    if new is not None:
        return new
    imported = (k == "transition" and old in WRITTEN_TRANSITIONS) or \
        (k == "sound" and isinstance(old, str) and old.startswith("singing: "))
    return None if imported else old


def end_comments(text: str, src: Source) -> dict[tuple[str, str], dict[str, str]]:
    """The comment at the end of each one-line field of the characters and locations, as the file has it:
    (section, id) -> field -> comment text."""
    lines = text.splitlines()
    out: dict[tuple[str, str], dict[str, str]] = {}
    for path, (line, col) in src.values.items():
        if len(path) == 3 and path[0] in ("characters", "locations") and 0 < line <= len(lines):
            note = _comment_after(lines[line - 1], col - 1)
            if note:
                out.setdefault((str(path[0]), str(path[1])), {})[str(path[2])] = note
    return out


def _comment_after(line: str, start: int) -> str:
    """The text of the `# comment` after the scalar that starts at `start` on `line`, if it ends there."""
    quote = line[start:start + 1]
    if quote in ('"', "'"):
        i = start + 1
        while i < len(line):
            if quote == '"' and line[i] == "\\":
                i += 2
                continue
            if line[i] == quote:
                if quote == "'" and line[i + 1:i + 2] == "'":
                    i += 2
                    continue
                break
            i += 1
        else:
            return ""  # the string goes on to the next line
        rest = line[i + 1:]
    elif quote in ("[", "{", "|", ">", ""):
        return ""
    else:
        m = re.search(r"\s#", line[start:])
        rest = line[start + m.start():] if m else ""
    m = re.match(r"\s+#\s?(.*)$", rest)
    return m.group(1).rstrip() if m else ""


def _speaks(n: Entry, cid: str) -> bool:
    return any(cid in line and not str(line[cid]).lstrip().upper().startswith(("(V.O.)", "(O.S.)"))
               for line in n.data.get("dialogue") or [] if isinstance(line, dict))


def _next_id(wanted: str, taken: set[str]) -> str:
    if wanted not in taken:
        return wanted
    m = GENERATED.match(wanted)
    prefix, width = (m.group(1), len(m.group(2))) if m else (wanted, 2)
    nums = [int(g.group(2)) for t in taken if (g := GENERATED.match(t)) and g.group(1) == prefix]
    n = max(nums, default=0) + 1
    while f"{prefix}_{n:0{width}d}" in taken:
        n += 1
    return f"{prefix}_{n:0{width}d}"


def merge(old: dict, new: Draft, only: set[str] | None = None,
          comments: dict[tuple[str, str], dict[str, str]] | None = None) -> tuple[Draft, list[Change]]:
    """`new` (a fresh import) merged into `old` (the storyboard's data as the user left it).

    With `only` (scene prefixes, from --scene), just those scenes' shots are merged; every
    other shot stays as it is. `comments` are the old file's end-of-line comments on its
    definitions (`end_comments`): they stay.
    """
    old_shots: list[dict] = [s for s in old.get("shots") or [] if isinstance(s, dict)]
    taken = {str(s.get("id")) for s in old_shots}
    changes: list[Change] = []

    def scene_of(data: dict, entry: Entry | None = None) -> str:
        prefix = entry.prefix if entry else (m.group(1) if (m := GENERATED.match(str(data.get("id")))) else "")
        return new.scenes.get(prefix, f"scene {prefix[1:]}" if prefix else "shots of your own")

    def merged_group(olds: list[int], news: list[Entry]) -> list[Entry]:
        out: list[Entry] = []
        for i, j in _align([old_shots[k] for k in olds], news):
            if i is not None and j is not None:
                o, n = old_shots[olds[i]], news[j]
                entry, changed, kept = _merged_shot(o, n)
                out.append(entry)
                if changed:
                    detail = ", ".join(changed) + " from the script"
                    if kept:
                        detail += "; kept your " + ", ".join(kept)
                    need, have = n.data.get("duration"), o.get("duration")
                    if "duration" in kept and isinstance(need, (int, float)) and isinstance(have, (int, float)) and need > have:
                        detail += f"; the words now need about {need:g}s, the shot lasts {have:g}s"
                    changes.append(Change(scene_of(o, n), str(o["id"]), "updated", detail))
            elif j is not None:
                n = news[j]
                data = dict(n.data)
                data["id"] = _next_id(str(n.data["id"]), taken)
                taken.add(data["id"])
                out.append(Entry(data, list(n.before), dict(n.notes), n.prefix))
                changes.append(Change(scene_of(data, n), data["id"], "added", f"{data['duration']:g}s, {_snippet(data)}"))
            else:
                o = old_shots[olds[i]]
                if GENERATED.match(str(o.get("id"))):
                    changes.append(Change(scene_of(o), str(o["id"]), "removed", _snippet(o)))
                else:
                    out.append(Entry(dict(o)))
        return out

    if only is None:
        shots = merged_group(list(range(len(old_shots))), new.shots)
    else:
        shots = _merge_scenes(old_shots, new, only, merged_group)

    characters = _definitions(old.get("characters"), new.characters, "character", changes, comments or {})
    locations = _definitions(old.get("locations"), new.locations, "location", changes, comments or {})
    top = {k: v for k, v in old.items() if k not in ("characters", "locations", "shots")}
    if "title" not in top and "title" in new.top:
        top["title"] = new.top["title"]
    for inc in new.top.get("include", []):
        includes = top.get("include")
        includes = [includes] if isinstance(includes, str) else list(includes or [])
        if inc not in includes:
            top["include"] = includes + [inc]
    top = {"version": top.pop("version", 1), **top}
    return Draft(new.header, top, characters, locations, shots, new.footer, new.scenes), changes


def _merge_scenes(old_shots: list[dict], new: Draft, only: set[str], merged_group) -> list[Entry]:
    """Merge only the scenes in `only`, each where its old shots stood (or after the scene before it)."""
    def prefix(data: dict) -> str:
        m = GENERATED.match(str(data.get("id")))
        return m.group(1) if m else ""

    order = list(new.scenes)
    slots: list[Entry | str] = []  # old shots, and placeholders where a merged scene goes
    placed: set[str] = set()
    for o in old_shots:
        p = prefix(o)
        if p in only:
            if p not in placed:
                slots.append(p)
                placed.add(p)
        else:
            slots.append(Entry(dict(o)))
    for p in (p for p in order if p in only and p not in placed):
        earlier = set(order[:order.index(p)])
        at = max((k + 1 for k, s in enumerate(slots)
                  if (s in earlier if isinstance(s, str) else prefix(s.data) in earlier)), default=len(slots))
        slots.insert(at, p)
        placed.add(p)
    out: list[Entry] = []
    for s in slots:
        if isinstance(s, str):
            olds = [k for k, o in enumerate(old_shots) if prefix(o) == s]
            out += merged_group(olds, [e for e in new.shots if e.prefix == s])
        else:
            out.append(s)
    return out


def _definitions(old: Any, new: dict[str, Entry], kind: str, changes: list[Change],
                 comments: dict[tuple[str, str], dict[str, str]]) -> dict[str, Entry]:
    section = f"{kind}s"
    out = {str(k): Entry(dict(v) if isinstance(v, dict) else v, notes=dict(comments.get((section, str(k)), {})))
           for k, v in (old or {}).items()}
    for k, e in new.items():
        if k not in out:
            out[k] = e
            changes.append(Change("", f"{kind} {k}", "added", str(e.data.get("name", ""))))
        else:  # still as imported: the comment saying to fill it in still holds (unless the user took it out)
            out[k].notes = {f: note for f, note in e.notes.items() if out[k].data.get(f) == e.data.get(f)} | out[k].notes
    return out
