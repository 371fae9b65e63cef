"""review.html in a real browser (Debian's chromium through Playwright), takes picked from the cache,
`--shot` keeping the other shots' clips, and the review of a storyboard never rendered."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.media.probe import decodes
from storyboard.store.cache import Cache
from tests.conftest import read_manifest

FILM = """
version: 1
title: Test Film
defaults: {size: 320x180}
characters:
  ana: {name: Ana, description: a woman, wardrobe: a green coat}
  ben: {name: Ben, description: a man}
locations:
  room: {description: a room, time: night}
  yard: {description: a yard, time: day, weather: snow}
shots:
  - id: one
    duration: 2
    location: room
    characters: [ana]
    action: Ana waits.
    dialogue:
      - ana: "(quietly) Hello."
    transition: dissolve 0.5s
  - id: two
    duration: 2
    location: room
    characters: [ana]
    camera: {move: dolly in}
    continuity: continuous
    action: Ana turns.
  - id: three
    duration: 1.5
    location: yard
    characters: [ben]
    action: Ben sweeps the snow.{pin}
"""


def write(project, pin: int | None = None, action: str = "Ben sweeps the snow.") -> Path:
    path = project / "film.yaml"
    path.write_text(FILM.replace("{pin}", f"\n    take: {pin}" if pin else "").replace("Ben sweeps the snow.", action))
    return path


def clips_in_cache() -> list[Path]:
    return sorted((Cache().root / "clips").rglob("clip.mp4"))


class Visit:
    """A page opened (from file://, or a URL) with every console error and request recorded."""

    def __init__(self, browser, html: Path | str):
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(html if isinstance(html, str) else html.as_uri())
        self.page.wait_for_function("() => window.storyboardReview && window.storyboardReview.ready")

    def load_every_image(self) -> list[tuple[str, int]]:
        """Scroll each (lazy) image into view, then the natural width of each."""
        imgs = self.page.locator("img")
        for i in range(imgs.count()):
            imgs.nth(i).scroll_into_view_if_needed()
        self.page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        return self.page.evaluate("() => Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")

    def play_every_clip(self) -> list[tuple[str, float, float]]:
        """Click each strip and take: (clip, the video's duration, the duration the page states) once it plays."""
        out = []
        buttons = self.page.locator(".strip, .take-play")
        for i in range(buttons.count()):
            b = buttons.nth(i)
            b.scroll_into_view_if_needed()
            b.click()
            shot = b.evaluate("b => b.closest('.shot').id")
            self.page.wait_for_function(
                "id => { const v = document.querySelector('#' + id + ' .player video');"
                " return v.readyState >= 2 && v.currentTime > 0.1; }", arg=shot, timeout=15_000)
            out.append(tuple(b.evaluate(
                "b => { const v = b.closest('.shot').querySelector('.player video');"
                " return [b.dataset.clip, v.duration, parseFloat(b.dataset.seconds)]; }")))
            b.evaluate("b => b.closest('.shot').querySelector('.player video').pause()")
        return out

    def close(self):
        self.page.close()


@pytest.mark.slow
def test_review_page_in_chromium_with_takes_and_a_pinned_take(project, browser, monkeypatch, capsys):
    film = write(project)
    assert main(["render", str(film)]) == 0
    assert main(["render", str(film), "--shot", "three", "--takes", "2"]) == 0
    assert read_manifest(project / "film")["shots"][2]["take"] == 2
    # pin take 1: picking it renders nothing and calls no provider
    from storyboard.animatic.backend import AnimaticBackend

    def refuse(self, req):
        raise AssertionError(f"the backend was asked to render {req.shot.id}")
    monkeypatch.setattr(AnimaticBackend, "render", refuse)
    before = clips_in_cache()
    write(project, pin=1)
    assert main(["validate", str(film)]) == 0
    assert main(["render", str(film)]) == 0
    assert clips_in_cache() == before
    man = read_manifest(project / "film")
    assert [(s["status"], s["take"]) for s in man["shots"]] == [("cached", 1), ("cached", 1), ("cached", 1)]
    capsys.readouterr()
    assert main(["takes", str(film), "three"]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"take 1 .*made\s+<- pinned, in the cut", listed) and re.search(r"take 2 .*made$", listed, re.M)

    html = project / "film" / "review.html"
    text = html.read_text()
    assert "http://" not in text and "https://" not in text  # no CDN, no web font, nothing fetched
    for src in re.findall(r'(?:src|data-clip)="([^"]+)"', text):
        assert not src.startswith("/") and (html.parent / src).is_file(), src
    v = Visit(browser, html)
    try:
        widths = v.load_every_image()
        assert len(widths) == 3 * 3 + 2 and all(w > 0 for _, w in widths), widths
        played = v.play_every_clip()
        assert len(played) == 3 + 2  # a strip per shot, and the two takes of 'three'
        for clip, duration, stated in played:
            assert duration == pytest.approx(stated, abs=0.05), clip
        assert {c for c, _, _ in played} >= {"review/001_one_t1.mp4", "review/003_three_t1.mp4", "review/003_three_t2.mp4"}
        pinned = v.page.locator("#shot-three .take.pinned")
        assert pinned.count() == 1 and "pinned" in pinned.inner_text() and "in the cut" in pinned.inner_text()
        assert pinned.get_attribute("data-take") == "1"
        assert v.page.locator("#shot-three .take:not(.in-cut)").get_attribute("data-take") == "2"
        # the filters
        v.page.select_option("#f-char", "ana")
        assert v.page.locator("#shown").inner_text() == "2 of 3 shots" and v.page.locator("#shot-three").is_hidden()
        v.page.select_option("#f-char", "")
        v.page.select_option("#f-loc", "yard")
        assert v.page.locator("#shown").inner_text() == "1 of 3 shots" and v.page.locator("#shot-one").is_hidden()
        assert v.errors == []
        assert v.requests and all(u.startswith("file://") for u in v.requests), v.requests
    finally:
        v.close()
    assert "5.0s" in text and ">3<" in text and "animatic" in text and "$0.00" in text

    # the same folder from a static web server
    with static_server(html.parent) as base:
        v = Visit(browser, f"{base}/review.html")
        try:
            assert all(w > 0 for _, w in v.load_every_image())
            assert len(v.play_every_clip()) == 5
            assert v.errors == [] and all(u.startswith(base) for u in v.requests), v.requests
        finally:
            v.close()


@contextlib.contextmanager
def static_server(folder: Path):
    """A plain static file server on 127.0.0.1 (byte ranges are not needed to play a clip)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_review_of_a_storyboard_never_rendered_shows_drawn_panels(project, browser, monkeypatch):
    from storyboard.animatic.backend import AnimaticBackend
    monkeypatch.setattr(AnimaticBackend, "render", lambda self, req: pytest.fail("review rendered a shot"))
    film = write(project)
    assert main(["review", str(film)]) == 0
    assert clips_in_cache() == []
    html = project / "film" / "review.html"
    text = html.read_text()
    assert text.count("drawn panel: not rendered") == 3 and 'class="strip"' not in text
    assert not (project / "film" / "final.mp4").exists()
    v = Visit(browser, html)
    try:
        widths = v.load_every_image()
        assert len(widths) == 3 and all(w > 0 for _, w in widths)
        assert v.page.locator(".shot.status-not-rendered .badge").all_inner_texts() == ["not rendered"] * 3
        assert v.errors == [] and all(u.startswith("file://") for u in v.requests)
    finally:
        v.close()


@pytest.mark.slow
def test_shot_keeps_the_other_shots_clips(project, capsys):
    """Edit one shot, render another: the edited one keeps the clip the last cut had, never a slate,
    and the new final.mp4 has every shot."""
    film = write(project)
    assert main(["render", str(film)]) == 0
    first = read_manifest(project / "film")
    write(project, action="Ben shovels the snow.")
    capsys.readouterr()
    assert main(["render", str(film), "--shot", "one", "--new-take"]) == 0
    err = capsys.readouterr().err
    man = read_manifest(project / "film")
    status = {s["id"]: (s["status"], s["clip"]) for s in man["shots"]}
    assert status["one"][0] == "rendered"
    assert status["two"] == ("kept", first["shots"][1]["clip"])  # it continues the old take of one
    assert status["three"] == ("kept", first["shots"][2]["clip"])  # edited, not asked for
    assert "add --shot three to render it anew" in err and "NO CLIP" not in err
    assert decodes(project / "film" / "final.mp4") == 48 + 48 + 36 - 12
    page = (project / "film" / "review.html").read_text()
    assert page.count('class="badge">kept<') == 2 and "not rendered" not in page
    assert 'id="f-drift"' not in page  # no character was checked: nothing to filter by drift
    # a clip of the current request is used however the take count moved: a pruned newest take
    one = Cache().get(man["shots"][0]["key"])
    shutil.rmtree(one.folder)
    assert main(["render", str(film), "--shot", "three"]) == 0
    man = read_manifest(project / "film")
    assert (man["shots"][0]["status"], man["shots"][0]["take"]) == ("cached", 1)
    assert [s["status"] for s in man["shots"]] == ["cached", "cached", "rendered"]
