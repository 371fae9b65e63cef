"""Final Draft (.fdx) XML -> a Screenplay, read with defusedxml (no DTD, no entities, no bombs).

The script is the `<Content>` directly under `<FinalDraft>`: one `<Paragraph Type="...">` per
element, its words in `<Text>` runs, the scene number in a heading's `Number` attribute, dual
dialogue wrapped in `<DualDialogue>`, script notes in `<ScriptNote>`. Paragraphs nested deeper
(scene properties, arc beats, omitted scenes) are not the script and are skipped.
"""

from __future__ import annotations

import re
import xml.sax
from dataclasses import dataclass, field

import defusedxml.sax
from defusedxml import DefusedXmlException

from storyboard.errors import Diagnostic, FormatError
from storyboard.importers.screenplay import Element, Screenplay, build, split_cue

VERSIONS = ("1", "2", "3", "4", "5", "6")  # what Final Draft (8 and later) writes; the paragraphs are the same
_KIND = {"Scene Heading": "heading", "Action": "action", "General": "action", "Shot": "action",
         "Character": "cue", "Parenthetical": "paren", "Dialogue": "speech", "Lyrics": "lyric",
         "Transition": "transition", "Summary": "synopsis", "New Act": "section", "End of Act": "section"}
SKIPPED = ("Cast List",)


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def kids(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    def words(self) -> str:
        """The paragraph's own words: its <Text> runs, not nested paragraphs'."""
        return "".join("".join(t.text) for t in self.kids("Text"))


class _Tree(xml.sax.handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[_Node] = []
        self.root: _Node | None = None
        self._locator = None

    def setDocumentLocator(self, locator) -> None:  # noqa: N802 - the SAX API's name
        self._locator = locator

    def startElement(self, name, attrs) -> None:  # noqa: N802
        node = _Node(name, dict(attrs), self._locator.getLineNumber() if self._locator else 0)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElement(self, name) -> None:  # noqa: N802
        self.stack.pop()

    def characters(self, content) -> None:
        if self.stack and self.stack[-1].tag == "Text":
            self.stack[-1].text.append(content)


def parse(data: bytes, file: str) -> Screenplay:
    """The screenplay in a Final Draft file; FormatError for damaged XML, an XML bomb or an unknown version."""
    if not data.strip():
        raise FormatError([Diagnostic(file, 1, 1, "the script is empty")])
    tree = _Tree()
    try:
        defusedxml.sax.parseString(data, tree, forbid_dtd=True)
    except DefusedXmlException:
        raise FormatError([Diagnostic(file, 1, 1, "refused: the file declares a DTD or entities (<!DOCTYPE>, "
                                                  "<!ENTITY>), which Final Draft files never do and XML bombs need")]) from None
    except xml.sax.SAXParseException as e:
        raise FormatError([Diagnostic(file, e.getLineNumber() or 1, (e.getColumnNumber() or 0) + 1,
                                      f"this Final Draft file is damaged: its XML is broken here ({e.getMessage()}); "
                                      "save it again from Final Draft, or export Fountain")]) from None
    root = tree.root
    if root is None or root.tag != "FinalDraft":
        tag = root.tag if root is not None else "nothing"
        raise FormatError([Diagnostic(file, root.line if root else 1, 1,
                                      f"not a Final Draft script: the document is <{tag}>, not <FinalDraft>")])
    version = root.attrs.get("Version")
    if version is not None and version.strip() not in VERSIONS:
        raise FormatError([Diagnostic(file, root.line, 1, f"Final Draft file version {version!r} is not one this "
                                                          f"importer knows ({', '.join(VERSIONS)}); save it again from "
                                                          "Final Draft, or export Fountain")])
    elements: list[Element] = []
    for content in root.kids("Content")[:1]:
        for p in content.kids("Paragraph"):
            for dual in p.kids("DualDialogue"):
                for q in dual.kids("Paragraph"):
                    elements += _elements(q, dual=True)
            elements += _elements(p)
    if not elements:
        raise FormatError([Diagnostic(file, root.line, 1, "the script is empty: this Final Draft file has no paragraphs")])
    title, credits = _title_page(root)
    notes = tuple(" ".join(_notes_text(n).split()) for top in root.kids("ScriptNotes") for n in top.kids("ScriptNote"))
    return build(elements, title, credits, file, notes=tuple(n for n in notes if n))


def _elements(p: _Node, dual: bool = False) -> list[Element]:
    kind_name = p.attrs.get("Type", "")
    text = p.words()
    notes = [Element("note", t, n.line) for n in p.kids("ScriptNote") if (t := " ".join(_notes_text(n).split()))]
    if kind_name in SKIPPED or not text.strip():
        return notes
    kind = _KIND.get(kind_name) or ("section" if kind_name.startswith("Outline") else "action")
    if kind == "action" and p.attrs.get("Alignment") == "Center":
        kind = "centered"
    if kind == "cue":
        name, extensions = split_cue(text)
        return [Element("cue", name, p.line, extensions=extensions, dual=dual)] + notes
    if kind == "heading":
        return [Element("heading", text, p.line, number=re.sub(r"\s+", "", p.attrs.get("Number", "")))] + notes
    return [Element(kind, text, p.line)] + notes


def _notes_text(note: _Node) -> str:
    return " ".join(q.words() for q in note.kids("Paragraph"))


def _title_page(root: _Node) -> tuple[str, tuple[str, ...]]:
    """The first line of the title page is the title; the rest are credits."""
    lines = [" ".join(p.words().split()) for tp in root.kids("TitlePage") for c in tp.kids("Content")
             for p in c.kids("Paragraph")]
    lines = [x for x in lines if x]
    return (lines[0], tuple(lines[1:])) if lines else ("", ())
