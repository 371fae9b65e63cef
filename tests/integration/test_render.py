"""`storyboard render` end to end on the animatic: the cut, the exports, the cache, slates, safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from storyboard.cli import main
from storyboard.errors import ShotBlocked
from storyboard.media.probe import decodes, probe
from tests.conftest import copy_of, read_manifest

SMALL = "defaults: {size: 320x180}\n"  # the picture's size is not what these tests are about: a small frame is cheap

FILM = """
version: 1
title: Test Film
defaults: {size: 320x180}
characters:
  ana: {name: Ana, description: a woman}
locations:
  room: {description: a room, time: night}
shots:
  - id: one
    duration: 2
    location: room
    characters: [ana]
    action: Ana waits.
    dialogue:
      - ana: Hello.
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
    location: room
    action: The room is empty.
    transition: fade-to-black 0.5s
"""


@pytest.fixture
def film(project):
    (project / "film.yaml").write_text(FILM)
    return project / "film.yaml"


@pytest.fixture
def full_size_film(project):
    """FILM at the default size, 1280x720: for the tests whose point needs a render that takes its
    time (a kill lands mid-render) or files of a real size (a file-size limit is hit)."""
    (project / "film.yaml").write_text(FILM.replace(SMALL, ""))
    return project / "film.yaml"


@pytest.fixture(scope="session")
def first_render(made_once):
    """FILM rendered once for the whole run (the project, its output folder and its cache)."""
    def make(folder):
        (folder / ".storyboard").write_text("")
        (folder / "film.yaml").write_text(FILM)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STORYBOARD_CACHE", str(folder / "cache"))
            mp.setenv("STORYBOARD_CONFIG", str(folder / "config.toml"))
            assert main(["render", str(folder / "film.yaml")]) == 0
    return made_once("test_render-film", make)


@pytest.fixture
def rendered(first_render, project, monkeypatch):
    """A test's own copy of the first render of FILM: as if it had just run `storyboard render`."""
    copy_of(first_render, project)
    monkeypatch.setenv("STORYBOARD_CACHE", str(project / "cache"))
    return project / "film.yaml"


def test_render_makes_the_cut_and_every_export(rendered, capsys):
    film = rendered  # `storyboard render` has made it
    out = film.parent / "film"
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["boards.pdf", "final.edl", "final.mp4", "final.srt", "final.vtt", "final.xml", "manifest.json",
                     "media", "review", "review.html", "shotlist.csv", "timeline.otio"]
    frames = 48 + 48 + 36 - 12
    assert decodes(out / "final.mp4") == frames
    info = probe(out / "final.mp4")
    assert (info.width, info.height, info.audio_streams) == (320, 180, 1)  # the film's size
    man = read_manifest(out)
    assert [s["status"] for s in man["shots"]] == ["rendered"] * 3
    assert man["spent"] == 0 and all(s["prompt_sha256"] and s["key"] for s in man["shots"])
    assert "ANA: Hello." in (out / "final.srt").read_text()
    assert oct(os.stat(out / "manifest.json").st_mode & 0o777) == oct(0o666 & ~_umask())

    # a second run renders nothing: every shot comes from the cache
    capsys.readouterr()
    assert main(["render", str(film)]) == 0
    assert "0 rendered, 3 from the cache" in capsys.readouterr().out
    man = read_manifest(out)
    assert [s["status"] for s in man["shots"]] == ["cached"] * 3


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_new_take_and_shot_selection(rendered, capsys):
    film = rendered  # `storyboard render` has made it
    assert main(["render", str(film), "--shot", "one", "--new-take"]) == 0
    man = read_manifest(film.parent / "film")
    status = {s["id"]: (s["status"], s["take"]) for s in man["shots"]}
    # a new take of 'one' changes the frame 'two' continues from; 'two' was not asked for, so it
    # is not rendered (nothing is made unasked): the cut keeps its last clip and says how to make it
    assert status["one"] == ("rendered", 2) and status["two"] == ("kept", 1) and status["three"] == ("cached", 1)
    assert "add --shot two to render it from the new frame" in capsys.readouterr().err
    assert main(["render", str(film), "--shot", "two"]) == 0
    capsys.readouterr()
    assert main(["render", str(film)]) == 0  # the new take is now the one the cache serves
    assert "0 rendered, 3 from the cache" in capsys.readouterr().out


def test_blocked_shot_stands_as_a_slate(film, monkeypatch, capsys):
    from storyboard.animatic.backend import AnimaticBackend
    real = AnimaticBackend.render

    def render(self, req):
        if req.shot.id == "three":
            raise ShotBlocked("three", "moderation_blocked", "the prompt was refused", "prompt", charged=False)
        return real(self, req)
    monkeypatch.setattr(AnimaticBackend, "render", render)
    assert main(["render", str(film)]) == 1
    err = capsys.readouterr().err
    assert "three: blocked" in err and "moderation_blocked" in err and "incomplete" in err
    out = film.parent / "film"
    assert decodes(out / "final.mp4") == 48 + 48 + 36 - 12  # the slate keeps the shot's place and length
    man = read_manifest(out)
    assert man["shots"][2]["status"] == "blocked" and man["shots"][2]["clip"] is None


def test_one_writer_per_output_folder(film):
    from storyboard.errors import Locked
    from storyboard.store.files import folder_lock
    with folder_lock(film.parent / "film"):
        with pytest.raises(Locked):
            with folder_lock(film.parent / "film"):
                pass


@pytest.mark.parametrize("delay", [pytest.param(1.0, marks=pytest.mark.slow), pytest.param(2.5, marks=pytest.mark.slow),
                                   pytest.param(4.0, marks=pytest.mark.slow)])
def test_killed_render_leaves_no_broken_file_and_resumes(full_size_film, delay):
    film = full_size_film
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "storyboard", "render", str(film)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    out = film.parent / "film"
    if (out / "final.mp4").exists():  # whatever is under a final name is complete
        assert decodes(out / "final.mp4") == 120
    from storyboard.store.cache import Cache
    for clip in (Cache().root / "clips").rglob("clip.mp4"):
        assert decodes(clip) > 0
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=300).returncode == 0
    assert decodes(out / "final.mp4") == 120
    assert probe(out / "final.mp4").size == "1280x720"  # a film that names no size is cut at the default


@pytest.mark.slow
def test_ctrl_c_at_the_terminal_during_the_cut_is_an_interruption_and_resumes(tmp_path):
    """Ctrl-C at a terminal reaches the whole process group: storyboard and the ffmpeg joining the
    picture beside the sound mix (keeper's dissolves at 1280x720: seven pieces encoded). It was told
    as the picture's step failing ('encoding the picture around shots 3-4 failed', exit 3)."""
    import shutil

    from tests.conftest import EXAMPLES
    shutil.copytree(EXAMPLES / "keeper", tmp_path / "keeper", ignore=shutil.ignore_patterns("keeper"))
    film = tmp_path / "keeper" / "keeper.yaml"
    cmd = [sys.executable, "-m", "storyboard", "render", str(film)]
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0  # every shot in the cache
    out = film.parent / "keeper"
    (out / "final.mp4").unlink()  # the cut is made again, from the cache
    # faulthandler: should it not stop, every thread's stack is dumped where it waits (SIGABRT below)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("cut: mixing sound"):  # the picture is being joined beside it
            time.sleep(0.3)  # its first pieces' ffmpeg has started
            os.killpg(proc.pid, signal.SIGINT)
            break
    try:
        err = "".join(seen) + proc.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        pytest.fail("the render was still running 30 s after Ctrl-C; its threads:\n" + proc.communicate(timeout=30)[1])
    assert proc.returncode == 130, err
    assert "interrupted; run the same command again to resume" in err and "failed" not in err and "Traceback" not in err
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.startswith("0 rendered"), again.stdout + again.stderr
    assert decodes(out / "final.mp4") > 0


def test_paid_backend_needs_yes(film, capsys):
    assert main(["render", str(film), "--backend", "openai"]) == 2
    assert "pass --yes" in capsys.readouterr().err


def test_episodes_share_the_cache(tmp_path, capsys):
    from tests.conftest import EXAMPLES, small_copy
    import storyboard
    series = small_copy(EXAMPLES / "series", tmp_path / "series")
    storyboard.render_shots(storyboard.compile(series / "ep01.yaml", backend="animatic"))  # its shots: the cache
    assert main(["plan", str(series / "ep02.yaml"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {s["id"]: s["cache"] for s in doc["shots"]} == {"pickup": "hit", "offer": "miss"}


def test_disk_limit_fails_cleanly(full_size_film):
    """A file-size limit (a full disk, as far as ffmpeg and Python can tell): a clear message, no
    traceback, and nothing broken under a final name."""
    film = full_size_film
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead of killing
    proc = subprocess.run([sys.executable, "-m", "storyboard", "render", str(film)], capture_output=True, text=True,
                          timeout=300, preexec_fn=limit)
    assert proc.returncode not in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "storyboard:" in proc.stderr
    out = film.parent / "film"
    for name in ("final.mp4", "manifest.json", "timeline.otio"):
        p = out / name
        assert not p.exists() or (p.suffix != ".mp4" or decodes(p) == 120)
    from storyboard.store.cache import Cache
    for clip in (Cache().root / "clips").rglob("clip.mp4"):
        assert decodes(clip) > 0
