"""`storyboard serve` in a real browser (Debian's chromium through Playwright), against the real
command in a subprocess: the cut plays, the shot strip seeks, a take is pinned with a click (the
YAML changes by one line, the cut holds the take), a note lands as a marker in timeline.otio, an
edit of the file updates its card without a reload, a write from another site is refused, a second
room on the same file is refused, and Ctrl-C closes the room cleanly. One film for the module."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.test_review import static_server

pytest.importorskip("starlette", reason="the review room's extra is not installed: pip install 'storyboard[serve]'")
pytestmark = pytest.mark.xdist_group("serve")  # one film and one room for the module: keep it on one worker (--dist loadgroup)

FILM = """\
# a film for the review room
version: 1
title: Room Test
defaults: {size: 320x180}  # the room's files, not its pixels, are under test: a small frame is quick to cut
characters:
  ana: {name: Ana, description: a woman, wardrobe: a green coat}
  ben: {name: Ben, description: a man}
locations:
  room: {description: a room, time: night}
  yard: {description: a yard, time: day, weather: snow}
shots:
  - id: one   # the opening
    duration: 2
    location: room
    characters: [ana]
    action: "Ana waits."
    dialogue:
      - ana: "(quietly) Hello."
  - {id: two, duration: 2, location: room, characters: [ana], action: 'Ana turns.'}
  - id: three
    duration: 1.5
    location: yard
    characters: [ben]
    action: Ben sweeps the snow.
"""


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def wait_state(base: str, test, timeout: float = 120.0, errors: bool = False) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        s = get(base + "state")
        if test(s):
            return s
        assert errors or not s["error"], s["error"]
        assert time.monotonic() < deadline, f"the room never got there: {s}"
        time.sleep(0.2)


def idle(s: dict) -> bool:
    return not s["busy"] and not s["to_render"] and s["cut"] >= 1


class Served:
    def __init__(self, project: Path, env: dict):
        self.project, self.env = project, env
        self.film = project / "film.yaml"
        self.out = project / "film"
        self.proc = subprocess.Popen([sys.executable, "-m", "storyboard.cli", "serve", "film.yaml", "--port", "0"],
                                     cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert m, line + self.proc.stderr.read()
        self.url = m.group(1)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "storyboard.cli", *args], cwd=self.project, env=self.env,
                              capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """The film with two takes of 'three' (rendered without a cut), then the room, which renders the
    rest with the animatic and makes the first cut."""
    project = tmp_path_factory.mktemp("room")
    home = tmp_path_factory.mktemp("room-home")
    (project / ".storyboard").write_text("")
    (project / "film.yaml").write_text(FILM)
    env = {**os.environ, "STORYBOARD_CACHE": str(home / "cache"), "STORYBOARD_CONFIG": str(home / "config.toml")}
    from storyboard import pipeline
    from storyboard.store.cache import Cache
    prep = pipeline.prepare(project / "film.yaml", "animatic")
    cache = Cache(home / "cache")
    done = pipeline.render_shots(prep, pipeline.make_plan(prep, cache, select=["three"], takes=2), cache=cache)
    assert sorted(o.status for o in [*done.outcomes.values(), *done.extra.values()]).count("rendered") == 2
    served = Served(project, env)
    try:
        wait_state(served.url, idle)
        yield served
    finally:
        if served.proc.poll() is None:
            served.proc.send_signal(signal.SIGINT)
            served.proc.wait(20)


@pytest.fixture
def page(room, browser):
    pg = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(room.url)
    pg.wait_for_function("() => window.storyboardRoom && window.storyboardRoom.ready")
    pg.errors = errors
    yield pg
    pg.close()


def manifest(room) -> dict:
    return json.loads((room.out / "manifest.json").read_text())


def test_the_cut_plays_and_a_shot_in_the_strip_seeks_to_it(room, page):
    assert page.locator(".strip-shot").count() == 3
    page.evaluate("() => { const v = document.getElementById('cut'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.getElementById('cut').currentTime > 0.3", timeout=15_000)
    page.wait_for_function("() => document.querySelector('.strip-shot.now')")
    duration = page.evaluate("() => document.getElementById('cut').duration")
    assert duration == pytest.approx(5.5, abs=0.1)
    page.evaluate("() => document.getElementById('cut').pause()")
    page.locator('.strip-shot[data-shot="three"]').click()
    page.wait_for_function("() => Math.abs(document.getElementById('cut').currentTime - 4.0) < 0.05", timeout=5_000)
    assert page.locator(".strip-shot.now").get_attribute("data-shot") == "three"
    assert "now" in page.locator("#shot-three").get_attribute("class")
    page.locator('.strip-shot[data-shot="two"]').click()
    page.wait_for_function("() => Math.abs(document.getElementById('cut').currentTime - 2.0) < 0.05", timeout=5_000)
    assert page.locator(".strip-shot.now").get_attribute("data-shot") == "two"
    assert page.errors == []


@pytest.mark.slow
def test_pinning_take_2_writes_one_line_and_the_cut_holds_it(room, page):
    """Unpinned, the cut holds the latest take (2); pin 1, then 2: each a click, each one line of
    the file, each a new cut (no render) holding that take; unpin gives back the original bytes."""
    before = room.film.read_bytes()
    assert [s["take"] for s in manifest(room)["shots"] if s["id"] == "three"] == [2]
    takes = page.locator("#shot-three .take")
    assert takes.count() == 2
    takes.nth(0).locator(".take-play").click()  # a take plays where it is
    page.wait_for_function("() => { const v = document.querySelector('#shot-three .take video');"
                           " return v && v.readyState >= 2; }", timeout=10_000)
    clips = sorted((Path(room.env["STORYBOARD_CACHE"]) / "clips").rglob("clip.mp4"))
    for take in (1, 2):
        cut = get(room.url + "state")["cut"]
        page.locator(f'#shot-three .pin-take[data-take="{take}"]').click()
        wait_state(room.url, lambda s, cut=cut: s["cut"] > cut and idle(s))
        assert room.film.read_bytes() == before.replace(b"  - id: three\n", b"  - id: three\n    take: %d\n" % take)
        assert [(s["take"], s["status"]) for s in manifest(room)["shots"] if s["id"] == "three"] == [(take, "cached")]
        page.wait_for_function(f"() => document.querySelector('#shot-three .take.pinned[data-take=\"{take}\"]')",
                               timeout=10_000)
        page.wait_for_function(f"() => document.getElementById('cut').getAttribute('src').endsWith("
                               f"'cut={get(room.url + 'state')['cut']}')", timeout=10_000)
    assert sorted((Path(room.env["STORYBOARD_CACHE"]) / "clips").rglob("clip.mp4")) == clips  # nothing rendered
    cut = get(room.url + "state")["cut"]
    page.locator('#shot-three .pin-take[data-pinned="true"]').click()  # unpin: the line goes
    wait_state(room.url, lambda s: s["cut"] > cut and idle(s))
    assert room.film.read_bytes() == before
    assert page.errors == []


def test_a_pin_on_a_file_changed_since_the_page_loaded_is_refused(room, page):
    before = room.film.read_text()
    page.evaluate("() => document.querySelector('meta[name=\"storyboard-version\"]').content = 'stale'")
    page.locator('#shot-three .pin-take[data-take="2"]').click()
    page.wait_for_function("() => document.getElementById('room-error').textContent.includes('changed on disk')")
    assert room.film.read_text() == before


def test_a_note_and_a_status_become_markers_in_timeline_otio(room, page):
    cut = get(room.url + "state")["cut"]
    page.fill("#author", "Dana")
    page.dispatch_event("#author", "change")
    page.fill("#shot-two .note-form textarea", "too dark, lift the lamp")
    page.click("#shot-two .note-form button")
    page.wait_for_function("() => document.querySelector('#shot-two .notes li')", timeout=15_000)
    page.click('#shot-two .review-status button[data-status="retake"]')
    sidecar = room.project / "film.review.yaml"
    wait_state(room.url, lambda s: sidecar.exists() and "status: retake" in sidecar.read_text())
    wait_state(room.url, lambda s: s["cut"] > cut and idle(s)
               and "NOTE two: review: retake" in (room.out / "timeline.otio").read_text())
    otio_text = (room.out / "timeline.otio").read_text()
    assert "NOTE two: Dana: too dark, lift the lamp" in otio_text
    sidecar = (room.project / "film.review.yaml").read_text()
    assert "status: retake" in sidecar and "author: Dana" in sidecar and "text: too dark, lift the lamp" in sidecar
    assert "retake · Dana: too dark, lift the lamp" in (room.out / "shotlist.csv").read_text()
    page.wait_for_function("() => document.querySelector('#shot-two .review-status button[data-status=retake]')"
                           ".getAttribute('aria-pressed') === 'true'", timeout=10_000)
    assert page.errors == []


def test_editing_an_action_line_updates_its_card_without_a_reload(room, page):
    page.evaluate("() => { window.notReloaded = true; }")
    text = room.film.read_text()
    room.film.write_text(text.replace("Ben sweeps the snow.", "Ben shovels the deep snow."))
    t0 = time.monotonic()
    page.wait_for_function("() => document.querySelector('#shot-three').textContent.includes('Ben shovels the deep snow.')"
                           " && !document.querySelector('#shot-three .waiting')", timeout=15_000)
    took = time.monotonic() - t0
    assert page.evaluate("() => window.notReloaded === true")
    assert took < 15
    wait_state(room.url, idle, timeout=60)
    assert "Ben shovels the deep snow." in (room.out / "review.html").read_text()


def test_a_pin_to_a_take_that_does_not_exist_is_said_and_can_be_unpinned_from_the_page(room, page):
    """The cut uses the shot's latest take meanwhile (a warning, not an error); the card offers the unpin."""
    before = room.film.read_bytes()
    room.film.write_bytes(before.replace(b"  - id: one   # the opening\n", b"  - id: one   # the opening\n    take: 5\n"))
    page.wait_for_function("() => document.getElementById('room-error').textContent.includes('pins take 5')",
                           timeout=15_000)
    page.wait_for_function("() => document.querySelector('#shot-one .review .pin-take')", timeout=15_000)
    assert page.locator("#shot-one .review .pin-take").inner_text() == "unpin take 5"
    page.locator("#shot-one .review .pin-take").click()
    assert "warning" in page.locator("#room-error").get_attribute("class")
    page.wait_for_function("() => !document.getElementById('room-error').textContent", timeout=30_000)
    assert room.film.read_bytes() == before
    wait_state(room.url, lambda s: idle(s) and not s["warning"])


def test_a_write_from_another_site_is_refused(room, browser, tmp_path):
    before = room.film.read_bytes()
    sidecar = room.project / "film.review.yaml"
    notes_before = sidecar.read_bytes() if sidecar.exists() else b""
    (tmp_path / "evil.html").write_text(f"""<!doctype html><form id=f method=post action="{room.url}api/note"
        enctype="text/plain"><input name='{{"shot":"one","text":"pwned","x":"' value='"}}'></form>""")
    with static_server(tmp_path) as evil:
        pg = browser.new_page()
        pg.goto(f"{evil}/evil.html")
        statuses = pg.evaluate("""async (room) => {
            const out = [];
            const body = JSON.stringify({shot: "three", take: 2, version: "x"});
            for (const init of [{mode: "no-cors", headers: {"Content-Type": "text/plain"}},
                                {headers: {"Content-Type": "application/json"}}]) {
              try { const r = await fetch(room + "api/pin", {method: "POST", body, ...init}); out.push(r.status); }
              catch (e) { out.push("blocked"); }
            }
            return out;
        }""", room.url)
        assert statuses == [0, "blocked"]  # opaque (refused by the server), and stopped by the browser's preflight
        with pg.expect_navigation():
            pg.evaluate("() => document.getElementById('f').submit()")
        assert "refused" in pg.content()
        pg.close()
    assert room.film.read_bytes() == before
    assert (sidecar.read_bytes() if sidecar.exists() else b"") == notes_before


def test_a_second_room_on_the_same_file_is_refused(room):
    second = room.cli("serve", "film.yaml", "--port", "0")
    assert second.returncode != 0
    assert "a review room is already open for film.yaml" in second.stderr


@pytest.mark.slow
def test_ctrl_c_closes_the_room_cleanly_then_render_by_review_status(room):
    """Ctrl-C in the middle of a render: the room closes at once, as the CLI's render does (the cache
    resumes it); then `render --status retake` renders only the shot the room marked."""
    # 12 s of a new picture: a render still running when the state is next polled, at this small size too
    room.film.write_text(room.film.read_text().replace("{id: two, duration: 2,", "{id: two, duration: 12,")
                         .replace("action: 'Ana turns.'", "action: 'Ana turns away.'"))
    wait_state(room.url, lambda s: "two" in s["to_render"] and s["busy"].startswith("rendering"), timeout=30)
    t = time.monotonic()
    room.proc.send_signal(signal.SIGINT)
    out, err = room.proc.communicate(timeout=30)
    assert room.proc.returncode == 0, err
    assert "review room closed" in out and "Traceback" not in err
    assert time.monotonic() - t < 15
    # the room's marks choose what `render` renders
    (room.project / "film.review.yaml").write_text("shots:\n  two:\n    status: retake\n")
    done = room.cli("render", "film.yaml", "--status", "retake", "--new-take")
    assert done.returncode == 0, done.stderr
    shots = {s["id"]: s for s in manifest(room)["shots"]}
    assert shots["two"]["status"] == "rendered"  # the interrupted render, finished by the CLI
    assert shots["one"]["status"] != "rendered" and shots["three"]["status"] != "rendered"
    none = room.cli("render", "film.yaml", "--approved")
    assert none.returncode == 2 and "no shot is marked approved in film.review.yaml" in none.stderr
