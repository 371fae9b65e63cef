"""Text in every alphabet from fonts installed by pip: Noto Sans (Latin with every accent, Greek,
Cyrillic) and Noto Sans CJK for Chinese, Japanese and Korean, chosen per character. No system font
is ever looked for, so a panel draws the same on every machine."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from PIL import ImageDraw, ImageFont

ELLIPSIS = "…"
_CJK_FACES = {"jp": 0, "kr": 1, "sc": 2, "tc": 3}  # faces of NotoSansCJK-Regular.ttc
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")


@lru_cache(maxsize=1)
def latin_path() -> Path:
    return Path(str(files("justmytype_western_core") / "fonts" / "ofl" / "notosans" / "NotoSans[wdth,wght].ttf"))


@lru_cache(maxsize=1)
def cjk_path() -> Path:
    import noto_cjk_sans_otc
    return Path(str(noto_cjk_sans_otc.FONT_PATH))


# tables a PDF never reads: the variations (a PDF shows the default instance, Regular) and the OpenType
# layout that fpdf2 drops from its subset, after decompiling it to check its size (0.05 s a document)
_NOT_FOR_PDF = ("GSUB", "GPOS", "GDEF", "fvar", "gvar", "avar", "cvar", "HVAR", "MVAR", "STAT")


def latin_for_pdf() -> Path:
    """Noto Sans for fpdf2: the variable font's default instance (the same outlines: the default of
    its axes is Regular) without the tables a PDF never reads, so a document embeds it in 0.03 s, not
    0.13. Made once (0.04 s) beside the cache, named by the source's digest; the source where that
    folder cannot be written."""
    from storyboard.store.cache import local_root
    from storyboard.store.files import atomic_write_bytes
    source = latin_path()
    path = local_root() / "fonts" / f"NotoSans-pdf-{_digest(str(source))[:16]}.ttf"
    if not path.is_file():
        try:
            atomic_write_bytes(path, _for_pdf(str(source)))
        except OSError:
            return source
    return path


# Western European letters (ASCII, Latin-1, Latin Extended-A and -B) and general punctuation, with the euro and
# the trade mark: boards whose text is all in these embed this cut of the same Noto Sans, shipped with storyboard
# (660 glyphs instead of 4,500): 0.018 s of fpdf2's work a document instead of 0.057, and nothing made beforehand
WESTERN = (*range(0x20, 0x250), *range(0x2000, 0x2070), 0x20AC, 0x2122, 0xFFFD)


def western_for_pdf() -> Path:
    return Path(str(files("storyboard") / "data" / "fonts" / "NotoSans-Western-pdf.ttf"))


def pdf_face(letters: set[int]) -> Path:
    """The Noto Sans file a PDF whose text has these letters embeds: the shipped Western cut when it has
    them all, else the whole face (latin_for_pdf)."""
    western = western_for_pdf()
    return western if letters <= charmap(str(western)) else latin_for_pdf()


def make_western_for_pdf(dst: Path | None = None) -> Path:
    """Cut the shipped Western face again from the installed Noto Sans (after the font's package changes):
    python -c 'from storyboard.draw.fonts import make_western_for_pdf; make_western_for_pdf()'."""
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont
    dst = dst or western_for_pdf()
    font = TTFont(io.BytesIO(_for_pdf(str(latin_path()))))
    options = subset.Options()
    options.layout_features, options.name_IDs, options.notdef_outline, options.glyph_names = [], ["*"], True, False
    cut = subset.Subsetter(options)
    cut.populate(unicodes=WESTERN)
    cut.subset(font)
    font.save(str(dst))
    return dst


@lru_cache(maxsize=4)
def _digest(path: str) -> str:
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def _for_pdf(path: str) -> bytes:
    import io

    from fontTools.ttLib import TTFont
    with TTFont(path, lazy=True) as font:
        for tag in _NOT_FOR_PDF:
            if tag in font:
                del font[tag]
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


@lru_cache(maxsize=None)
def charmap(path: str, index: int = 0) -> frozenset[int]:
    """The code points a font file (face `index` of a collection) has glyphs for."""
    from fontTools.ttLib import TTFont
    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def cjk_face(text: str) -> int:
    """Japanese forms when the text has kana, Korean with Hangul, else Simplified Chinese."""
    if _KANA.search(text):
        return _CJK_FACES["jp"]
    if _HANGUL.search(text):
        return _CJK_FACES["kr"]
    return _CJK_FACES["sc"]


@lru_cache(maxsize=256)
def _face(kind: str, index: int, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    path = latin_path() if kind == "latin" else cjk_path()
    f = ImageFont.truetype(str(path), size, index=index, layout_engine=ImageFont.Layout.BASIC)
    if kind == "latin":
        f.set_variation_by_name("Bold" if bold else "Regular")
    return f


class Type:
    """One size of the house type. Measures, cuts, wraps and draws text, each character in the font
    that has it (Latin first, CJK for the rest)."""

    def __init__(self, size: float, bold: bool = False):
        self.size = max(6, int(round(size)))
        self.bold = bold
        self.latin = _face("latin", 0, self.size, bold)
        ascent, descent = self.latin.getmetrics()
        self.ascent, self.descent = ascent, descent
        self.line_height = int(round((ascent + descent) * 1.12))

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        """The text cut where the font changes: [(piece, font)]."""
        latin = charmap(str(latin_path()))
        index = cjk_face(text)
        cjk: frozenset[int] | None = None  # read only for text Latin lacks: ~17 MB kept per CJK face
        out: list[tuple[str, ImageFont.FreeTypeFont]] = []
        cur, kind = "", None
        for ch in text:
            if ch.isspace():
                k = kind or "latin"
            elif ord(ch) in latin:
                k = "latin"
            else:  # a character neither font has stays Latin (and shows as a box)
                if cjk is None:
                    cjk = charmap(str(cjk_path()), index)
                k = "cjk" if ord(ch) in cjk else "latin"
            if kind is not None and k != kind:
                out.append((cur, self._font(kind, index)))
                cur = ""
            cur += ch
            kind = k
        if cur:
            out.append((cur, self._font(kind or "latin", index)))
        return out

    def _font(self, kind: str, index: int) -> ImageFont.FreeTypeFont:
        return self.latin if kind == "latin" else _face("cjk", index, self.size, False)

    def length(self, text: str) -> float:
        return sum(f.getlength(piece) for piece, f in self.runs(text))

    def draw(self, d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill, stroke: int = 0,
             stroke_fill=None) -> float:
        """Draw with the top of the line at xy; returns the width drawn."""
        x, y = xy
        base = y + self.ascent
        for piece, f in self.runs(text):
            d.text((x, base), piece, font=f, fill=fill, anchor="ls", stroke_width=stroke, stroke_fill=stroke_fill)
            x += f.getlength(piece)
        return x - xy[0]

    def fit(self, text: str, max_w: float) -> str:
        """The text, or as much of it as fits in max_w followed by '…'."""
        text = " ".join(text.split())
        cap = int(max_w / (self.size * 0.12)) + 2  # more letters than this never fit (none is under 1/8 em)
        if len(text) <= cap and self.length(text) <= max_w:
            return text
        text = text[:cap]
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if self.length(text[:mid].rstrip() + ELLIPSIS) <= max_w:
                lo = mid
            else:
                hi = mid - 1
        return (text[:lo].rstrip() + ELLIPSIS) if lo else (ELLIPSIS if self.length(ELLIPSIS) <= max_w else "")

    def wrap(self, text: str, max_w: float, max_lines: int) -> list[str]:
        """Greedy lines of at most max_w; words wider than a line (CJK has no spaces) break anywhere.
        Text beyond max_lines ends the last line with '…'."""
        tokens: list[str] = []
        budget = (max_lines + 1) * (int(max_w / (self.size * 0.12)) + 2)  # letters that could ever show
        for word in text[:budget].split():
            if self.length(word) <= max_w:
                tokens.append(word)
                continue
            piece = ""
            for ch in word:
                if piece and self.length(piece + ch) > max_w:
                    tokens.append(piece)
                    piece = ""
                piece += ch
            tokens.append(piece)
        lines: list[str] = []
        cur = ""
        joiner = ""
        for tok in tokens:
            trial = f"{cur}{joiner}{tok}" if cur else tok
            if self.length(trial) <= max_w:
                cur = trial
            else:
                lines.append(cur)
                cur = tok
                if len(lines) > max_lines:
                    break
            joiner = "" if _is_cjk(tok[-1:]) else " "
        if cur and len(lines) <= max_lines:
            lines.append(cur)
        if len(lines) > max_lines or len(text) > budget:
            lines = lines[:max_lines]
            last = lines[-1]
            while last and self.length(last.rstrip() + ELLIPSIS) > max_w:
                last = last[:-1]
            lines[-1] = last.rstrip() + ELLIPSIS
        return lines


def _is_cjk(ch: str) -> bool:
    return bool(ch) and ord(ch) >= 0x2E80


def fitted(text: str, max_w: float, size: float, min_size: float, bold: bool = False) -> tuple[Type, str]:
    """The largest size from `size` down to `min_size` at which the text fits, else cut with '…' at min_size."""
    s = size
    long = len(text) > int(max_w / (min_size * 0.12)) + 2  # too many letters to fit at any size
    while s > min_size and not long:
        t = Type(s, bold)
        if t.length(text) <= max_w:
            return t, text
        s = max(min_size, s * 0.9)
    t = Type(min_size, bold)
    return t, t.fit(text, max_w)
