"""The words on an animatic frame: every alphabet drawn from a real glyph, every text inside the
frame and in its own zone, long ids and names cut with an ellipsis."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw

from storyboard.draw import fonts
from storyboard.draw.cards import draw_subtitle, hud_layout, subtitle_layout, zones

SIZES = [(1280, 720), (720, 1280), (1792, 1024), (1024, 1792), (1920, 1080), (640, 360)]
LONGEST = {
    "shot_id": "a" * 64,
    "camera_words": "OVER-THE-SHOULDER · EXTREME-CLOSE-UP · DUTCH ANGLE · 35MM ANAMORPHIC " + "GLASS " * 40 + "· TRUCK RIGHT",
    "place": "THE " + "VERY " * 60 + "LONG PLACE — golden hour, the storm easing, rain thinning",
    "action": ("Mara climbs the last steps and sets her lantern beside the great lens. " * 60)[:4000],
    "sound": ("wind against the glass, rain, the low hum of the lamp, " * 80)[:4000],
}
WORDS = {
    "accented": "Inès, Zoë, Ça va? Łukasz Wóycicki, Dvořák, Øresund, Ærø, ŞĞİ, Nguyễn Thị Ánh",
    "greek": "Καλημέρα, Ἀθῆναι, ΑΒΓΔ",
    "cyrillic": "Привет, Дмитрий! Ёжик, Україна, Ђорђе, Јован",
    "cjk": "你好，世界。こんにちは、カタカナ。한국어 안녕하세요",
}


@pytest.mark.parametrize("w,h", SIZES)
def test_longest_texts_keep_to_their_zones_inside_the_frame(w, h):
    placed = hud_layout(w, h, **LONGEST)
    assert {p.kind for p in placed} == {"id", "camera", "place", "action", "sound"}
    sub = subtitle_layout("Łukasz Wóycicki-Brzęczyszczykiewicz the Third", "word " * 200, w, h, note="O.S.")
    boxes = [p.box for p in placed] + [sub.box]
    for b in boxes:
        assert b.inside(w, h), b
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    z = zones(w, h)
    assert not z.top.overlaps(z.subtitle) and not z.subtitle.overlaps(z.sound)
    for p in [*placed, sub]:  # each line fits its box: cut, not spilling
        for line in p.lines:
            assert p.type.length(line) <= p.box.x1 - p.box.x0 + 0.5
    cut = {p.kind: p for p in placed}
    assert cut["id"].lines[0].endswith("…") and cut["action"].lines[-1].endswith("…")
    assert sub.lines[-1].endswith("…") and sub.type.size >= 24 * min(w, h) / 720 - 1  # never shrunk to nothing


def test_short_texts_are_not_cut():
    placed = {p.kind: p for p in hud_layout(1280, 720, "climb", "WIDE · LOW ANGLE", "LAMP ROOM — night", "Mara climbs.", "")}
    assert placed["id"].lines == ("CLIMB",) and placed["action"].lines == ("Mara climbs.",)
    assert "sound" not in placed


@pytest.mark.parametrize("script", sorted(WORDS))
def test_every_letter_has_a_glyph(script):
    """Each character is drawn by a font whose character map has it: none falls back to the box."""
    text = WORDS[script]
    t = fonts.Type(30)
    maps = {}
    for piece, font in t.runs(text):
        path, index = font.path, getattr(font, "index", 0)
        if (path, index) not in maps:
            maps[(path, index)] = set(TTFont(path, fontNumber=index, lazy=True).getBestCmap())
        for ch in piece:
            if not ch.isspace():
                assert ord(ch) in maps[(path, index)], (ch, hex(ord(ch)), path)
    assert "".join(piece for piece, _ in t.runs(text)) == text


def test_no_system_fonts():
    for path in (fonts.latin_path(), fonts.cjk_path()):
        assert "site-packages" in str(path) or "dist-packages" in str(path)


def test_accented_names_draw_like_themselves_not_boxes():
    """'Inès' and 'Ines' differ only by the accent's few pixels; a box would differ by many more."""
    def ink(s: str) -> np.ndarray:
        im = Image.new("L", (300, 80), 0)
        fonts.Type(40).draw(ImageDraw.Draw(im), (10, 10), s, 255)
        return np.asarray(im) > 128
    accent = (ink("Inès") ^ ink("Ines")).sum()
    box = (ink("In\uffffs") ^ ink("Ines")).sum()
    assert 0 < accent < box / 2


def test_cjk_wraps_without_spaces():
    t = fonts.Type(30)
    lines = t.wrap("你好世界" * 40, 400, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(t.length(line) <= 400 for line in lines)


def test_subtitle_card_stays_in_its_zone():
    w, h = 1280, 720
    im = draw_subtitle("Inès", "Ça va? 你好, Привет! " * 20, "#e6194b", w, h, note="V.O.")
    box = im.getbbox()
    z = zones(w, h)
    assert box[1] >= z.subtitle.y0 - 1 and box[3] <= z.subtitle.y1 + 1 and box[0] >= 0 and box[2] <= w
