"""The review page on a phone (360 px wide, Chromium): a character's name chip breaks between words
only, never inside one, and its wardrobe goes under it (issue 22, item 16)."""

from __future__ import annotations

from storyboard.cli import main

FILM = """
version: 1
characters:
  ana: {name: Anastasia Romanova, description: a woman, wardrobe: a long green waxed coat with brass buttons}
  ben: {name: Benedict, description: a man, wardrobe: a navy fisherman's sweater}
  cat: {name: Maximiliana-Theodora Featherstonehaugh-Worthington, description: a woman}
shots:
  - {id: one, duration: 2, characters: [ana, ben, cat], action: They wait by the door.}
"""


def test_name_chips_never_break_inside_a_word_at_360px(project, browser):
    (project / "film.yaml").write_text(FILM)
    assert main(["review", str(project / "film.yaml")]) == 0
    page = browser.new_page(viewport={"width": 360, "height": 800})
    try:
        page.goto((project / "film" / "review.html").as_uri())
        page.wait_for_function("() => window.storyboardReview && window.storyboardReview.ready")
        # the chip's text on each line it takes, measured with a Range per character
        lines = page.evaluate("""() => Array.from(document.querySelectorAll('.chip')).map(chip => {
            const text = chip.firstChild, rows = new Map();
            for (let i = 0; i < text.length; i++) {
                const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                const top = Math.round(r.getBoundingClientRect().top);
                rows.set(top, (rows.get(top) || '') + text.data[i]);
            }
            return Array.from(rows.values()).map(s => s.trim());
        })""")
        assert lines[1] == ["Benedict"] and lines[0] in (["Anastasia Romanova"], ["Anastasia", "Romanova"])
        words = set("Maximiliana-Theodora Featherstonehaugh-Worthington".replace("-", "- ").split())
        assert all(set(row.replace("-", "- ").split()) <= words for row in lines[2])  # whole words a row
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # nothing sticks out
    finally:
        page.close()
