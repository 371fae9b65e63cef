"""Money and safety end to end: the real command (and real processes) against the fake providers,
with the cut. Exit statuses, manifests, kills and Ctrl-C with resume, two processes on one request,
a file-size limit, the --out marker, the sweep of leftovers, and clips damaged before a cut."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.media.probe import decodes, probe
from storyboard.store.cache import Cache
from tests.backends.conftest import sora, sora_media, veo, veo_media  # noqa: F401 - the fake providers
from tests.conftest import read_manifest, wait_for

FILM = """
version: 1
title: Sea
defaults: {size: 320x180}  # money and safety, not pictures: a small cut
shots:
  - {id: one, duration: 4, action: A calm sea at dawn.}
  - {id: two, duration: 4, continuity: continuous, action: The sea darkens.}
  - {id: three, duration: 3, action: A gull crosses the frame.}
"""

TINY = """
version: 1
defaults: {size: 320x180}
shots:
  - {id: one, duration: 1, action: A door opens.}
  - {id: two, duration: 1, action: A window shuts.}
"""


@pytest.fixture
def film(sora, project):
    (project / "film.yaml").write_text(FILM)
    return project / "film.yaml"


@pytest.fixture
def tiny(project):
    (project / "tiny.yaml").write_text(TINY)
    return project / "tiny.yaml"


def command(path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "storyboard", "render", str(path), *extra]


def paid(path: Path, *extra: str) -> int:
    return main(["render", str(path), "--backend", "openai", "--yes", *extra])


# -- the paid backends end to end (from the backends tier, where render_shots runs without a cut) ----

def test_openai_cut_manifest_and_a_rerun_that_pays_nothing(sora, film, capsys):
    assert paid(film) == 0
    out = film.parent / "film"
    assert decodes(out / "final.mp4") == (4 + 4 + 3) * 24  # the 4 s clip of the 3 s shot is trimmed; 30 fps to 24
    assert probe(out / "final.mp4").audio_streams == 1
    man = read_manifest(out)
    assert man["spent"] == pytest.approx(1.2) and [s["status"] for s in man["shots"]] == ["rendered"] * 3
    for f in out.rglob("*"):  # the key never reaches the outputs
        if f.is_file() and f.suffix in (".json", ".otio", ".edl", ".xml", ".srt", ".vtt"):
            assert b"test-key" not in f.read_bytes(), f
    capsys.readouterr()
    assert paid(film) == 0
    assert "0 rendered, 3 from the cache, $0.00 spent" in capsys.readouterr().out
    assert len(sora.ledger.jobs) == 3


def test_openai_blocked_shot_stands_as_a_slate(sora, film, capsys):
    sora.behaviour.moderate_prompts = ("gull",)
    assert paid(film) == 1
    err = capsys.readouterr().err
    assert "three: blocked" in err and "moderation_blocked" in err
    assert decodes(film.parent / "film" / "final.mp4") == 11 * 24  # a slate keeps its place


def test_veo_cut(veo, project):
    from PIL import Image
    Image.new("RGB", (1280, 720), (200, 30, 30)).save(project / "ana.png")
    (project / "film.yaml").write_text(
        "version: 1\ndefaults: {model: veo-3.1-fast-generate-001, size: 320x180}\n"
        "characters:\n  ana: {name: Ana, description: a woman in a red coat, reference: ana.png, identity: false}\n"
        "shots:\n"
        "  - {id: one, duration: 6, characters: [ana], action: Ana walks along the pier.}\n"
        "  - {id: two, duration: 4, characters: [ana], continuity: continuous, action: Ana stops.}\n")
    assert main(["render", str(project / "film.yaml"), "--backend", "veo", "--yes"]) == 0
    assert decodes(project / "film" / "final.mp4") == 10 * 24
    assert read_manifest(project / "film")["spent"] == pytest.approx(10 * 0.15)


@pytest.mark.slow  # a kill mid-render: the animatic's (test_render) and fal's (tests/backends) run every time
def test_killed_render_resumes_without_paying_twice(sora, film):
    sora.behaviour.latency = 1.5  # jobs take a while: the kill lands while they run
    cmd = command(film, "--backend", "openai", "--yes")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: len(sora.ledger.jobs) >= 1)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    made = len(sora.ledger.jobs)
    assert 1 <= made <= 3
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert len(sora.ledger.jobs) == 3 and len({j["prompt"] for j in sora.ledger.jobs}) == 3  # nothing paid twice
    assert decodes(film.parent / "film" / "final.mp4") == 11 * 24
    # what this run took is what the provider billed after the kill; the jobs re-attached were paid before
    man = read_manifest(film.parent / "film")
    assert man["spent"] + man["spent_earlier"] == pytest.approx(sora.ledger.billed(0.10))


@pytest.mark.slow
def test_ctrl_c_stops_at_once_and_resumes(sora, film):
    sora.behaviour.latency = 60  # jobs that would take a minute
    cmd = command(film, "--backend", "openai", "--yes")
    # faulthandler: should it not stop, every thread's stack is dumped where it waits (SIGABRT below)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    wait_for(lambda: len(sora.ledger.jobs) >= 2)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        err = proc.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        pytest.fail("the render was still running 30 s after Ctrl-C; its threads:\n" + proc.communicate(timeout=30)[1])
    assert proc.returncode == 130 and time.monotonic() - t < 10
    assert "interrupted; run the same command again to resume" in err and "Traceback" not in err
    sora.behaviour.latency = 0
    made = len(sora.ledger.jobs)
    assert subprocess.run(cmd, capture_output=True, timeout=180).returncode == 0
    assert len(sora.ledger.jobs) == 3 and made >= 2  # re-attached, none paid twice


@pytest.mark.slow
def test_veo_resume_after_kill_makes_no_duplicate_operation(veo, project):
    (project / "film.yaml").write_text(
        "version: 1\ndefaults: {model: veo-3.1-fast-generate-001}\nshots:\n"
        "  - {id: one, duration: 4, action: A pier.}\n  - {id: two, duration: 4, action: A storm.}\n"
        "  - {id: three, duration: 4, action: A gull.}\n")
    veo.faults.polls_to_finish = 60  # about a second of polling: the kill lands mid-operation
    cmd = command(project / "film.yaml", "--backend", "veo", "--yes")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: len(veo.ledger.jobs) >= 2)
    # let the replies reach the journal: a kill between the provider making an operation and the
    # journal recording its name is ambiguous for Veo (tests/backends: intent without a reply)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(veo.ledger.jobs) >= 2
    veo.faults.polls_to_finish = 2
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert len(veo.ledger.jobs) == 3  # re-attached to what was started; only the missing one is new
    assert len({o["prompt"] for o in veo.ledger.jobs}) == 3


# -- one request, one job, across processes -------------------------------------------------------

@pytest.mark.slow
def test_two_processes_on_one_request_pay_once(sora, film):
    """One storyboard rendered into two output folders at the same moment: both plan every shot as
    a miss; the lock per request makes the second wait for the first's clips and reuse them. (Slow
    creates: the second process finds the first's intent in the journal while its job does not
    exist yet, which is where both used to pay.)"""
    sora.behaviour.latency = 1.0
    sora.behaviour.create_delay = 1.0
    procs = [subprocess.Popen(command(film, "--backend", "openai", "--yes", "--out", str(film.parent / out)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for out in ("a", "b")]
    errs = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert len(sora.ledger.jobs) == 3  # not 6
    spent = [read_manifest(film.parent / out)["spent"] for out in ("a", "b")]
    assert sum(spent) == pytest.approx(sora.ledger.billed(0.10))  # each reports only what it paid
    assert decodes(film.parent / "a" / "final.mp4") == decodes(film.parent / "b" / "final.mp4") == 11 * 24


def test_a_lock_held_by_a_killed_process_is_taken_over_at_once(tmp_path):
    from storyboard.store.files import RequestLock
    path = tmp_path / "locks" / "k.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from storyboard.store.files import RequestLock; "
                               f"RequestLock(__import__('pathlib').Path({str(path)!r})).acquire(); "
                               "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    lock = RequestLock(path, stale_after=60)  # no waiting out the stale time: the owner is dead, here
    t = time.monotonic()
    lock.acquire()
    assert time.monotonic() - t < 2
    lock.release()
    assert not path.exists()


def test_a_lock_whose_owner_stopped_beating_is_taken_over(tmp_path):
    """A lock of another machine (its pid means nothing here) whose heartbeat stopped: a waiter
    watches the content stay the same for the stale time on its own clock, then takes it over."""
    from storyboard.store.files import RequestLock
    path = tmp_path / "k.lock"
    path.write_text(json.dumps({"host": "elsewhere", "tag": "0badc0de", "pid": 1, "nonce": "x", "beat": 7}))
    waited: list[bool] = []
    lock = RequestLock(path, stale_after=0.6, poll=0.05)
    t = time.monotonic()
    lock.acquire(waiting=lambda: waited.append(True))
    assert waited and 0.5 < time.monotonic() - t < 5
    assert json.loads(path.read_text())["nonce"] == lock.nonce
    lock.release()


def test_a_live_lock_is_waited_for_and_never_taken(tmp_path):
    """A live owner beats faster than the stale time: a waiter waits for it, however long."""
    from storyboard.store.files import RequestLock
    path = tmp_path / "k.lock"
    owner = RequestLock(path, beat=0.1)
    owner.acquire()
    got = threading.Event()
    waiter = RequestLock(path, stale_after=0.5, poll=0.05)
    t = threading.Thread(target=lambda: (waiter.acquire(), got.set()))
    t.start()
    assert not got.wait(1.5)  # three stale times: the beats keep it alive
    owner.release()
    assert got.wait(5) and not owner.lost
    waiter.release()
    t.join()


# -- spend is what the provider billed ---------------------------------------------------------------

@pytest.mark.slow
def test_the_cap_holds_under_a_file_size_limit(sora, project):
    """Every download fails (EFBIG): the jobs were paid all the same, so they fill the cap, and the
    manifest says what the provider took."""
    import resource
    (project / "film.yaml").write_text("version: 1\nshots:\n" + "".join(
        f"  - {{id: s{i}, duration: 4, action: 'Shot {i} of the sea.'}}\n" for i in range(3)))

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # journals fit; a clip does not
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead of killing
    proc = subprocess.run(command(project / "film.yaml", "--backend", "openai", "--yes", "--max-cost", "0.8",
                                  "--concurrency", "1"), capture_output=True, text=True, timeout=240, preexec_fn=limit)
    assert proc.returncode not in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    billed = sora.ledger.billed(0.10)
    assert len(sora.ledger.jobs) == 2 and billed == pytest.approx(0.8)
    assert read_manifest(project / "film")["spent"] == pytest.approx(billed)


def test_max_cost_must_be_finite(film, capsys):
    for bad in ("nan", "inf"):
        assert paid(film, "--max-cost", bad) == 2
        assert "--max-cost must be a finite number of dollars" in capsys.readouterr().err
    assert not (film.parent / "film").exists()


# -- secrets and crashes ------------------------------------------------------------------------------

def test_a_key_in_the_url_exits_3_and_is_never_printed(sora, project, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", sora.base_url + "?api-key=sekrit-123")
    (project / "film.yaml").write_text("version: 1\nshots:\n  - {id: one, duration: 4, action: A sea.}\n")
    assert paid(project / "film.yaml") == 3
    captured = capsys.readouterr()
    assert "sekrit-123" not in captured.out + captured.err and "api-key=***" in captured.err
    assert "sekrit-123" not in (project / "film" / "manifest.json").read_text()


def test_an_unexpected_error_in_one_shot_becomes_its_slate(tiny, monkeypatch, capsys):
    from storyboard.animatic.backend import AnimaticBackend
    real = AnimaticBackend.render

    def render(self, req):
        if req.shot.id == "two":
            raise RuntimeError("piper died")
        return real(self, req)
    monkeypatch.setattr(AnimaticBackend, "render", render)
    assert main(["render", str(tiny)]) == 1
    assert "two: failed" in capsys.readouterr().err
    out = tiny.parent / "tiny"
    assert decodes(out / "final.mp4") == 48  # the slate keeps the shot's place
    man = read_manifest(out)
    assert man["shots"][1]["status"] == "failed" and "RuntimeError: piper died" in man["shots"][1]["reason"]


# -- the output folder and leftovers ------------------------------------------------------------------

def test_an_out_folder_with_the_users_files_is_refused_unless_forced(tiny, capsys):
    out = tiny.parent / "mine"
    out.mkdir()
    (out / "final.mp4").write_bytes(b"my own edit")
    (out / "manifest.json").write_text('{"mine": true}')
    assert main(["render", str(tiny), "--out", str(out)]) == 2
    assert "holds files storyboard did not write (final.mp4, manifest.json)" in capsys.readouterr().err
    assert (out / "final.mp4").read_bytes() == b"my own edit"
    assert sorted(p.name for p in out.iterdir()) == ["final.mp4", "manifest.json"]  # nothing written there
    assert main(["render", str(tiny), "--out", str(out), "--force"]) == 0
    assert decodes(out / "final.mp4") == 48
    assert main(["render", str(tiny), "--out", str(out)]) == 0  # now it is the tool's folder


def test_leftovers_of_killed_runs_are_swept_on_the_next_run(tiny):
    assert main(["render", str(tiny)]) == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    from storyboard.store.files import HOST_TAG
    tag = f"{HOST_TAG}-{dead.stdout.strip()}"  # a process that has exited
    cache = Cache()
    entry = next((cache.root / "clips").glob("*/*"))
    out = tiny.parent / "tiny"
    left = [cache.root / "tmp" / f"stage-{tag}-abcd", out / ".work-1234", out / f".final.{tag}.part.mp4",
            entry / f".house-1280x720@24-24.{tag}.part.mp4"]
    left[0].mkdir(parents=True)
    left[1].mkdir()
    for f in left[2:]:
        f.write_bytes(b"half")
    alive = cache.root / "tmp" / f"stage-{HOST_TAG}-{os.getpid()}-live"  # this process is alive: kept
    alive.mkdir()
    assert main(["render", str(tiny)]) == 0
    assert [p for p in left if p.exists()] == []
    assert alive.exists()


# -- verify what the cut uses -------------------------------------------------------------------------

def _flip(path: Path) -> None:
    data = path.read_bytes()
    mid = len(data) // 2
    path.write_bytes(data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:])


def test_a_clip_damaged_after_it_was_served_becomes_a_named_slate(tiny):
    import storyboard
    prep = storyboard.compile(storyboard.load(tiny), "animatic")
    rendered = storyboard.render_shots(prep)
    _flip(rendered.outcomes["one"].entry.clip)  # between the render and the cut
    out = tiny.parent / "cut"
    result = storyboard.cut(prep, rendered, out)
    assert decodes(result.final) == 48
    shot = read_manifest(out)["shots"][0]
    assert shot["status"] == "failed" and "changed after it was checked" in shot["reason"]
    assert any((Cache().root / "bad").iterdir())


def test_a_damaged_house_copy_is_made_again(sora, project):
    """The conformed copy kept beside a provider's clip (30 fps, cut at 24) is checked like the clip."""
    (project / "film.yaml").write_text("version: 1\ndefaults: {size: 320x180}\nshots:\n"
                                       "  - {id: one, duration: 4, action: A sea.}\n")
    assert paid(project / "film.yaml") == 0
    (copy,) = (Cache().root / "clips").rglob("house-*.mp4")
    _flip(copy)
    flipped = copy.read_bytes()
    assert paid(project / "film.yaml") == 0
    assert copy.read_bytes() != flipped and decodes(copy) == 96  # made again, not cut damaged
    assert "a conformed copy was bad" in " ".join(read_manifest(project / "film")["shots"][0]["warnings"])
    assert len(sora.ledger.jobs) == 1
