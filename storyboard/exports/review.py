"""review.html: every shot and its takes on one self-contained page. One HTML file and a review/ folder
of stills and clips, named relatively: no network, works from file:// and from any static server."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import jinja2

from storyboard.errors import MediaError
from storyboard.exports.sheet import (BIG, SMALL, Sheet, ShotSheet, build_sheet, clip_stills, clock, drawn_panel, jpeg,
                                      panel_name)
from storyboard.model.jobs import Entry, Plan, Outcome, Prepared
from storyboard.store.cache import Cache
from storyboard.store.files import atomic_write_bytes, atomic_write_text


FOLDER = "review"
PAGE = "review.html"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    from storyboard.stages.compiler import templates_dir
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              autoescape=True, trim_blocks=True, lstrip_blocks=True)


def write(prep: Prepared, plan: Plan, outcomes: dict[str, Outcome], out_dir: Path, cache: Cache,
          spent: float | None = None) -> dict[str, Path]:
    """Write review.html and review/ into `out_dir`; files review/ no longer needs are removed."""
    sheet = build_sheet(prep, plan, outcomes, cache, spent)
    folder = out_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
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


class _Files:
    """What review/ holds: files linked from the cache (or copied where links cannot be made) and
    drawn panels; anything else there is swept once the page is written."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.names: set[str] = set()

    def link(self, src: Path, name: str) -> str:
        dst = self.folder / name
        if name not in self.names:
            self.names.add(name)
            try:
                same = dst.exists() and os.path.samefile(src, dst)
            except OSError:
                same = False
            if not same:
                tmp = self.folder / f".{name}.{os.getpid()}.part"
                tmp.unlink(missing_ok=True)
                try:
                    os.link(src, tmp)
                except OSError:  # another file system, or links not allowed: a copy, still atomic
                    import shutil
                    shutil.copyfile(src, tmp)
                os.replace(tmp, dst)
        return f"{FOLDER}/{name}"

    def drawn(self, name: str, make) -> str:
        dst = self.folder / name
        if name not in self.names:
            self.names.add(name)
            if not dst.exists():
                atomic_write_bytes(dst, jpeg(make()))
        return f"{FOLDER}/{name}"

    def sweep(self) -> None:
        for f in self.folder.iterdir():
            if f.name not in self.names and f.is_file():
                f.unlink(missing_ok=True)


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
