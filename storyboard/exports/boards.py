"""boards.pdf (panels in a grid, to print and draw on) and shotlist.csv, from the cache: a shot with a
clip shows its middle key frame, a shot never rendered its drawn animatic panel.

Text is set in Noto Sans (Latin, Greek, Cyrillic) with Noto Sans CJK behind it for every other letter,
both from PyPI and embedded (subset) by fpdf2, so a board prints the same on any machine."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.errors import MediaError, UsageError
from storyboard.exports import record
from storyboard.exports.sheet import (BIG, NOT_DIGESTED, Sheet, ShotSheet, build_sheet, clip_stills, clock, drawn_panel,
                                      panel_name)
from storyboard.model.jobs import Plan, Outcome, Prepared
from storyboard.store.cache import Cache
from storyboard.store.files import atomic_write_bytes


PDF, CSV = "boards.pdf", "shotlist.csv"
COLUMNS = ("scene", "shot number", "id", "location", "time", "framing", "angle", "move", "lens", "duration",
           "characters", "action", "dialogue", "sound", "status", "take", "cost", "identity", "review")
PAPERS = {"a4": "A4", "letter": "Letter", "a3": "A3", "legal": "Legal"}
INK, DIM, ACCENT, RULE = (20, 20, 20), (105, 105, 105), (150, 95, 0), (170, 170, 170)


@dataclass(frozen=True)
class Grid:
    rows: int = 2
    columns: int = 3

    @classmethod
    def parse(cls, text: str) -> "Grid":
        """ROWSxCOLUMNS, e.g. 2x3 (two rows of three panels)."""
        try:
            r, c = (int(x) for x in text.lower().split("x"))
        except ValueError:
            raise UsageError(f"--grid {text!r}: write ROWSxCOLUMNS, e.g. 2x3 (two rows of three panels)") from None
        if not (1 <= r <= 6 and 1 <= c <= 6):
            raise UsageError(f"--grid {text!r}: from 1 to 6 rows and columns")
        return cls(r, c)


def write(prep: Prepared, plan: Plan, outcomes: dict[str, Outcome], out_dir: Path, cache: Cache,
          grid: Grid = Grid(), paper: str = "a4", sheet: Sheet | None = None) -> dict[str, Path]:
    """Write boards.pdf and shotlist.csv into `out_dir`: the list only when its text changed, the boards
    only when a digest of what they show (all but the date), of the layout, the fonts and this code
    is not the one recorded, or boards.pdf is not as written. `sheet`: build_sheet's of the same
    arguments, when the caller has it (the review page's: what this run spent is not printed)."""
    if paper.lower() not in PAPERS:
        raise UsageError(f"--paper {paper!r}: one of {', '.join(PAPERS)}")
    sheet = replace(sheet, spent_now=None) if sheet else build_sheet(prep, plan, outcomes, cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    record.write_if_changed(out_dir / CSV, shot_list(sheet))
    pdf = out_dir / PDF
    key = record.digest({"code": _code(), "sheet": sheet, "grid": grid, "paper": paper.lower(),
                         # a shot without a clip shows its drawn panel: named by what it draws
                         "panels": [panel_name(s.compiled, prep.contexts[s.compiled.index]) for s in sheet.shots
                                    if s.entry is None]}, skip=NOT_DIGESTED)
    state = record.read_state(out_dir)
    if not record.unchanged(state, PDF, key, [pdf]):
        atomic_write_bytes(pdf, _pdf(sheet, prep, out_dir, grid, paper))
        record.record(state, PDF, key, [pdf])
        record.save_state(out_dir, state)
    return {PDF: pdf, CSV: out_dir / CSV}


def _code() -> str:
    """What turns the same sheet into the same boards: this code, its fonts, fpdf2's and fontTools' versions."""
    from storyboard.draw.fonts import western_for_pdf
    return record.code(("storyboard.exports.boards", "storyboard.exports.sheet"),
                       files=tuple(map(str, (*fonts(), western_for_pdf()))),
                       packages=("fpdf2", "fonttools"))


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as the start of a formula (OWASP)


def cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe
    (OWASP's rule against CSV injection: `=1+1` or `=HYPERLINK(...)` from someone else's bible)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA) else text


def shot_list(sheet: Sheet) -> str:
    """One row per shot, the columns of COLUMNS (RFC 4180: quoted where needed, CRLF rows); no cell
    is a formula."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for s in sheet.shots:
        people = "; ".join(p.name + (" (heard)" if p.heard_only else "") for p in s.people)
        w.writerow([cell(v) for v in (
            s.scene, s.number, s.id, s.location, s.time, s.framing, s.angle, s.move, s.lens, f"{s.duration:g}",
            people, s.action, s.dialogue_text, s.sound, s.status, s.take or "", f"{s.cost:.2f}" if s.clip else "",
            identity_words(s), s.review_text)])
    return buf.getvalue()


def identity_words(s: ShotSheet) -> str:
    """The take in the cut against the references: "DRIFT: Mara drift 0.71; Tom on-model 0.32" (the mark
    first when a character drifted or is missing); "" when not scored."""
    if s.identity is None or not s.identity.characters:
        return ""
    words = "; ".join(f"{c.name} {c.verdict}" + (f" {c.distance:.2f}" if c.distance is not None else "")
                      for c in s.identity.characters)
    return f"{s.identity.worst.upper()}: {words}" if s.drift else words


# -- the PDF ---------------------------------------------------------------------------------------

def house_cjk_face() -> int:
    """Which face of the CJK collection the boards use (Japanese: it holds the most common Han forms)."""
    from storyboard.draw import fonts as house
    return house.cjk_face("\u3042")


def fonts() -> tuple[Path, Path]:
    """(Latin, Greek and Cyrillic; CJK): the house type the animatic draws with, from PyPI."""
    from storyboard.draw import fonts as house
    return house.latin_path(), house.cjk_path()


def letters(sheet: Sheet) -> set[int]:
    """Every letter the boards print: the sheet's text and the boards' own (ASCII, "·" and "…")."""
    import dataclasses

    def texts(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, (list, tuple)):
            for x in v:
                yield from texts(x)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            for f in dataclasses.fields(v):
                if f.name not in ("entry", "compiled"):  # the cache record and the compiled shot: not printed
                    yield from texts(getattr(v, f.name))
    return {ord(ch) for text in texts(sheet) for ch in text if not ch.isspace()} | {ord(ch) for ch in OWN}


OWN = "".join(map(chr, range(0x21, 0x7F))) + "·…"  # what the boards write themselves: labels, figures, dates


def _pdf(sheet: Sheet, prep: Prepared, out_dir: Path, grid: Grid, paper: str) -> bytes:
    from fpdf import FPDF
    pdf = FPDF(orientation="landscape", unit="mm", format=PAPERS[paper.lower()])
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 10, 10)
    pdf.set_creator("storyboard")
    pdf.set_title(f"{sheet.title}: boards")
    pdf.set_creation_date(_utc(sheet.made))
    from storyboard.draw.fonts import charmap, pdf_face
    latin, cjk = fonts()
    used = letters(sheet)
    pdf.add_font("sans", "", str(pdf_face(used)))  # the variable font's default instance, Regular (cut to its
    # Western letters when those are all the boards print)
    if not used <= charmap(str(latin)):  # reading the CJK collection (20 MB) and subsetting it was most of the PDF's time
        pdf.add_font("cjk", "", str(cjk), collection_font_number=house_cjk_face())
        pdf.set_fallback_fonts(["cjk"], exact_match=False)
    per_page = grid.rows * grid.columns
    pages = max(1, -(-len(sheet.shots) // per_page))
    gap, head = 5.0, 9.0
    cw = (pdf.w - pdf.l_margin - pdf.r_margin - gap * (grid.columns - 1)) / grid.columns
    ch = (pdf.h - pdf.t_margin - pdf.b_margin - head - gap * (grid.rows - 1)) / grid.rows
    for page in range(pages):
        pdf.add_page()
        _page_head(pdf, sheet, page + 1, pages)
        for k, s in enumerate(sheet.shots[page * per_page:(page + 1) * per_page]):
            r, c = divmod(k, grid.columns)
            _panel(pdf, s, sheet, prep, out_dir, pdf.l_margin + c * (cw + gap), pdf.t_margin + head + r * (ch + gap), cw, ch)
    return bytes(pdf.output())


def _utc(t: float):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(t, timezone.utc)


def _page_head(pdf, sheet: Sheet, page: int, pages: int) -> None:
    pdf.set_font("sans", size=12)
    pdf.set_text_color(*INK)
    pdf.set_xy(pdf.l_margin, pdf.t_margin - 1)
    pdf.cell(0, 6, sheet.title)
    pdf.set_font("sans", size=8)
    pdf.set_text_color(*DIM)
    right = (f"{len(sheet.shots)} shots · {clock(sheet.duration)} · {sheet.backend} · "
             f"{time.strftime('%Y-%m-%d', time.localtime(sheet.made))} · page {page} of {pages}")
    pdf.set_xy(pdf.l_margin, pdf.t_margin)
    pdf.cell(0, 5, right, align="R")
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.t_margin + 6, pdf.w - pdf.r_margin, pdf.t_margin + 6)


def _picture(s: ShotSheet, prep: Prepared, out_dir: Path, width: int, height: int):
    """The middle key frame of the take in the cut; else the drawn panel (the review page's, if it drew one)."""
    if s.entry is not None:
        try:
            return str(clip_stills(s.entry)[0][BIG][0])
        except MediaError:
            pass
    ctx = prep.contexts[s.compiled.index]
    drawn = out_dir / "review" / panel_name(s.compiled, ctx)
    if drawn.exists():
        return str(drawn)
    return drawn_panel(s.compiled, ctx, prep.loaded.asset, width, height)


def _panel(pdf, s: ShotSheet, sheet: Sheet, prep: Prepared, out_dir: Path, x: float, y: float, w: float, h: float) -> None:
    ih = w * sheet.height / sheet.width
    pw = BIG
    pdf.image(_picture(s, prep, out_dir, pw, max(2, round(pw * sheet.height / sheet.width))), x=x, y=y, w=w, h=ih)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.3)
    pdf.rect(x, y, w, ih)
    if s.drift:  # the drift mark: who drifted or is missing, in red over the picture's corner
        mark = " · ".join(f"{c.verdict.upper()}: {c.name}" for c in s.drift)
        pdf.set_font("sans", size=8)
        mw = min(w - 2, pdf.get_string_width(mark) + 2 * pdf.c_margin + 1)
        pdf.set_fill_color(200, 40, 40)
        pdf.set_text_color(255, 255, 255)
        pdf.set_xy(x + 1, y + 1)
        room = mw - 2 * pdf.c_margin
        pdf.cell(mw, 4.6, mark if pdf.get_string_width(mark) <= room else _ellipsis(pdf, mark, room), fill=True)
    cy = y + ih + 1.2
    # number and id, and the duration and place in the cut
    pdf.set_text_color(*INK)
    pdf.set_font("sans", size=11)
    pdf.set_xy(x, cy)
    pdf.cell(w * 0.55, 5, f"{s.number}  {s.id}")
    pdf.set_font("sans", size=7.5)
    pdf.set_text_color(*DIM)
    pdf.set_xy(x + w * 0.45, cy + 0.6)
    pdf.cell(w * 0.55, 4.4, f"{s.duration:g}s · {s.tc_in}", align="R")
    cy += 5.4
    pdf.set_text_color(*ACCENT)
    pdf.set_font("sans", size=7.5)
    pdf.set_xy(x, cy)
    pdf.cell(w, 3.6, " · ".join(v.upper() for v in (s.framing, s.angle, s.move) if v) + (f" · {s.lens}" if s.lens else ""))
    cy += 4.0
    lh = 3.3
    lines_left = int((y + h - cy) // lh)
    notes = [f"Sound: {s.sound}" if s.sound else "", f"Into next: {s.transition}" if s.transition != "cut" else "",
             s.continuity if s.continuity != "cut" else "",
             f"{s.status}" + (f" ({s.reason})" if s.reason and s.status not in ("done", "cached", "not rendered") else "")
             + (f", take {s.take}" if s.take else "")
             + (" (chosen by identity score)" if s.chosen_by == "identity" else ""),
             f"Identity: {identity_words(s)}" if s.identity and s.identity.characters else ""]
    blocks = [("Action", s.action, INK), ("Dialogue", s.dialogue_text, INK),
              ("Review", s.review_text, ACCENT), ("Notes", " · ".join(n for n in notes if n), DIM)]
    pdf.set_font("sans", size=7.5)
    wrapped = [(label, _wrap(pdf, f"{label}: {text}" if label != "Action" else text, w), colour)
               for label, text, colour in blocks if text]
    budget = _share([len(lines) for _, lines, _ in wrapped], lines_left)
    for (label, lines, colour), n in zip(wrapped, budget):
        if n <= 0:
            continue
        shown = lines[:n]
        if len(lines) > n:
            shown[-1] = _ellipsis(pdf, shown[-1], w)
        pdf.set_text_color(*colour)
        for line in shown:
            pdf.set_xy(x, cy)
            pdf.cell(w, lh, line)
            cy += lh
    # ruled lines in the room left, for notes by hand
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.1)
    ry = cy + 5.5
    while ry < y + h - 0.5:
        pdf.line(x, ry, x + w, ry)
        ry += 5.5


def _wrap(pdf, text: str, width: float) -> list[str]:
    from fpdf.enums import MethodReturnValue
    out: list[str] = []
    for para in text.splitlines() or [""]:
        out += pdf.multi_cell(width, 3.3, para, dry_run=True, output=MethodReturnValue.LINES) or [""]
    return out


def _ellipsis(pdf, line: str, width: float) -> str:
    while line and pdf.get_string_width(line + " …") > width:
        line = line[:-1]
    return line.rstrip() + " …"


def _share(wants: list[int], total: int) -> list[int]:
    """Lines for each block: each gets what it wants while it can; a block that would overflow is cut,
    and the last (notes) keeps at least one line when any is left."""
    out = [0] * len(wants)
    left = total
    reserve = 1 if len(wants) > 1 and wants[-1] else 0
    for i, want in enumerate(wants):
        room = left - (reserve if i < len(wants) - 1 else 0)
        out[i] = max(0, min(want, room))
        left -= out[i]
    return out
