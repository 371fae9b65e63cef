"""The review sidecar beside a storyboard (`keeper.yaml` -> `keeper.review.yaml`): per shot a status
(todo, approved, retake) and notes (text, author, time). Plain YAML, one shot a block in the
storyboard's order, so it diffs and merges like the storyboard itself; the storyboard is never
touched. Shots the storyboard no longer has keep their block (a renamed shot is not silently lost)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from storyboard.errors import Diagnostic, FormatError, UsageError
from storyboard.store.files import atomic_write_text

STATUSES = ("todo", "approved", "retake")
SUFFIX = ".review.yaml"
MAX_NOTE = 4000  # characters: a note, not a document
HEADER = ("# Review notes and approvals for {name}, kept by `storyboard serve`.\n"
          "# Plain YAML: edit, diff and merge it like the storyboard. status: todo | approved | retake\n")


@dataclass(frozen=True)
class Note:
    text: str
    author: str
    time: str  # ISO 8601, UTC: 2026-12-06T22:15:03Z


@dataclass(frozen=True)
class ShotReview:
    status: str = "todo"
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Reviews:
    """Every shot's review, by shot id (a shot with none is `todo` without notes)."""

    path: Path
    shots: dict[str, ShotReview] = field(default_factory=dict)

    def of(self, shot_id: str) -> ShotReview:
        return self.shots.get(shot_id, ShotReview())

    def with_status(self, shot_id: str, status: str) -> Reviews:
        if status not in STATUSES:
            raise UsageError(f"a shot's review status is one of {', '.join(STATUSES)}, not {status!r}")
        return replace(self, shots={**self.shots, shot_id: replace(self.of(shot_id), status=status)})

    def with_note(self, shot_id: str, text: str, author: str, when: float | None = None) -> Reviews:
        text, author = text.strip(), " ".join(author.split())
        if not text:
            raise UsageError("a note needs some text")
        if len(text) > MAX_NOTE:
            raise UsageError(f"a note is at most {MAX_NOTE} characters; this one has {len(text)}")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if when is None else when))
        mine = self.of(shot_id)
        return replace(self, shots={**self.shots, shot_id: replace(
            mine, notes=(*mine.notes, Note(text, author or "anonymous", stamp)))})

    def select(self, shot_ids: Iterable[str], status: str) -> list[str]:
        """The shots (of `shot_ids`, in that order) whose status is `status`."""
        if status not in STATUSES:
            raise UsageError(f"--status is one of {', '.join(STATUSES)}, not {status!r}")
        return [sid for sid in shot_ids if self.of(sid).status == status]


def sidecar(storyboard: Path) -> Path:
    """Where a storyboard's reviews live: beside it, `NAME.review.yaml`."""
    storyboard = Path(storyboard)
    return storyboard.with_name(storyboard.stem + SUFFIX)


def load(storyboard: Path) -> Reviews:
    """The reviews of a storyboard; none when its sidecar does not exist. A sidecar that is not
    what this module writes is a FormatError naming the file, line and field."""
    path = sidecar(storyboard)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return Reviews(path)
    except OSError as e:
        raise FormatError([Diagnostic(str(path), 1, 1, f"cannot read: {e.strerror}")]) from None
    return parse(text, path)


def parse(text: str, path: Path) -> Reviews:
    from storyboard.stages.yamlsrc import read_yaml
    src = read_yaml(text, str(path))  # safe, positioned, YAML 1.2 scalars: a time stays a string
    problems: list[Diagnostic] = []

    def bad(loc: tuple, message: str) -> None:
        problems.append(Diagnostic.at(str(path), src.pos(loc), message))

    data = src.data or {}
    shots: dict[str, ShotReview] = {}
    if not isinstance(data, dict) or not isinstance(data.get("shots", {}), dict):
        bad((), "a review file is a mapping `shots:` of shot id -> {status, notes}")
        raise FormatError(problems)
    for key in data:
        if key != "shots":
            bad((key,), f"unknown key '{key}'; a review file holds `shots:` only")
    for sid, body in (data.get("shots") or {}).items():
        loc = ("shots", sid)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            bad(loc, f"shot '{sid}': write `status:` and `notes:` under it")
            continue
        status = body.get("status", "todo")
        if status not in STATUSES:
            bad(loc + ("status",), f"shot '{sid}': status is one of {', '.join(STATUSES)}, not {status!r}")
            status = "todo"
        notes = []
        raw = body.get("notes") or []
        if not isinstance(raw, list):
            bad(loc + ("notes",), f"shot '{sid}': notes is a list of {{text, author, time}}")
            raw = []
        for i, n in enumerate(raw):
            if isinstance(n, str):
                n = {"text": n}
            if not isinstance(n, dict) or not isinstance(n.get("text"), str):
                bad(loc + ("notes", i), f"shot '{sid}': a note is {{text: ..., author: ..., time: ...}}")
                continue
            notes.append(Note(n["text"], str(n.get("author") or ""), str(n.get("time") or "")))
        for k in body:
            if k not in ("status", "notes"):
                bad(loc + (k,), f"shot '{sid}': unknown key '{k}'; a shot's review has status and notes")
        shots[str(sid)] = ShotReview(status, tuple(notes))
    if problems:
        raise FormatError(problems)
    return Reviews(path, shots)


def dump(reviews: Reviews, storyboard_name: str, order: list[str]) -> str:
    """The sidecar's text: the storyboard's shots in its order, then any others; shots with nothing
    to say are left out."""
    ids = [s for s in order if s in reviews.shots] + sorted(s for s in reviews.shots if s not in order)
    body = {}
    for sid in ids:
        r = reviews.shots[sid]
        if r.status == "todo" and not r.notes:
            continue
        entry: dict = {"status": r.status}
        if r.notes:
            entry["notes"] = [{"text": n.text, "author": n.author, "time": n.time} for n in r.notes]
        body[sid] = entry
    text = yaml.safe_dump({"shots": body}, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return HEADER.format(name=storyboard_name) + text


def save(reviews: Reviews, storyboard: Path, order: list[str]) -> None:
    atomic_write_text(sidecar(storyboard), dump(reviews, Path(storyboard).name, order))


def note_lines(review: ShotReview) -> list[str]:
    """How a shot's review reads on boards, the shot list and markers: 'approved' and each note."""
    out = [f"review: {review.status}"] if review.status != "todo" else []
    out += [f"{n.author}: {n.text}" if n.author else n.text for n in review.notes]
    return out
