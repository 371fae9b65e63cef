"""Fountain (.fountain) text -> a Screenplay, read by fountain-py.

fountain-py (MIT, no dependencies) covers the whole syntax: forced headings, cues and
transitions, centred text, sections, synopses, notes, boneyard, page breaks, dual dialogue,
lyrics, the title page and scene numbers, and gives each element its line. Three gaps are
filled here: it drops notes written inside a line of text (`He sits. [[check the chair]]`),
so those are found in the text and put back, by line; it takes a cue in capitals outside
ASCII (ZOË) for action, so such cues get the spec's forcing '@'; and it reads CR LF line
ends as blank lines, so line ends are made LF first.
"""

from __future__ import annotations

import re

from fountain import FountainParser
from fountain.elements import ElementType, FountainElement

from storyboard.errors import Diagnostic, FormatError
from storyboard.importers.screenplay import Element, Screenplay, build

_KIND = {
    ElementType.SCENE_HEADING: "heading", ElementType.ACTION: "action", ElementType.CENTERED: "centered",
    ElementType.CHARACTER: "cue", ElementType.PARENTHETICAL: "paren", ElementType.DIALOGUE: "speech",
    ElementType.LYRICS: "lyric", ElementType.TRANSITION: "transition", ElementType.NOTE: "note",
    ElementType.SECTION: "section", ElementType.SYNOPSIS: "synopsis",
}
DROPPED = (ElementType.BONEYARD, ElementType.PAGE_BREAK, ElementType.TITLE_PAGE)
_BONEYARD = re.compile(r"/\*.*?(?:\*/|\Z)", re.S)
_NOTE = re.compile(r"\[\[(.*?)\]\]", re.S)
_EMPHASIS = re.compile(r"(?<!\\)[*_]")


def parse(text: str, file: str) -> Screenplay:
    """The screenplay in a Fountain text; FormatError when it is empty or no screenplay."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise FormatError([Diagnostic(file, 1, 1, "the script is empty")])
    doc = FountainParser().parse(_force_unicode_cues(text))
    elements: list[Element] = []
    for el in doc.elements:
        if el.type == ElementType.DUAL_DIALOGUE:
            for column in el.dual_dialogue_columns():
                elements += [_element(x, dual=True) for x in column]
        elif el.type not in DROPPED:
            elements.append(_element(el))
    elements = _with_inline_notes(elements, text)
    meta = {k.lower(): _plain(str(v)) for k, v in doc.metadata.items()}
    title = meta.pop("title", "")
    credits = tuple(f"{k.title()}: {v}" for k, v in meta.items() if v)
    return build(elements, title, credits, file)


_NOT_A_CUE = re.compile(r"^(?:[!@.>#=~\[/]|(?:INT|EXT|EST|I/E)[.\s/])|TO:$", re.I)


def _force_unicode_cues(text: str) -> str:
    """'@' before cues in capitals that are not ASCII (ZOË, ÉLODIE), which fountain-py takes for action.

    The spec makes a cue of any line entirely in capitals, after a blank line and before
    dialogue; fountain-py checks capitals with [A-Z] only. Scripts without case (李明) still
    need the spec's own '@'.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        name = re.sub(r"\([^()]*\)", "", line).strip().rstrip("^").strip()
        if (name and line == line.lstrip() and ":" not in name and name == name.upper() and any(c.isupper() for c in name)
                and not name.isascii() and not _NOT_A_CUE.search(line.strip())
                and (i == 0 or not lines[i - 1].strip()) and i + 1 < len(lines) and lines[i + 1].strip()):
            lines[i] = "@" + line
    return "\n".join(lines)


def _plain(text: str) -> str:
    """Title page text without emphasis marks, on one line."""
    return " ".join(_EMPHASIS.sub("", text).replace("\\*", "*").replace("\\_", "_").split())


def _element(el: FountainElement, dual: bool = False) -> Element:
    kind = _KIND[el.type]
    text = el.text
    if kind == "note":
        text = _NOTE.sub(lambda m: m.group(1), text)
    if kind == "cue":
        ext = el.metadata.get("extension")
        return Element("cue", text, el.line_number, extensions=(ext,) if isinstance(ext, str) and ext else (),
                       dual=dual or bool(el.metadata.get("dual_dialogue")))
    number = el.metadata.get("scene_number") if kind == "heading" else ""
    return Element(kind, text, el.line_number, number=number if isinstance(number, str) else "")


def _with_inline_notes(elements: list[Element], text: str) -> list[Element]:
    """Put back the notes fountain-py strips from inside lines, after the element they sit in."""
    visible = _BONEYARD.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)  # notes in the boneyard stay dropped
    whole = {e.line for e in elements if e.kind == "note"}
    out = list(elements)
    for m in _NOTE.finditer(visible):
        line = visible.count("\n", 0, m.start()) + 1
        if line in whole or not m.group(1).strip():
            continue
        at = next((i for i in range(len(out) - 1, -1, -1) if out[i].line <= line), -1)
        out.insert(at + 1, Element("note", m.group(1), line))
    return out
