"""boards.pdf and shotlist.csv: pages in the grid, every shot id in the text pypdf reads back, every
letter of every alphabet in the embedded fonts, drawn panels for shots never rendered."""

from __future__ import annotations

import csv
import io

import pytest

from storyboard.cli import main
from storyboard.errors import UsageError
from storyboard.exports.boards import COLUMNS, Grid, cell, fonts
from tests.conftest import read_manifest

SHOTS = [("arrive", "street", "Inès steps out of the taxi; 健二 holds an umbrella.", "kenji", "(politely) お気をつけて。"),
         ("cafe", "cafe", "Ελένη sips coffee and reads a letter in Русский.", "eleni", "Καλημέρα. Что это?"),
         ("walk", "street", "They walk past the neon signs.", "ines", "(V.O.) Je m'en souviens."),
         ("train", "street", "A train passes overhead.", None, None),
         ("photo", "cafe", "Inès photographs Ελένη at the window.", "ines", "Ne bouge pas."),
         ("night", "street", "The street empties; rain on the neon.", None, None),
         ("end", "cafe", "Dawn. The café opens its shutters.", "eleni", "안녕하세요!")]


def storyboard(project):
    lines = ["version: 1", "title: \"Inès à Tōkyō — 東京の夜\"", "characters:",
             "  ines: {name: Inès, description: a photographer, wardrobe: a red coat}",
             "  kenji: {name: 健二, description: a taxi driver, wardrobe: white gloves}",
             "  eleni: {name: Ελένη, description: a tourist}",
             "locations:",
             "  street: {name: 新宿の通り, description: a neon street, time: night, weather: rain}",
             "  cafe: {name: Café Зима, description: a tiny café, time: dawn}",
             "shots:"]
    for sid, loc, action, who, line in SHOTS:
        lines += [f"  - id: {sid}", "    duration: 3", f"    location: {loc}", f"    action: \"{action}\""]
        if who:
            lines += [f"    characters: [{who}]" if "V.O." not in line else "    characters: []",
                      "    dialogue:", f"      - {who}: \"{line}\""]
    path = project / "intl.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_pdf(path):
    from pypdf import PdfReader
    reader = PdfReader(str(path))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def embedded_fonts(path) -> set[str]:
    from pypdf import PdfReader
    return {str(f.get_object()["/BaseFont"]) for page in PdfReader(str(path)).pages
            for f in page["/Resources"].get("/Font", {}).values()}


def test_boards_of_a_storyboard_never_rendered(project, monkeypatch):
    from storyboard.animatic.backend import AnimaticBackend
    monkeypatch.setattr(AnimaticBackend, "render", lambda self, req: pytest.fail("boards rendered a shot"))
    path = storyboard(project)
    assert main(["boards", str(path)]) == 0
    out = project / "intl"
    pages, text = read_pdf(out / "boards.pdf")
    assert pages == 2  # 7 panels, 2 rows of 3 a page
    for sid, *_ in SHOTS:
        assert sid in text
    assert "WIDE" not in text and "MEDIUM · EYE-LEVEL · STATIC" in text
    assert text.count("not rendered") == len(SHOTS)
    rows = list(csv.reader(io.StringIO((out / "shotlist.csv").read_text("utf-8"))))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 1 + len(SHOTS)
    first = dict(zip(COLUMNS, rows[1]))
    assert first["id"] == "arrive" and first["location"] == "新宿の通り" and first["time"] == "night"
    assert first["characters"] == "健二" and first["dialogue"] == "健二 (politely): お気をつけて。"
    assert first["status"] == "not rendered" and first["take"] == "" and first["cost"] == ""
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "3", "4", "5", "6"]  # a new scene at each change of place
    assert any("CJK" in f for f in embedded_fonts(out / "boards.pdf"))
    assert main(["boards", str(path), "--grid", "1x2", "--paper", "letter"]) == 0
    assert read_pdf(out / "boards.pdf")[0] == 4


def test_every_letter_of_the_storyboard_is_in_the_embedded_fonts():
    from fontTools.ttLib import TTFont
    have: set[int] = set()
    from storyboard.exports.boards import house_cjk_face
    latin, cjk = fonts()
    have |= set(TTFont(str(latin), lazy=True).getBestCmap())
    have |= set(TTFont(str(cjk), lazy=True, fontNumber=house_cjk_face()).getBestCmap())
    text = "".join(" ".join(x for x in shot if x) for shot in SHOTS) + "Inès à Tōkyō — 東京の夜 Café Зима 新宿の通り ΕΛΈΝΗ"
    missing = {ch for ch in text if ord(ch) not in have and not ch.isspace()}
    assert missing == set()


def test_the_boards_font_is_noto_sans_regular_without_what_a_pdf_never_reads(tmp_path, monkeypatch):
    """The same glyphs, outlines and widths as the variable font's default instance, made once beside the
    cache; where that folder cannot be written, the variable font itself."""
    from fontTools.ttLib import TTFont

    from storyboard.draw.fonts import _NOT_FOR_PDF, latin_for_pdf, latin_path
    monkeypatch.setenv("STORYBOARD_CACHE", str(tmp_path / "cache"))
    lean = latin_for_pdf()
    assert lean.parent == tmp_path / "cache" / "fonts" and latin_for_pdf() == lean
    made = lean.stat().st_mtime_ns
    assert latin_for_pdf() == lean and lean.stat().st_mtime_ns == made  # made once
    with TTFont(str(latin_path())) as source, TTFont(str(lean)) as font:
        assert not set(_NOT_FOR_PDF) & set(font.keys()) and {"gvar", "GPOS"} <= set(source.keys())
        assert font.getBestCmap() == source.getBestCmap() and font["hmtx"].metrics == source["hmtx"].metrics
        for name in ("A", "g", "ampersand", "Oslash"):
            assert font["glyf"][name].getCoordinates(font["glyf"])[0] == \
                source["glyf"][name].getCoordinates(source["glyf"])[0]
    assert lean.stat().st_size < latin_path().stat().st_size / 4
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "fonts").write_text("")  # not a folder: nothing can be written there
    monkeypatch.setenv("STORYBOARD_CACHE", str(tmp_path / "ro"))
    assert latin_for_pdf() == latin_path()


def test_latin_boards_embed_the_shipped_western_cut_with_the_same_letters_as_noto_sans(tmp_path, monkeypatch):
    """The cut storyboard ships has every Western letter the whole face has, drawn and spaced the same;
    boards whose text is all Western embed it, and nothing is made on the machine for them."""
    from fontTools.ttLib import TTFont

    from storyboard.draw.fonts import WESTERN, latin_path, pdf_face, western_for_pdf
    monkeypatch.setenv("STORYBOARD_CACHE", str(tmp_path / "cache"))
    with TTFont(str(latin_path())) as source, TTFont(str(western_for_pdf())) as cut:
        want = {u: g for u, g in source.getBestCmap().items() if u in WESTERN}
        have = cut.getBestCmap()
        assert set(have) == set(want) and len(want) > 600
        for u in (0x41, 0x67, 0x26, 0xD8, 0x153, 0x1E9, 0x2026, 0x20AC):  # A g & Ø œ ǩ … €
            a, b = source["glyf"][want[u]], cut["glyf"][have[u]]
            assert a.getCoordinates(source["glyf"])[0] == b.getCoordinates(cut["glyf"])[0], hex(u)
            assert source["hmtx"][want[u]] == cut["hmtx"][have[u]], hex(u)
    assert pdf_face({ord(c) for c in "Inès — Café · 12€"}) == western_for_pdf()
    assert not (tmp_path / "cache" / "fonts").exists()  # nothing was made for it
    assert pdf_face({ord(c) for c in "Зима ΕΛΈΝΗ"}).parent == tmp_path / "cache" / "fonts"  # the whole face


def test_grid_words():
    assert Grid.parse("2x3") == Grid(2, 3) and Grid.parse("1X4") == Grid(1, 4)
    for bad in ("3", "0x2", "axb", "9x9"):
        with pytest.raises(UsageError):
            Grid.parse(bad)


def test_boards_after_a_render_show_the_clips(project):
    (project / "film.yaml").write_text(
        "version: 1\nshots:\n  - {id: alpha, duration: 1.5, action: A door.}\n  - {id: beta, duration: 1.5}\n")
    assert main(["render", str(project / "film.yaml")]) == 0
    pages, text = read_pdf(project / "film" / "boards.pdf")
    assert pages == 1 and "alpha" in text and "beta" in text and "not rendered" not in text
    fonts_in = embedded_fonts(project / "film" / "boards.pdf")  # Latin only: the CJK face is not embedded
    assert fonts_in and not any("CJK" in f for f in fonts_in), fonts_in
    from storyboard.store.cache import local_root
    assert not (local_root() / "fonts").exists()  # the shipped Western cut: nothing made for these boards
    rows = list(csv.reader(io.StringIO((project / "film" / "shotlist.csv").read_text("utf-8"))))
    assert [(r[2], r[14], r[15]) for r in rows[1:]] == [("alpha", "done", "1"), ("beta", "done", "1")]
    assert read_manifest(project / "film")["spent"] == 0


def test_shot_list_cells_are_never_formulas(project):
    """OWASP's CSV injection rule: a cell starting with = + - @ TAB or CR is written as text (a leading
    apostrophe), so a spreadsheet shows it rather than evaluating it (issue 22, item 3)."""
    (project / "film.yaml").write_text(
        "version: 1\ncharacters:\n  eve: {name: \"@Eve\", description: a woman}\n"
        "locations:\n  lab: {name: \"+lab\", description: a lab}\nshots:\n"
        "  - {id: a, duration: 1.5, location: lab, characters: [eve], action: \"=1+1\", sound: \"-2+3\"}\n"
        "  - {id: b, duration: 1.5, action: \"=HYPERLINK(\\\"http://x.example\\\",\\\"click\\\")\"}\n"
        "  - {id: c, duration: 1.5, action: \"\\tTab\", sound: \"\\rCR\"}\n"
        "  - {id: d, duration: 1.5, action: \"A plain 1+1 = 2.\"}\n")
    assert main(["boards", str(project / "film.yaml")]) == 0
    rows = list(csv.reader(io.StringIO((project / "film" / "shotlist.csv").read_text("utf-8"), newline="")))
    cells = {r[2]: dict(zip(COLUMNS, r)) for r in rows[1:]}
    assert cells["a"]["action"] == "'=1+1" and cells["a"]["sound"] == "'-2+3"
    assert cells["a"]["location"] == "'+lab" and cells["a"]["characters"] == "'@Eve"
    assert cells["b"]["action"] == "'=HYPERLINK(\"http://x.example\",\"click\")"
    assert cells["c"]["action"] == "Tab"  # the storyboard's text is trimmed; a cell never is:
    assert [cell(v) for v in ("\tTab", "\rCR", "-", 3, "")] == ["'\tTab", "'\rCR", "'-", "3", ""]
    assert cells["d"]["action"] == "A plain 1+1 = 2." and cells["d"]["duration"] == "1.5"
    for row in rows[1:]:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)
