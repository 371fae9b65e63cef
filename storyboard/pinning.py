"""Pinning a take from outside the editor (`storyboard serve`, `storyboard takes --pin`): `take: N`
written into the file that defines the shot, and nothing else in it changed.

ruamel.yaml's round-trip loader finds the shot and where each of its keys and values stands; the
edit itself is made on the text at those places (a line inserted after the shot's `id`, a number
replaced, a line removed), so comments, key order, quoting, flow style, anchors, blank lines and
line endings stay byte for byte. Where no such small edit fits (a take sharing the dash line,
say), ruamel's own round-trip dump is used, and only when every line outside that shot comes back
unchanged. Either way the new text is read back and must equal the old data with the one change,
or nothing is written."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

from storyboard.errors import UsageError

# a scalar as written inside a line: quoted (with its escapes), or plain up to a comma, bracket or comment
_TOKEN = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^,{}\[\]#\n]*[^,{}\[\]#\s]""")
_TAKE_LINE = re.compile(r"^[ \t]*take[ \t]*:[ \t]*[0-9]+[ \t]*(#.*)?\r?\n?$")


def digest(path: Path) -> str:
    """What the page was made from: the file's bytes, hashed (a changed file is refused a write)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


def _yaml():
    from ruamel.yaml import YAML
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1 << 16  # never fold a long line the user wrote on one
    return y


def _plain(node: Any) -> Any:
    """ruamel's round-trip data as plain Python (aliases resolved, comments gone), to compare."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _load(text: str, file: str):
    from ruamel.yaml.error import YAMLError
    try:
        return _yaml().load(text)
    except YAMLError as e:
        raise UsageError(f"{file}: not readable as YAML ({' '.join(str(e).split())[:200]}); fix it, then pin again") from None


def _find(data: Any, shot_id: str, file: str) -> tuple[int, Any]:
    shots = data.get("shots") if isinstance(data, dict) else None
    if not isinstance(shots, list):
        raise UsageError(f"{file} has no `shots:` list, so shot '{shot_id}' is not defined there")
    for i, s in enumerate(shots):
        if isinstance(s, dict) and str(s.get("id")) == shot_id:
            return i, s
    raise UsageError(f"{file} defines no shot '{shot_id}'")


def set_take(text: str, shot_id: str, take: int | None, file: str = "the storyboard") -> str:
    """`text` with shot `shot_id` pinned to `take` (None: unpinned), changed nowhere else."""
    if take is not None and (isinstance(take, bool) or not isinstance(take, int) or take < 1):
        raise UsageError(f"a take is a number from 1, not {take!r}")
    data = _load(text, file)
    i, shot = _find(data, shot_id, file)
    if shot.get("take") == take or (take is None and "take" not in shot):
        return text
    expected = _plain(data)
    if take is None:
        del expected["shots"][i]["take"]
    else:
        expected["shots"][i]["take"] = take
    new = _surgical(text, shot, take)
    if new is None or not _same(new, expected):
        new = _round_trip(text, data, i, take)
        if new is None or not _same(new, expected):
            where = shot.lc.line + 1
            what = f"take: {take}" if take is not None else "the `take:` line"
            raise UsageError(f"{file}: could not change the take of shot '{shot_id}' (line {where}) without touching "
                             f"the rest of the file; write {what} there by hand")
    return new


def _same(text: str, expected: Any) -> bool:
    try:
        return _plain(_yaml().load(text)) == expected
    except Exception:  # noqa: BLE001 - any failure to read it back means the edit is not taken
        return False


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _token_end(line: str, col: int) -> int | None:
    m = _TOKEN.match(line, col)
    return m.end() if m else None


def _surgical(text: str, shot, take: int | None) -> str | None:
    lines = _lines(text)
    flow = shot.fa.flow_style()
    if "take" in shot:
        kl, kc = shot.lc.key("take")
        vl, vc = shot.lc.value("take")
        if take is not None:  # the number replaced where it stands
            end = _token_end(lines[vl], vc)
            if end is None:
                return None
            lines[vl] = lines[vl][:vc] + str(take) + lines[vl][end:]
            return "".join(lines)
        if not flow:  # the line removed, when the take is alone on it
            if kl != vl or not _TAKE_LINE.match(lines[kl]) or lines[kl][:kc].strip():
                return None
            del lines[kl]
            return "".join(lines)
        end = _token_end(lines[vl], vc)  # `, take: 2` (or `take: 2, `) cut out of the braces
        if kl != vl or end is None:
            return None
        line = lines[kl]
        before = re.search(r",[ \t]*$", line[:kc])
        if before:
            lines[kl] = line[:before.start()] + line[end:]
        else:
            after = re.match(r"[ \t]*,[ \t]*", line[end:])
            if not after:
                return None
            lines[kl] = line[:kc] + line[end + after.end():]
        return "".join(lines)
    if "id" not in shot.lc.data:
        return None
    il, ic = shot.lc.key("id")
    vl, vc = shot.lc.value("id")
    if flow:  # `{id: one, take: 2, ...}`
        end = _token_end(lines[vl], vc)
        if end is None:
            return None
        lines[vl] = lines[vl][:end] + f", take: {take}" + lines[vl][end:]
        return "".join(lines)
    if il != vl:
        return None
    nl = _newline(text)
    if not lines[vl].endswith(("\n", "\r")):
        lines[vl] += nl
    lines.insert(vl + 1, " " * ic + f"take: {take}" + nl)
    return "".join(lines)


def _round_trip(text: str, data: Any, index: int, take: int | None) -> str | None:
    """ruamel's round-trip dump, taken only when nothing outside the shot's own lines changed."""
    shots = data["shots"]
    first = shots.lc.item(index)[0]
    following = shots.lc.item(index + 1)[0] if index + 1 < len(shots) else None
    if take is None:
        del shots[index]["take"]
    else:
        shots[index]["take"] = take
    y = _yaml()
    y.indent(**_indents(text))
    buf = io.StringIO()
    y.dump(data, buf)
    new = buf.getvalue()
    old_lines, new_lines = _lines(text), _lines(new)
    grew = len(new_lines) - len(old_lines)
    end_old = following if following is not None else len(old_lines)
    end_new = end_old + grew
    if old_lines[:first] != new_lines[:first] or old_lines[end_old:] != new_lines[end_new:]:
        return None
    return new


def _indents(text: str) -> dict:
    """The mapping and sequence indents the file uses (ruamel writes its own otherwise)."""
    m = re.search(r"^shots:[ \t]*\r?\n([ \t]*)-([ \t]+)\S", text, re.MULTILINE)
    if not m:
        return {"mapping": 2, "sequence": 4, "offset": 2}
    offset = len(m.group(1))
    return {"mapping": 2, "sequence": offset + 1 + len(m.group(2)), "offset": offset}


def defining_file(loaded, shot_id: str) -> Path:
    """The file that defines shot `shot_id` (where its `id:` was read)."""
    index = next((i for i, s in enumerate(loaded.storyboard.shots) if s.id == shot_id), None)
    if index is None:
        from storyboard.model.vocab import unknown
        raise UsageError(unknown("shot", shot_id, [s.id for s in loaded.storyboard.shots]))
    file = loaded.positions.of(("shots", index, "id"))[0]
    path = Path(file)
    return (path if path.is_absolute() else Path.cwd() / path).resolve()


class Changed(UsageError):
    """The file changed on disk since the caller read it: nothing was written."""


def pin(loaded, shot_id: str, take: int | None, expect: str | None = None) -> Path:
    """Write `take: N` (None: remove it) into the file defining the shot; refused, writing nothing,
    when `expect` is given and the file's digest is no longer it. Returns the file written."""
    from storyboard.store.files import atomic_write_bytes
    path = defining_file(loaded, shot_id)
    raw = path.read_bytes()
    if expect is not None and hashlib.sha256(raw).hexdigest() != expect:
        raise Changed(f"{path.name} changed on disk since this page was loaded; nothing was written. "
                      "The page shows the file as it is now: look again, then pin")
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3 if bom else 0:].decode("utf-8")
    new = set_take(text, shot_id, take, path.name)
    if new != text:
        atomic_write_bytes(path, (b"\xef\xbb\xbf" if bom else b"") + new.encode("utf-8"))
    return path
