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
from storyboard.exports.handoff import place
from storyboard.exports.sheet import (BIG, SMALL, Sheet, ShotSheet, build_sheet, clip_stills, clock, drawn_panel, jpeg,
                                      panel_name)
from storyboard.model.jobs import Entry, Plan, Outcome, Prepared
from storyboard.store.cache import Cache
from storyboard.store.files import (atomic_write_bytes, atomic_write_text, mark_output_folder, no_link, sweep,
                                    written)


FOLDER = "review"
PAGE = "review.html"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    from storyboard.stages.compiler import templates_dir
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              autoescape=True, trim_blocks=True, lstrip_blocks=True)


def write(prep: Prepared, plan: Plan, outcomes: dict[str, Outcome], out_dir: Path, cache: Cache,
          spent: float | None = None) -> dict[str, Path]:
    """Write review.html and review/ into `out_dir`; files review/ no longer needs (those an earlier
    run recorded writing there) are removed. The caller has checked `out_dir` is the tool's."""
    sheet = build_sheet(prep, plan, outcomes, cache, spent)
    folder = out_dir / FOLDER
    files = _Files(folder)
    entries: dict[str, Entry] = {}
    for s in sheet.shots:
        if s.entry is not None:
            entries[s.entry.key] = s.entry
        entries.update({t.key: t.entry for t in s.takes if t.entry is not None})
    stills = _stills(entries)
    shots = [_shot_view(s, prep, sheet, files, stills) for s in sheet.shots]
    html = _env().get_template("review.html.j2").render(
        title=sheet.title, backend=sheet.backend, shots=shots, count=len(shots), duration=clock(sheet.duration),
        spent=f"${sheet.spent:.2f}", spent_now=None if sheet.spent_now is None else f"${sheet.spent_now:.2f}",
        date=time.strftime("%Y-%m-%d %H:%M", time.localtime(sheet.made)), ratio=f"{sheet.width} / {sheet.height}",
        characters=sorted({(p.id, p.name) for s in sheet.shots for p in s.people}, key=lambda c: c[1].lower()),
        locations=sorted({(s.location_id, s.location) for s in sheet.shots if s.location_id}, key=lambda c: c[1].lower()))
    files.write()
    page = out_dir / PAGE
    atomic_write_text(page, html)
    files.sweep()
    return {PAGE: page, FOLDER: folder}


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

    def write(self) -> None:
        """Record every name first (a run killed midway leaves only recorded files), then write them."""
        no_link(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        sweep(self.folder, (".*.part*",))  # what a killed run left half-written here (a dead owner's)
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
    for t in s.takes:
        got = stills.get(t.key) if t.entry is not None else None
        ok = isinstance(got, tuple)
        view["takes"].append({
            "t": t, "in_cut": t.key == s.clip_key, "pinned": s.pinned and t.key == s.clip_key,
            "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(t.created)) if t.created else "",
            "still": files.link(got[0][1], f"{t.key[:16]}-1.jpg") if ok else None,
            "clip": files.link(t.entry.clip, f"{stem}_t{t.number}.mp4") if ok else None,
            "seconds": round(got[1], 3) if ok else None})
    return view
