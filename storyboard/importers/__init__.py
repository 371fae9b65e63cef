"""storyboard import: a screenplay (Fountain or Final Draft) -> a storyboard draft to fill in.

This module is the edge: it reads the files, checks the draft with the loader and writes it
atomically. The rest of the package is pure: `fountain` and `fdx` read a script into a
`screenplay.Screenplay`, `draft` makes the storyboard, `merge` folds it into an edited one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import Diagnostic, FormatError, UsageError
from storyboard.importers import draft, merge as merging
from storyboard.importers.screenplay import Screenplay
from storyboard.stages.loader import _display, load
from storyboard.stages.yamlsrc import MAX_BYTES, read_yaml
from storyboard.store import files as fsutil

MAX_SCRIPT_BYTES = 5 << 20  # a feature-length script is well under 1 MB, even as Final Draft XML
_NOT_SCRIPTS = {b"%PDF": "a PDF", b"PK\x03\x04": "a zip file (a .docx or .fadein?)", b"{\\rtf": "an RTF document"}
# a storyboard's first key (after comments and blank lines): a Fountain script never starts so
_STORYBOARD_START = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*(?:version|title|shots|characters|locations|defaults)[ \t]*:")


@dataclass(frozen=True)
class Imported:
    path: Path
    shots: int
    scenes: int
    characters: int
    locations: int
    changes: list[merging.Change] = field(default_factory=list)
    backup: Path | None = None


def read_script(path: Path) -> Screenplay:
    """The screenplay in a .fountain or .fdx file (by its name, else by its first bytes)."""
    name = _display(path)
    if not path.is_file():
        raise FormatError([Diagnostic(name, 1, 1, "no such script file")])
    with open(path, "rb") as f:
        data = f.read(MAX_SCRIPT_BYTES + 1)
    if len(data) > MAX_SCRIPT_BYTES:
        raise FormatError([Diagnostic(name, 1, 1, f"the file is over {MAX_SCRIPT_BYTES >> 20} MB; a screenplay is far "
                                                  "smaller, so this is not one (or split it and import the parts)")])
    for magic, what in _NOT_SCRIPTS.items():
        if data.startswith(magic):
            raise FormatError([Diagnostic(name, 1, 1, f"this is {what}, not a screenplay; export the script "
                                                      "as Fountain (.fountain) or Final Draft (.fdx)")])
    suffix = path.suffix.lower()
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if suffix == ".fdx" or (suffix != ".fountain" and head.startswith((b"<?xml", b"<FinalDraft"))):
        from storyboard.importers import fdx
        return fdx.parse(data, name)
    if b"\0" in data:
        raise FormatError([Diagnostic(name, data.count(b"\n", 0, data.index(b"\0")) + 1, 1,
                                      "this is not a screenplay: it is binary, not text")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FormatError([Diagnostic(name, data.count(b"\n", 0, e.start) + 1, 1,
                                      f"the script is not UTF-8 text (byte {data[e.start]:#04x}); save it as UTF-8")]) from None
    if suffix in (".yaml", ".yml", ".json") or _STORYBOARD_START.match(text):
        raise FormatError([Diagnostic(name, 1, 1, "this is a storyboard, not a screenplay; `storyboard validate` or "
                                                  "`render` it as it is, or import a Fountain (.fountain) or Final "
                                                  "Draft (.fdx) script")])
    from storyboard.importers import fountain
    return fountain.parse(text, name)


def _read_definitions(path: Path) -> dict:
    """A bible's (or storyboard's) data, read safely; {} sections when it has none."""
    if not path.is_file():
        raise FormatError([Diagnostic(_display(path), 1, 1, "no such file")])
    src = read_yaml(path.read_bytes(), _display(path))
    if not isinstance(src.data, dict):
        raise FormatError([Diagnostic(src.file, 1, 1, "a bible is a mapping with characters: and locations:")])
    return src.data


def _known(data: dict, section: str) -> dict[str, dict]:
    items = data.get(section)
    return {str(k): v for k, v in items.items() if isinstance(v, dict)} if isinstance(items, dict) else {}


def run(script: Path, out: Path | None = None, scenes: list[str] | tuple[str, ...] = (), bible: Path | None = None,
        merge: Path | None = None, force: bool = False) -> Imported:
    """Import `script` into `out` (default: next to it, .yaml; with `merge`, that file); nothing is written on error."""
    target = out or merge or script.with_suffix(".yaml")
    in_place = merge is not None and target.resolve() == merge.resolve()
    if target.resolve() == script.resolve():
        raise UsageError(f"the draft would replace the script {_display(script)}; name another file with -o")
    if target.exists() and not force and not in_place:
        raise UsageError(f"{_display(target)} exists; add --force to replace it, or --merge {_display(target)} "
                         "to update it from the script keeping your edits")
    if not target.parent.is_dir():
        raise UsageError(f"the folder {_display(target.parent)} does not exist; make it first")
    sp = read_script(script)

    bibles: list[dict] = []  # what included bibles define is reused, not defined again
    include: list[str] = []
    old: dict | None = None
    comments: dict = {}
    if merge is not None:
        load(merge)  # the file to merge into must be a valid storyboard: its own errors, placed, first
        text = merge.read_text(encoding="utf-8")
        src = read_yaml(text, _display(merge))  # a mapping: load() said so
        old, comments = src.data, merging.end_comments(text, src)
        incs = old.get("include") or []
        bibles += [_read_definitions(merge.parent / inc) for inc in ([incs] if isinstance(incs, str) else incs)]
    if bible is not None:
        bibles.append(_read_definitions(bible))
        include = [Path(os.path.relpath(bible.resolve(), target.parent.resolve())).as_posix()]
    characters = {k: v for b in bibles for k, v in _known(b, "characters").items()}
    locations = {k: v for b in bibles for k, v in _known(b, "locations").items()}
    elsewhere = set(characters) | set(locations)
    if old is not None:  # the storyboard's own definitions keep their ids too (and the user's words, in merge)
        characters |= _known(old, "characters")
        locations |= _known(old, "locations")
    d = draft.build(sp, script.name, known_characters=characters, known_locations=locations, elsewhere=elsewhere,
                    include=include, scenes=list(scenes))
    changes: list[merging.Change] = []
    if old is not None:
        d, changes = merging.merge(old, d, only={e.prefix for e in d.shots} if scenes else None, comments=comments)
    text = draft.render(d)
    if len(text.encode()) > MAX_BYTES:
        raise UsageError(f"the draft would be {len(text.encode()) >> 10} KB, over the {MAX_BYTES >> 10} KB a storyboard "
                         "may hold; import the script a few scenes at a time with --scene")
    backup = target.with_name(target.name + ".bak") if in_place else None
    _write_checked(target, text, backup)
    return Imported(target, len(d.shots), len({e.prefix for e in d.shots}), len(d.characters), len(d.locations),
                    changes, backup)


def _write_checked(target: Path, text: str, backup: Path | None) -> None:
    """Write the draft beside `target`, load it as `storyboard validate` would, then put it in place."""
    tmp = fsutil.temp_name(target)
    try:
        fsutil.atomic_write_text(tmp, text)
        try:
            load(tmp)
        except FormatError as e:  # say where in the draft, under the name it would have had
            shown = f"{_display(target)} (not written)"
            raise FormatError([Diagnostic(shown if d.file == _display(tmp) else d.file, d.line, d.col, d.message)
                               for d in e.diagnostics]) from None
        if backup is not None:
            fsutil.atomic_write_bytes(backup, target.read_bytes())
        fsutil.publish(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
