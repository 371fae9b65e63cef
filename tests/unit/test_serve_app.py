"""The review room's guards, in process (Starlette's test client, no socket): a write needs this
server's Origin, the room's token and JSON; a foreign Host is refused on loopback; only plain files
of the output folder are served (no `..`, no dotfile, no symbolic link out)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("starlette", reason="the review room's extra is not installed: pip install 'storyboard[serve]'")
from starlette.testclient import TestClient

from storyboard.serve.app import Hub, create_app, served_file

BASE = "http://127.0.0.1:8765"
TOKEN = "t0ken"


class FakeRoom:
    """What the app asks of a room; records the writes that reach it."""

    def __init__(self, out):
        self.out = out
        self.html = "<!doctype html><p>the room</p>"
        self.writes: list[tuple] = []

    def state(self):
        return {"page": 1, "cut": 0, "busy": "", "error": "", "price": 0, "to_render": [], "version": "v1"}

    def pin(self, shot, take, seen):
        self.writes.append(("pin", shot, take, seen))
        return "film.yaml", "v2"

    def note(self, shot, text, author):
        self.writes.append(("note", shot, text, author))

    def set_status(self, shot, status):
        self.writes.append(("status", shot, status))

    def render_paid(self, price):
        self.writes.append(("render", price))


@pytest.fixture
def room(tmp_path):
    out = tmp_path / "film"
    (out / "review").mkdir(parents=True)
    (out / "final.mp4").write_bytes(b"\0" * 1000)
    (out / "review" / "a.jpg").write_bytes(b"jpg")
    (out / ".storyboard-serve.lock").write_text("")
    (tmp_path / "film.yaml").write_text("secret: storyboard\n")
    os.symlink(tmp_path / "film.yaml", out / "review" / "link.jpg")
    return FakeRoom(out)


def client(room, hosts=frozenset({"127.0.0.1:8765", "localhost:8765"})):
    return TestClient(create_app(room, Hub(), TOKEN, set(hosts) if hosts is not None else None), base_url=BASE)


GOOD = {"Origin": BASE, "X-Storyboard-Token": TOKEN}


def test_a_write_from_the_page_reaches_the_room(room):
    c = client(room)
    r = c.post("/api/pin", json={"shot": "one", "take": 2, "version": "v1"}, headers=GOOD)
    assert r.status_code == 200 and r.json()["said"].startswith("one: take 2 pinned in film.yaml")
    assert r.json()["version"] == "v2"  # the page's own write moves its version: a second pin is not refused
    assert c.post("/api/note", json={"shot": "one", "text": "too dark", "author": "Ana"}, headers=GOOD).status_code == 200
    assert c.post("/api/status", json={"shot": "one", "status": "approved"}, headers=GOOD).status_code == 200
    assert room.writes == [("pin", "one", 2, "v1"), ("note", "one", "too dark", "Ana"), ("status", "one", "approved")]


@pytest.mark.parametrize("headers, status", [
    ({"Origin": "http://evil.example", "X-Storyboard-Token": TOKEN}, 403),  # another site, even with the token
    ({"Origin": "http://127.0.0.1:9999", "X-Storyboard-Token": TOKEN}, 403),  # another port is another origin
    ({"X-Storyboard-Token": TOKEN}, 403),  # no Origin at all
    ({"Origin": BASE}, 403),  # no token
    ({"Origin": BASE, "X-Storyboard-Token": "guess"}, 403),
])
def test_a_cross_origin_or_tokenless_write_is_refused(room, headers, status):
    r = client(room).post("/api/pin", json={"shot": "one", "take": 2, "version": "v1"}, headers=headers)
    assert r.status_code == status and "refused" in r.json()["error"]
    assert room.writes == []


def test_a_form_post_is_refused_even_from_the_right_origin(room):
    """A cross-site form can send text/plain or form data without a preflight; a write is JSON only."""
    r = client(room).post("/api/note", content=b'{"shot": "one", "text": "x"}',
                          headers={**GOOD, "Content-Type": "text/plain"})
    assert r.status_code == 415 and room.writes == []


def test_a_foreign_host_is_refused_on_loopback(room):
    c = client(room)
    assert c.get("/", headers={"Host": "evil.example"}).status_code == 421  # DNS rebinding
    assert c.get("/").status_code == 200
    assert c.get("/", headers={"Host": "evil.example"}).status_code == 421
    assert client(room, hosts=None).get("/", headers={"Host": "studio.lan:8765"}).status_code == 200  # --host


def test_only_plain_files_of_the_output_folder_are_served(room):
    c = client(room)
    assert c.get("/final.mp4").status_code == 200
    r = c.get("/final.mp4", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and len(r.content) == 10  # the player seeks
    assert c.get("/review/a.jpg").content == b"jpg"
    for bad in ("/review/link.jpg", "/.storyboard-serve.lock", "/review/../../film.yaml", "/%2e%2e/film.yaml",
                "/review/%2e%2e/%2e%2e/film.yaml", "/nothing.mp4", "/review"):
        r = c.get(bad)
        assert r.status_code == 404 and b"storyboard" not in r.content, bad
    assert served_file(room.out, "review/../final.mp4") is None
    assert served_file(room.out, "/etc/passwd") is None


def test_the_page_cannot_be_framed_and_is_not_cached(room):
    r = client(room).get("/")
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
