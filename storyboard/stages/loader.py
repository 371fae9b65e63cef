"""YAML files -> a validated Storyboard: includes merged, paths made safe, every error placed."""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from storyboard.common import deep_merge
from storyboard.errors import Diagnostic, FormatError
from storyboard.model import Storyboard
from storyboard.model.loaded import Loaded, Positions
from storyboard.model.storyboard import Character, Defaults, DialogueLine, Location, Shot
from storyboard.model.vocab import nearest
from storyboard.stages import checks
from storyboard.stages.yamlsrc import Source, read_yaml

BIBLE_KEYS = ("characters", "locations", "style", "defaults")
MAX_INCLUDE_DEPTH = 8
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_MAGIC = {"png": (b"\x89PNG\r\n\x1a\n",), "jpeg": (b"\xff\xd8\xff",)}
ASSET_FIELDS = {  # where paths live: (section, field) -> kinds accepted
    ("characters", "reference"): "image",
    ("characters", "cameo"): "video",
    ("locations", "reference"): "image",
}


def project_root(storyboard_path: Path) -> Path:
    """The folder paths may not leave: the nearest one above the storyboard holding .git or
    .storyboard, else the storyboard's own folder."""
    here = storyboard_path.resolve().parent
    for d in (here, *here.parents):
        if (d / ".storyboard").exists() or (d / ".git").exists():
            return d
    return here


def load(path: str | Path) -> Loaded:
    """Read, merge, check paths and validate one storyboard file; FormatError lists every problem.
    Reads the file and its includes, nothing else (no config, no capability table)."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.yaml"))
        more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
        hint = f"; the storyboards in it: {', '.join(inside[:3])}{more}" if inside else "; it holds no .yaml file"
        raise FormatError([Diagnostic(str(path), 1, 1, f"this is a folder: name a storyboard file in it{hint}")])
    if not path.is_file():
        raise FormatError([Diagnostic(str(path), 1, 1, "no such storyboard file")])
    return _validated(path, None)


def loads(text: str, path: str | Path = "storyboard.yaml") -> Loaded:
    """A storyboard from text; `path` says where it stands (its includes and media are relative to it)."""
    path = Path(path)
    return _validated(path, read_yaml(text, _display(path)))


def _validated(path: Path, top: Source | None) -> Loaded:
    root = project_root(path)
    problems: list[Diagnostic] = []
    positions = Positions(top=str(path))
    missing: list[Diagnostic] = []  # media paths that are wrong: reported with everything else
    data = _load_tree(path, root, positions, problems, stack=(), src=top, assets=missing)
    if problems:  # the files themselves (an include missing, not a mapping): nothing more can be told
        raise FormatError(problems + missing)
    problems = missing + _control_characters(data, positions)
    try:
        sb = Storyboard.model_validate(data)
    except ValidationError as e:
        problems += [_diagnostic(err, data, positions) for err in e.errors()]
        # the semantic checks run on what did validate, so one round shows every kind of problem
        salvaged = _salvage(data)
        if salvaged is not None:
            problems += [d for d in checks.structure(salvaged, positions) if d.severity == "error"]
        raise FormatError(sorted(set(problems))) from None
    problems += [d for d in checks.structure(sb, positions) if d.severity == "error"]
    if problems:
        raise FormatError(problems)
    return Loaded(sb, path, root, positions)


def _relative(path: Path) -> Path:
    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive
        return path


def _display(path: Path) -> str:
    """A path as messages name it: as the user gave it, absolute or relative to where they are."""
    if path.is_absolute():
        return str(path)
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _read(path: Path) -> Source:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise FormatError([Diagnostic(_display(path), 1, 1, f"cannot read: {e.strerror}")]) from None
    return read_yaml(raw, _display(path))


def _load_tree(path: Path, root: Path, positions: Positions, problems: list[Diagnostic], stack: tuple,
               src: Source | None = None, assets: list[Diagnostic] | None = None) -> dict:
    """This file's data on top of its includes', with positions; asset paths made root-relative.
    A wrong media path goes to `assets` (the rest can still be checked), anything else to `problems`."""
    assets = problems if assets is None else assets
    src = src or _read(path)
    data = src.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(Diagnostic.at(src.file, src.pos(()), "a storyboard is a mapping of keys (version, shots, ...)"))
        return {}
    merged: dict = {}
    includes = data.get("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list):
        problems.append(Diagnostic.at(src.file, src.pos(("include",)), "include is a list of files, e.g. include: [bible.yaml]"))
        includes = []
    for i, inc in enumerate(includes):
        where = src.pos(("include", i))
        if not isinstance(inc, str):
            problems.append(Diagnostic.at(src.file, where, "an include is a file name"))
            continue
        target, why = _safe_path(path.parent, inc, root)
        if why:
            problems.append(Diagnostic.at(src.file, where, f"include {inc!r}: {why}"))
            continue
        if target in stack or target == path.resolve():
            chain = " -> ".join(p.name for p in (*stack, path.resolve(), target))
            problems.append(Diagnostic.at(src.file, where, f"include cycle: {chain}; remove one of these includes"))
            continue
        if len(stack) >= MAX_INCLUDE_DEPTH:
            problems.append(Diagnostic.at(src.file, where, f"includes nest deeper than {MAX_INCLUDE_DEPTH}"))
            continue
        try:
            shown = target if path.is_absolute() else _relative(target)  # named as the user names files
            bible = _load_tree(shown, root, positions, problems, stack + (path.resolve(),), assets=assets)
        except FormatError as e:
            problems.extend(e.diagnostics)
            continue
        for key in list(bible):
            if key not in BIBLE_KEYS + ("version", "title", "include", "music"):
                continue
            if key in BIBLE_KEYS:
                merged[key] = deep_merge(merged.get(key), bible[key])
    _fix_assets(data, src, path.parent, root, assets)
    if stack:  # an included file: only the bible sections travel upward
        extra = [k for k in data if k not in BIBLE_KEYS + ("version", "title", "include", "music")]
        for k in extra:
            problems.append(Diagnostic.at(src.file, src.pos((k,), True) if (k,) in src.keys else src.pos((k,)),
                                          f"'{k}' cannot be in an included bible; a bible holds "
                                          + ", ".join(BIBLE_KEYS)))
        positions.add(src, only=BIBLE_KEYS)
        data = {k: v for k, v in data.items() if k in BIBLE_KEYS}
    else:
        positions.add(src)
    for key, value in data.items():
        merged[key] = deep_merge(merged.get(key), value) if key in BIBLE_KEYS else value
    return merged


def _safe_path(base: Path, rel: str, root: Path) -> tuple[Path, str]:
    """Resolve `rel` from `base`; refuse what is absolute, escapes the root, or is missing."""
    if not rel.strip():
        return Path(), "empty path"
    if os.path.isabs(rel) or rel.startswith("~") or "\\" in rel and os.name != "nt":
        return Path(), f"absolute paths are refused; write it relative to {base.name or 'this file'}/"
    if "://" in rel:
        return Path(), "URLs are not fetched; save the file in the project folder and name it relatively"
    target = (base / rel)
    resolved = target.resolve()
    rroot = root.resolve()
    if not resolved.is_relative_to(rroot):
        lexical = Path(os.path.normpath(base.resolve() / rel))
        if lexical.is_relative_to(rroot):
            return Path(), f"a symlink there leads outside the project folder {rroot}; keep files inside it"
        return Path(), f"it leads outside the project folder {rroot}; " + _widen_root(rroot, lexical)
    if not resolved.exists():
        return Path(), "no such file"
    if not resolved.is_file():
        return Path(), "not a file"
    return resolved, ""


def _widen_root(root: Path, target: Path) -> str:
    """How to take a file above the project folder into it: where the root comes from, and which
    marker to put where."""
    common = Path(os.path.commonpath([root, target]))
    if (root / ".git").exists() and not (root / ".storyboard").exists():
        return f"the project folder is the git repository at {root}; keep shared files inside it"
    if (root / ".storyboard").exists():
        return (f"the project folder is marked by its .storyboard file; move that marker up to {common} "
                "to take the file in, or keep shared files inside the project folder")
    return (f"the project folder is the storyboard's own folder, since no folder above it holds a .storyboard "
            f"or .git marker; mark the project's top folder with an empty marker file: touch {common / '.storyboard'}")


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # what text may not hold
LINE_BREAK = re.compile(r"[\n\r\u2028\u2029]")  # what a one-line value (a name, the title) may not hold either


def _one_line(loc: tuple) -> bool:
    """A name or the title: printed on one line in messages, plans, subtitles and the shot list."""
    return loc == ("title",) or (len(loc) == 3 and loc[0] in ("characters", "locations") and loc[2] == "name")


def _control_characters(data: Any, positions: Positions) -> list[Diagnostic]:
    """Text holding control characters (NUL, escape codes...) is refused, naming the field: they
    break prompts, subtitles and the tools a clip passes through. Tabs and line breaks are text,
    except in a name or the title (a CR there rewrites the line it is printed on)."""
    out: list[Diagnostic] = []

    def walk(node: Any, loc: tuple) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and (m := CONTROL.search(k)):
                    where = f"'{loc[0]}'" if len(loc) == 1 else _where(loc, data)
                    out.append(positions.diag(loc + (k,), f"the key {k!r} in {where} holds a control "
                                                          f"character (U+{ord(m.group()):04X}); remove it", key=True))
                walk(v, loc + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, loc + (i,))
        elif isinstance(node, str) and (m := CONTROL.search(node)):
            out.append(positions.diag(loc, f"{_label(loc, data)} holds a control character "
                                           f"(U+{ord(m.group()):04X}); remove it"))
        elif isinstance(node, str) and _one_line(loc) and (m := LINE_BREAK.search(node)):
            out.append(positions.diag(loc, f"{_label(loc, data)} holds a line break (U+{ord(m.group()):04X}); "
                                           f"{'a name' if loc[-1] == 'name' else 'the title'} is one line: remove it"))
    walk(data, ())
    return out


def _label(loc: tuple, data: Any) -> str:
    """"'action' of shot 'climb'", "dialogue line 2 of shot 'climb'", ... for a value's place."""
    if len(loc) >= 3 and loc[-3] == "dialogue" and isinstance(loc[-2], int):
        return _where(loc[:-1], data)
    if loc and isinstance(loc[-1], str):
        return f"'{loc[-1]}' of {_where(loc[:-1], data)}"
    return f"item {loc[-1] + 1} of {_where(loc[:-1], data)}" if loc else "the storyboard"


def _fix_assets(data: dict, src: Source, base: Path, root: Path, problems: list[Diagnostic]) -> None:
    """Check every media path of this file and rewrite it relative to the project root."""
    sites: list[tuple[tuple, str]] = []
    for (section, fld), kind in ASSET_FIELDS.items():
        items = data.get(section)
        if isinstance(items, dict):
            for key, item in items.items():
                if isinstance(item, dict) and isinstance(item.get(fld), str):
                    sites.append(((section, key, fld), kind))
    if isinstance(data.get("music"), str):
        sites.append((("music",), "audio"))
    for i, shot in enumerate(data.get("shots") or []):  # a shot's keyframes: images it passes through
        if isinstance(shot, dict) and isinstance(shot.get("keyframes"), list):
            sites.extend(((("shots", i, "keyframes", j), "image") for j, k in enumerate(shot["keyframes"])
                          if isinstance(k, str)))
    for site, kind in sites:
        holder = data
        for p in site[:-1]:
            holder = holder[p]
        rel = holder[site[-1]]
        target, why = _safe_path(base, rel, root)
        if not why:
            why = sniff(target, kind)
        if why:
            problems.append(Diagnostic.at(src.file, src.pos(site), f"{'.'.join(map(str, site))} {rel!r}: {why}"))
            continue
        holder[site[-1]] = target.relative_to(root.resolve()).as_posix()


def sniff(path: Path, kind: str) -> str:
    """Check a media file by its bytes; '' when it is what it should be, else why not."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        return f"cannot read: {e.strerror}"
    is_png = head.startswith(IMAGE_MAGIC["png"][0])
    is_jpeg = head.startswith(IMAGE_MAGIC["jpeg"][0])
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    is_isobmff = head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")
    if kind == "image":
        if not (is_png or is_jpeg or is_webp):
            return "not a png, jpeg or webp image (checked by its bytes)"
        from PIL import Image
        try:
            with Image.open(path) as im:
                w, h = im.size
        except Exception as e:  # noqa: BLE001 - Pillow raises many kinds for broken files
            return f"the image cannot be read ({type(e).__name__})"
        if w * h > MAX_IMAGE_PIXELS:
            return f"image is {w}x{h}, over {MAX_IMAGE_PIXELS // 1_000_000} megapixels; scale it down"
        return ""
    if kind == "video":
        return "" if is_isobmff else "not an mp4 or mov video (checked by its bytes)"
    if kind == "audio":
        ok = (head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2") or is_isobmff
              or head[:4] == b"OggS" or head[:4] == b"fLaC" or (head[:4] == b"RIFF" and head[8:12] == b"WAVE"))
        return "" if ok else "not an mp3, m4a, wav, ogg or flac file (checked by its bytes)"
    return ""


# -- what validated, when something did not -------------------------------------------------------

def _salvage(data: Any) -> Storyboard | None:
    """The storyboard as far as it validated, for the semantic checks to run on beside the type
    errors. A part that failed is left neutral so it raises no second, derived complaint: a broken
    character keeps its id, a broken field of a shot takes its default, a broken line is heard
    off screen. None when there are no shots to check."""
    if not isinstance(data, dict) or not isinstance(data.get("shots"), list) or not data["shots"]:
        return None

    def entries(section: Any, model: type[BaseModel]) -> dict:
        if not isinstance(section, dict):
            return {}
        out = {}
        for key, value in section.items():
            try:
                out[key] = model.model_validate(value)
            except ValidationError:
                out[key] = model.model_construct(description="")
        return out

    chars = entries(data.get("characters"), Character)
    try:
        defaults = Defaults.model_validate(data.get("defaults") or {})
    except ValidationError:
        defaults = Defaults()
    shots = [_salvage_shot(i, raw, set(chars)) for i, raw in enumerate(data["shots"])]
    return Storyboard.model_construct(version=1, defaults=defaults, characters=chars,
                                      locations=entries(data.get("locations"), Location), shots=shots)


def _salvage_shot(i: int, raw: Any, chars: set[str]) -> Shot:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    shown_id = raw_id if isinstance(raw_id, str) else f"#{i + 1}"
    if not isinstance(raw, dict):
        return Shot.model_construct(id=shown_id, duration=20.0)
    try:
        return Shot.model_validate(raw)
    except ValidationError as e:
        broken = {err["loc"][0] for err in e.errors() if err["loc"]}
    fields = {k: v for k, v in raw.items() if k not in broken and k in Shot.model_fields}
    fields.update(id="x", duration=20.0)  # stand-ins that pass; the real id is put back below
    lines: list = []
    if "dialogue" in broken and isinstance(raw.get("dialogue"), list):
        stand_in = next(iter(sorted(chars)), None)
        for item in raw["dialogue"]:
            try:
                lines.append(DialogueLine.model_validate(item))
            except ValidationError:
                if stand_in is None:  # nobody to stand in: later lines would lose their places
                    break
                lines.append(DialogueLine.model_construct(speaker=stand_in, text="", voice_over=True, off_screen=False))
        fields.pop("dialogue", None)
    try:
        shot = Shot.model_validate(fields)
    except ValidationError:
        return Shot.model_construct(id=shown_id, duration=20.0)
    update: dict = {"id": raw_id if isinstance(raw_id, str) and "id" not in broken else shown_id}
    if "duration" not in broken:
        update["duration"] = float(raw["duration"])
    if lines:
        update["dialogue"] = lines
    if "characters" in broken:  # who is on screen is unknown: nobody is off screen
        listed = raw.get("characters") if isinstance(raw.get("characters"), list) else []
        speakers = [d.speaker for d in update.get("dialogue", shot.dialogue)]
        update["characters"] = list(dict.fromkeys([c for c in listed if isinstance(c, str) and c in chars]
                                                  + [s for s in speakers if s in chars]))
    return shot.model_copy(update=update)


# -- pydantic errors -> placed, helpful messages ------------------------------------------------

def _strip(ann: Any) -> Any:
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            ann = models[0] if models else args[0]
        else:
            return ann


def _fields_at(loc: tuple) -> list[str] | None:
    """The valid keys of the model found at `loc`, for did-you-mean."""
    ann: Any = Storyboard
    for part in loc:
        ann = _strip(ann)
        origin = typing.get_origin(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if part not in ann.model_fields:
                return None
            ann = ann.model_fields[part].annotation
        elif origin is list:
            ann = typing.get_args(ann)[0]
        elif origin is dict:
            ann = typing.get_args(ann)[1]
        else:
            return None
    ann = _strip(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return list(ann.model_fields)
    return None


def _where(loc: tuple, data: Any) -> str:
    """Words for a place in the storyboard: "shot 'climb'", "character 'mara'", ..."""
    desc = "the storyboard"
    node = data
    i = 0
    while i < len(loc):
        part = loc[i]
        if part == "shots" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            try:
                sid = node["shots"][loc[i + 1]].get("id")
            except (KeyError, IndexError, TypeError, AttributeError):
                sid = None
            desc = f"shot '{sid}'" if isinstance(sid, str) else f"shot #{loc[i + 1] + 1}"
            node = (node.get("shots") or [None] * (loc[i + 1] + 1))[loc[i + 1]] if isinstance(node, dict) else None
            i += 2
            continue
        if part in ("characters", "locations") and i + 1 < len(loc) and isinstance(loc[i + 1], str) and desc == "the storyboard":
            desc = f"{part[:-1]} '{loc[i + 1]}'"
            i += 2
            node = None
            continue
        if part == "camera":
            desc = f"the camera of {desc}"
        elif part == "defaults":
            desc = "defaults"
        elif part == "dialogue" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            desc = f"dialogue line {loc[i + 1] + 1} of {desc}"
            i += 2
            continue
        elif part == "changes" and i + 1 < len(loc):
            desc = f"changes to '{loc[i + 1]}' in {desc}"
            i += 2
            continue
        node = node.get(part) if isinstance(node, dict) else None
        i += 1
    return desc


def _diagnostic(err: dict, data: Any, positions: Positions) -> Diagnostic:
    loc = tuple(p for p in err["loc"] if p != "[key]")
    typ = err["type"]
    field_name = loc[-1] if loc else ""
    if typ == "extra_forbidden" and loc in positions.bare:
        return positions.diag(loc, _comma_message(str(field_name), _where(loc[:-1], data), positions.bare[loc]), key=True)
    if typ == "extra_forbidden":
        where = _where(loc[:-1], data)
        valid = _fields_at(loc[:-1]) or []
        hint = nearest(str(field_name), valid)
        msg = f"unknown key '{field_name}' in {where}"
        msg += f"; did you mean '{hint}'?" if hint else ("; valid keys: " + ", ".join(valid) if valid else "")
        return positions.diag(loc, msg, key=True)
    where = _where(loc[:-1] if isinstance(field_name, str) else loc, data)
    if typ == "missing":
        return positions.diag(loc[:-1], f"missing required key '{field_name}' in {where}")
    label = f"'{field_name}' of {where}" if isinstance(field_name, str) and field_name else where
    if typ == "value_error":
        reason = str(err.get("ctx", {}).get("error", err["msg"]))
        return positions.diag(loc, f"{label}: {reason}")
    value = err.get("input")
    if typ == "string_type" and value is None and loc in positions.bare:
        return positions.diag(loc, _comma_message(str(field_name), where, positions.bare[loc]), key=True)
    if typ in ("string_type",):
        return positions.diag(loc, f"{label} must be text, got {_show(value)}; put it in quotes")
    if typ in ("float_type", "int_type", "float_parsing", "int_parsing"):
        return positions.diag(loc, f"{label} must be a number, got {_show(value)}")
    if typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        if field_name == "duration":
            return positions.diag(loc, f"duration of {where} is {value:g}s; a shot lasts 1 to 20 seconds")
        return positions.diag(loc, f"{label} is {_show(value)}: {err['msg'].lower()}")
    if typ == "string_pattern_mismatch":
        if field_name == "size":
            return positions.diag(loc, f"size {_show(value)} of {where} is not WIDTHxHEIGHT, e.g. 1280x720")
        if isinstance(field_name, str) and field_name in ("id", "location") or len(loc) >= 2:
            return positions.diag(loc, f"{_show(value)} in {where} is not a valid id: use letters, digits, _ and -, "
                                       "starting with a letter or digit")
    if typ == "list_type":
        return positions.diag(loc, f"{label} must be a list, e.g. [a, b]; got {_show(value)}")
    if typ in ("dict_type", "model_type", "model_attributes_type"):
        spaced = ("; a colon needs a space after it: " + value.replace(":", ": ", 1)
                  if isinstance(value, str) and re.match(r"^[\w-]+:\S", value) else "")
        return positions.diag(loc, f"{label} must be a mapping of keys; got {_show(value)}{spaced}")
    if typ == "too_short" and field_name == "shots":
        return positions.diag(loc, "a storyboard needs at least one shot under 'shots:'")
    if typ == "literal_error":
        return positions.diag(loc, f"{label}: {err['msg']}")
    return positions.diag(loc, f"{label}: {err['msg']}")


def _comma_message(key: str, where: str, before: tuple[str, str]) -> str:
    """`{voice: soft, hesitant}`: the comma ended the value, and 'hesitant' became a key of its own."""
    prev_key, prev_value = before
    if not prev_key:
        return (f"'{key}' in {where} has no value; inside {{...}} write key: value pairs, and quote a value "
                "that holds a comma")
    return (f"'{key}' in {where} has no value: inside {{...}} a comma ends a value, so '{prev_value}, {key}' was "
            f"read as two keys; a value containing a comma inside {{...}} must be quoted: "
            f"{prev_key}: \"{prev_value}, {key}\"")


def _show(v: Any) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return "a mapping" if isinstance(v, dict) else "a list"
    return repr(v)
