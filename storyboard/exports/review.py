"""review.html: every shot and its takes on one self-contained page. One HTML file and a review/ folder
of stills and clips, named relatively: no network, works from file:// and from any static server."""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Callable

import jinja2

from storyboard.errors import MediaError
from storyboard.exports import record
from storyboard.exports.handoff import place
from storyboard.exports.sheet import (BIG, NOT_DIGESTED, SMALL, Sheet, ShotSheet, build_sheet, clip_stills, clock,
                                      drawn_panel, jpeg, panel_name)
from storyboard.model.jobs import Entry, Plan, Outcome, Prepared
from storyboard.store.cache import Cache
from storyboard.store.files import (MARKER, atomic_write_bytes, atomic_write_text, mark_output_folder, no_link,
                                    sweep, written)


FOLDER = "review"
PAGE = "review.html"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    from storyboard.stages.compiler import templates_dir
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              autoescape=True, trim_blocks=True, lstrip_blocks=True)


def write(prep: Prepared, plan: Plan, outcomes: dict[str, Outcome], out_dir: Path, cache: Cache,
          spent: float | None = None, sheet: Sheet | None = None) -> dict[str, Path]:
    """Write review.html and review/ into `out_dir`; files review/ no longer needs (those an earlier
    run recorded writing there) are removed. The caller has checked `out_dir` is the tool's.
    Nothing is written when a digest of what the page shows (all but the time it was made), of the
    template and of this code is the one recorded, and the page and review/ are as written.
    `sheet`: build_sheet's of the same arguments, when the caller has it (the boards share it)."""
    page = out_dir / PAGE
    context, files = _context(prep, plan, outcomes, out_dir, cache, spent, sheet)
    made = [page, files.folder / MARKER, *(files.folder / name for name in files.todo)]
    key = record.digest({"code": _code(), "context": {k: v for k, v in context.items() if k != "date"}},
                        skip=NOT_DIGESTED)
    state = record.read_state(out_dir)
    files.clean()
    if not record.unchanged(state, PAGE, key, made):
        files.write()
        files.sweep()
        atomic_write_text(page, render(PAGE + ".j2", context))
        record.record(state, PAGE, key, made)
        record.save_state(out_dir, state)
    return {PAGE: page, FOLDER: out_dir / FOLDER}


def _code() -> str:
    """What turns the same context into the same page: the template, this code, Jinja's version."""
    from storyboard.stages.compiler import templates_dir
    return record.code(("storyboard.exports.review", "storyboard.exports.sheet"),
                       files=(str(templates_dir() / (PAGE + ".j2")),), packages=("jinja2",))


def render(template: str, context: dict) -> str:
    """A page from the review templates (review.html.j2, or one extending it: the review room's)."""
    return _env().get_template(template).render(**context)


def gather(prep: "Prepared", plan: Plan, outcomes: dict[str, Outcome], out_dir: Path, cache: Cache,
           spent: float | None = None) -> dict:
    """What the review page shows, with review/ filled (stills and clips linked from the cache, drawn
    panels for shots without a clip) and swept of what earlier runs wrote there that it no longer
    needs (nothing else): the template's context."""
    context, files = _context(prep, plan, outcomes, out_dir, cache, spent)
    files.write()
    files.sweep()
    return context


def _context(prep: "Prepared", plan: Plan, outcomes: dict[str, Outcome], out_dir: Path, cache: Cache,
             spent: float | None = None, sheet: Sheet | None = None) -> tuple[dict, "_Files"]:
    """The template's context, and the files review/ is to hold (not written yet)."""
    sheet = sheet or build_sheet(prep, plan, outcomes, cache, spent)
    files = _Files(out_dir / FOLDER)
    entries: dict[str, Entry] = {}
    for s in sheet.shots:
        if s.entry is not None:
            entries[s.entry.key] = s.entry
        entries.update({t.key: t.entry for t in s.takes if t.entry is not None})
    stills = _stills(entries)
    shots = [_shot_view(s, prep, sheet, files, stills) for s in sheet.shots]
    return dict(
        title=sheet.title, backend=sheet.backend, shots=shots, count=len(shots), duration=clock(sheet.duration),
        spent=f"${sheet.spent:.2f}", spent_now=None if sheet.spent_now is None else f"${sheet.spent_now:.2f}",
        date=time.strftime("%Y-%m-%d %H:%M", time.localtime(sheet.made)), ratio=f"{sheet.width} / {sheet.height}",
        characters=sorted({(p.id, p.name) for s in sheet.shots for p in s.people}, key=lambda c: c[1].lower()),
        locations=sorted({(s.location_id, s.location) for s in sheet.shots if s.location_id}, key=lambda c: c[1].lower()),
        sheet=sheet), files


def _stills(entries: dict[str, Entry]) -> dict[str, tuple[list[Path], float] | str]:
    """(small stills, seconds) of every clip, by key (several at once: PyAV decodes outside the GIL);
    a clip whose stills cannot be taken gets the reason instead."""
    def one(entry: Entry) -> tuple[list[Path], float] | str:
        try:
            paths, seconds = clip_stills(entry)
            return paths[SMALL], seconds
        except MediaError as e:
            return str(e)
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        return dict(zip(entries, pool.map(one, entries.values())))


# how review/ names what it writes (stills by clip key, clips by shot, drawn panels by digest): in a
# review/ from before its marker, the files the tool may treat as its own
NAMES = re.compile(r"^(?:\d{3,}_.+_(?:t\d+|kept)\.mp4|[0-9a-f]{16}-\d+\.jpg|panel-[0-9a-f]{20}\.jpg)$")


class _Files:
    """What review/ is to hold: files linked from the cache (or copied where links cannot be made) and
    drawn panels, gathered while the page is built, then recorded in review/'s marker and written.
    Only files an earlier run recorded there are ever deleted; review/ is never a link elsewhere."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.todo: dict[str, Callable[[Path], None]] = {}
        self.before: set[str] = set()

    def link(self, src: Path, name: str) -> str:
        self.todo.setdefault(name, lambda dst: place(src, dst))
        return f"{FOLDER}/{name}"

    def drawn(self, name: str, make) -> str:
        self.todo.setdefault(name, lambda dst: dst.exists() or atomic_write_bytes(dst, jpeg(make())))
        return f"{FOLDER}/{name}"

    def data(self, name: str, data: bytes) -> str:
        """A small file of ours (a face still) written once under a name that says its content."""
        self.todo.setdefault(name, lambda dst: dst.exists() or atomic_write_bytes(dst, data))
        return f"{FOLDER}/{name}"

    def clean(self) -> None:
        """Refuse a review/ that links elsewhere; sweep what a killed run left half-written here (a dead owner's)."""
        no_link(self.folder)
        if self.folder.is_dir():
            sweep(self.folder, (".*.part*",))

    def write(self) -> None:
        """Record every name first (a run killed midway leaves only recorded files), then write them."""
        self.clean()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.before = written(self.folder, NAMES)
        mark_output_folder(self.folder, list(self.todo), legacy=NAMES)
        for name, put in self.todo.items():
            put(self.folder / name)

    def sweep(self) -> None:
        """Delete what earlier runs wrote here that this page no longer names; nothing else."""
        for name in sorted(self.before - set(self.todo)):
            f = self.folder / name
            if f.is_symlink() or f.is_file():
                f.unlink(missing_ok=True)
        mark_output_folder(self.folder, list(self.todo), exact=True)


def _shot_view(s: ShotSheet, prep: Prepared, sheet: Sheet, files: _Files, stills: dict) -> dict:
    stem = f"{s.number:03d}_{s.id}"
    view = {"s": s, "status_class": s.status.replace(" ", "-"), "strip": None, "panel": None, "clip": None,
            "clip_seconds": None, "takes": [], "chars": " ".join(p.id for p in s.people), "problems": []}
    w, h = SMALL, max(2, round(SMALL * sheet.height / sheet.width))
    view["w"], view["h"] = w, h
    got = stills.get(s.clip_key) if s.clip else None
    if s.clip is not None and isinstance(got, tuple):
        name = f"{stem}_t{s.take}.mp4" if any(t.key == s.clip_key for t in s.takes) else f"{stem}_kept.mp4"
        view["clip"] = files.link(s.clip, name)
        view["clip_seconds"] = round(got[1], 3)
        view["strip"] = [files.link(p, f"{s.clip_key[:16]}-{i}.jpg") for i, p in enumerate(got[0])]
    else:
        if isinstance(got, str):
            view["problems"].append(got)
        bw, bh = BIG, max(2, round(BIG * sheet.height / sheet.width))  # the boards print the same picture
        ctx = prep.contexts[s.compiled.index]
        view["panel"] = files.drawn(panel_name(s.compiled, ctx),
                                    lambda: drawn_panel(s.compiled, ctx, prep.loaded.asset, bw, bh))
    view["identity"] = _identity_view(s.identity, sheet, files, with_stills=True)
    view["drift"] = bool(s.drift)
    for t in s.takes:
        got = stills.get(t.key) if t.entry is not None else None
        ok = isinstance(got, tuple)
        view["takes"].append({
            "identity": _identity_view(s.take_scores.get(t.number), sheet, files),
            "t": t, "in_cut": t.key == s.clip_key, "pinned": s.pinned and t.key == s.clip_key,
            "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(t.created)) if t.created else "",
            "still": files.link(got[0][1], f"{t.key[:16]}-1.jpg") if ok else None,
            "clip": files.link(t.entry.clip, f"{stem}_t{t.number}.mp4") if ok else None,
            "seconds": round(got[1], 3) if ok else None})
    return view


def _identity_view(score, sheet: Sheet, files: _Files, with_stills: bool = False) -> list[dict]:
    """A badge per checked character of a take: verdict and distance; for the take in the cut also the
    best frame's face beside the reference's."""
    import base64
    import hashlib
    out = []
    for c in (score.characters if score else []):
        v = {"c": c, "cls": c.verdict, "label": c.verdict if c.distance is None else f"{c.verdict} {c.distance:.2f}",
             "at": "" if c.time is None else f"{c.time:.1f}s", "face": None, "ref": None}
        if with_stills and sheet.judge is not None:
            face = sheet.judge.face_still(score, c.face)
            if face:
                v["face"] = files.data(f"face-{score.key[:16]}-{c.face}.jpg", base64.b64decode(face))
            ref = sheet.judge.reference(c.character)
            if ref is not None and ref.still:
                raw = base64.b64decode(ref.still)
                v["ref"] = files.data(f"ref-{hashlib.sha256(raw).hexdigest()[:16]}.jpg", raw)
        out.append(v)
    return out
