"""The output folder's record of what shaped each output (.storyboard-cut.json): for each one, a digest of
everything it is made from and the size and time of every file it wrote. An output whose digest is
the one recorded and whose files are as written is not made again: a re-run with nothing changed
rewrites nothing, and a deleted or hand-edited output is made again.

Digests are taken over `canon` forms (dataclasses, pydantic models, paths, containers as plain JSON),
and over the code that makes an output (`code`: its modules' source, templates, library versions),
so a change to any of them makes the output again with no version to remember to bump."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import json
from functools import lru_cache
from pathlib import Path, PurePath

from storyboard.common import digest as _json_digest
from storyboard.store.files import atomic_write_bytes, atomic_write_json

STATE = ".storyboard-cut.json"  # in the output folder


def canon(obj, skip: frozenset[str] = frozenset()):
    """`obj` as plain JSON-able data: a dataclass as its fields (those that take part in comparing it,
    less dataclass fields named in `skip`, at any depth), a pydantic model as its dump, a path as text. Anything
    else is its repr, which for an object without one changes every run: never a false match."""
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, enum.Enum):
        return canon(obj.value)
    if isinstance(obj, PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"@": type(obj).__name__, **{f.name: canon(getattr(obj, f.name), skip) for f in dataclasses.fields(obj)
                                             if f.compare and f.name not in skip}}
    if hasattr(obj, "model_dump") and not isinstance(obj, type):
        return {"@": type(obj).__name__, **canon(obj.model_dump(mode="json"), skip)}
    if isinstance(obj, dict):
        return {str(k): canon(v, skip) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canon(v, skip) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((canon(v, skip) for v in obj), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return repr(obj)


def digest(data, skip: frozenset[str] = frozenset()) -> str:
    """sha256 of `data`'s canon form (without the dataclass fields named in `skip`)."""
    return _json_digest(canon(data, skip))


def code(modules: tuple[str, ...], files: tuple[str, ...] = (), packages: tuple[str, ...] = ()) -> str:
    """A digest of what turns the same inputs into an output: the tool's version, these modules'
    source and the installed versions of these distributions (read once a process), and these files
    (templates, fonts: by size and time, looked at every time, so a long-lived `serve` sees an edit)."""
    return _json_digest([_sources(modules, packages), [[f, file_sign(Path(f))] for f in files]])


@lru_cache(maxsize=None)
def _sources(modules: tuple[str, ...], packages: tuple[str, ...]) -> str:
    from importlib.metadata import PackageNotFoundError, version
    h = hashlib.sha256()
    for name in modules:
        h.update(b"\0" + name.encode() + b"\0" + Path(importlib.import_module(name).__file__).read_bytes())
    for p in ("storyboard", *packages):
        try:
            h.update(f"\0{p}=={version(p)}".encode())
        except PackageNotFoundError:
            h.update(f"\0{p} missing".encode())
    return h.hexdigest()


def file_sign(path: Path) -> list | None:
    """Size and modification time of a file we wrote: changed, it is not the one we recorded."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def read_state(out_dir: Path) -> dict:
    try:
        state = json.loads((out_dir / STATE).read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def save_state(out_dir: Path, state: dict) -> None:
    atomic_write_json(out_dir / STATE, state)


def unchanged(state: dict, name: str, digest: str, files: list[Path]) -> bool:
    """Was `name` made from inputs with this digest, and is every file it wrote still as written?"""
    rec = state.get(name)
    return (isinstance(rec, dict) and rec.get("digest") == digest
            and rec.get("files") == {str(f): file_sign(f) for f in files} and None not in rec["files"].values())


def record(state: dict, name: str, digest: str, files: list[Path], **extra) -> None:
    state[name] = {"digest": digest, "files": {str(f): file_sign(f) for f in files}, **extra}



def write_if_changed(path: Path, text: str) -> None:
    """Write a text output atomically, unless it already holds exactly this."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:  # bytes: reading text would turn a CSV's CRLF rows into LF
            return
    except OSError:
        pass
    atomic_write_bytes(path, data)
