"""The cache on object storage (moto's S3 on 127.0.0.1, through s3fs): the claim protocol (one
creator wins, a stale claim taken over by one taker only, a live one never), entries visible only
by their meta object, bad objects quarantined, journals that a displaced owner cannot overwrite,
and the local read-through copy kept under its limit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storyboard.store.cache import Cache
from storyboard.store.files import HOST, HOST_TAG
from storyboard.store.objects import S3Store
from storyboard.store.shared import ClaimLost, ObjectCache, ObjectClaim, open_cache
from tests.conftest import wait_for
from tests.objstore import bucket, moto_url  # noqa: F401 - the fake S3


@pytest.fixture
def store(bucket):
    return S3Store(bucket)


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def owner(pid: int, tag: str = HOST_TAG, nonce: str = "theirs") -> bytes:
    return json.dumps({"host": HOST, "tag": tag, "pid": pid, "nonce": nonce, "beat": 0, "since": 0}).encode()


# -- the store's conditional writes ------------------------------------------------------------------

def test_create_is_exclusive_and_replace_is_compare_and_swap(store):
    etag = store.create("k", b"one")
    assert etag and store.create("k", b"two") is None and store.read("k") == (b"one", etag)
    assert store.replace("k", b"two", '"0000"') is None  # an old version: refused
    new = store.replace("k", b"two", etag)
    assert new and store.read("k")[0] == b"two"
    assert store.delete("k", etag) is False and store.read("k") is not None  # not the version read
    assert store.delete("k", new) and store.read("k") is None


def test_a_retried_create_that_had_landed_is_recognised_as_ours(store):
    """A create whose reply was lost is retried by botocore and answers 412: the bytes are ours."""
    etag = store.create("claim", b'{"nonce": "mine"}')
    assert store.create("claim", b'{"nonce": "mine"}') == etag
    assert store.create("claim", b'{"nonce": "another"}') is None


# -- the claim protocol ------------------------------------------------------------------------------

def test_one_claim_at_a_time_and_the_next_waits_for_its_release(store):
    a, b = ObjectClaim(store, "locks/r.lock", beat=0.1), ObjectClaim(store, "locks/r.lock", beat=0.1, poll=0.05)
    a.acquire()
    waited, got = threading.Event(), threading.Event()
    t = threading.Thread(target=lambda: (b.acquire(waiting=waited.set), got.set()))
    t.start()
    assert waited.wait(5) and not got.wait(0.5)  # a live, beating owner is waited for
    a.release()
    assert got.wait(5)
    b.release()
    t.join()
    assert store.read("locks/r.lock") is None


def test_two_takers_of_a_stale_claim_cannot_both_win(store):
    """Both judge the claim of a dead process stale and replace the very version they read at the
    same moment (a barrier holds them until both are about to write): one wins, one waits."""
    store.create("locks/r.lock", owner(dead_pid()))
    barrier = threading.Barrier(2)

    class Racing(S3Store):
        def replace(self, key, data, etag):
            if json.loads(data)["beat"] == 0:  # a takeover, not a heartbeat
                try:
                    barrier.wait(5)
                except threading.BrokenBarrierError:
                    pass
            return super().replace(key, data, etag)

    racing = Racing(store.url)
    claims = [ObjectClaim(racing, "locks/r.lock", beat=0.1, poll=0.05, dead_grace=0) for _ in range(2)]
    won = []
    threads = [threading.Thread(target=lambda c=c: (c.acquire(), won.append(c))) for c in claims]
    for t in threads:
        t.start()
    wait_for(lambda: won, timeout=20)  # two conditional writes to a server on a loaded machine
    time.sleep(0.5)
    assert len(won) == 1  # the other lost the swap and now waits for a live owner
    assert json.loads(store.read("locks/r.lock")[0])["nonce"] == won[0].nonce
    won[0].release()
    for t in threads:
        t.join(5)
    assert len(won) == 2
    won[1].release()


def test_a_dead_owners_claim_is_taken_over_after_a_grace_for_its_requests_in_flight(store):
    store.create("locks/r.lock", owner(dead_pid()))
    c = ObjectClaim(store, "locks/r.lock", poll=0.05, dead_grace=0.5)
    t0 = time.monotonic()
    c.acquire()
    assert 0.5 <= time.monotonic() - t0 < 5
    c.release()


def test_a_claim_whose_owner_stopped_beating_is_taken_over(store):
    """Another machine's owner (its process cannot be checked from here) whose claim has not
    changed for stale_after seconds of the waiter's own clock."""
    store.create("locks/r.lock", owner(1234, tag="0ther000"))
    c = ObjectClaim(store, "locks/r.lock", stale_after=0.4, poll=0.05)
    t0 = time.monotonic()
    c.acquire()
    assert 0.4 <= time.monotonic() - t0 < 5
    c.release()


def test_a_beating_claim_is_never_taken_and_a_displaced_owner_knows(store):
    a = ObjectClaim(store, "locks/r.lock", beat=0.05)
    a.acquire()
    b = ObjectClaim(store, "locks/r.lock", stale_after=0.3, poll=0.05)
    stop = threading.Event()
    t = threading.Thread(target=lambda: _try(b, stop))
    t.start()
    time.sleep(0.9)  # three times what the waiter would call stale
    assert not a.lost and json.loads(store.read("locks/r.lock")[0])["nonce"] == a.nonce
    stop.set()
    t.join()
    while store.replace("locks/r.lock", owner(1, nonce="new"), store.read("locks/r.lock")[1]) is None:
        pass  # another process takes it over (as if it judged it stale), between two beats
    wait_for(lambda: a.lost, timeout=5)
    assert a.lost
    a.release()  # never deletes the new owner's claim
    assert json.loads(store.read("locks/r.lock")[0])["nonce"] == "new"


def _try(claim: ObjectClaim, stop: threading.Event) -> None:
    with pytest.raises(KeyboardInterrupt):
        claim.acquire(cancelled=stop)


def test_the_sweep_clears_claims_of_dead_processes_on_this_machine(bucket):
    cache = open_cache()
    cache.store.create("locks/dead.lock", owner(dead_pid()))
    cache.store.create("locks/alive.lock", owner(1, tag="0ther000"))
    cache.sweep()
    assert cache.store.read("locks/dead.lock") is None and cache.store.read("locks/alive.lock") is not None


# -- entries -------------------------------------------------------------------------------------------

def staged(cache: Cache, data: bytes = b"\x00" * 5000) -> Path:
    folder = cache.staging()
    (folder / "clip.mp4").write_bytes(data)
    (folder / "last.png").write_bytes(b"png")
    return folder


def test_the_configured_url_opens_the_bucket_and_cache_defaults_to_it(bucket, tmp_path):
    assert isinstance(open_cache(), ObjectCache) and isinstance(Cache(), ObjectCache)
    assert Cache().url == bucket and Cache(tmp_path).root == tmp_path  # an explicit folder stays a folder


def test_an_entry_is_visible_only_once_its_meta_is_created_last(bucket, tmp_path):
    a = open_cache()
    entry = a.publish("ab" * 32, staged(a), {"key": "ab" * 32, "cost": 0.4})
    b = ObjectCache(bucket, local=tmp_path / "other")  # another machine
    got = b.get(entry.key)
    assert got is not None and b.check(got) is None
    assert got.clip.read_bytes() == b"\x00" * 5000 and got.clip.parent == tmp_path / "other" / "clips" / "ab" / entry.key
    # a half-written entry (its clip uploaded, the process killed before the meta): not served
    a.store.put(f"clips/cd/{'cd' * 32}/0123/clip.mp4", b"\x00" * 5000)
    assert b.get("cd" * 32) is None
    # whoever publishes that request next removes the killed upload's parts, and only those
    again = b.publish("cd" * 32, staged(b), {"key": "cd" * 32})
    named = {r["object"] for r in again.meta["objects"].values()}
    assert set(a.store.keys(f"clips/cd/{'cd' * 32}/")) == named | {f"clips/cd/{'cd' * 32}/meta.json"}
    assert set(a.store.keys(f"clips/ab/{entry.key}/")) >= {r["object"] for r in entry.meta["objects"].values()}


def test_a_corrupted_object_is_quarantined(bucket, tmp_path):
    a = open_cache()
    key = "ef" * 32
    entry = a.publish(key, staged(a), {"key": key})
    obj = entry.meta["objects"]["clip.mp4"]["object"]
    a.store.put(obj, b"\x01" * 5000)  # same size, other bytes
    b = ObjectCache(bucket, local=tmp_path / "other")
    got = b.get(key)
    problem = b.check(got)
    assert "differs from what was recorded" in problem and not got.clip.exists()  # never installed locally
    assert b.quarantine(key) is not None
    assert b.get(key) is None and b.store.read(obj) is None
    moved = b.store.keys("bad/")
    assert any(k.endswith("/clip.mp4") for k in moved) and any(k.endswith("/meta.json") for k in moved)


def test_a_damaged_local_copy_is_fetched_again_not_quarantined(bucket):
    a = open_cache()
    key = "aa" * 32
    entry = a.publish(key, staged(a), {"key": key})
    entry.clip.write_bytes(b"\x02" * 5000)
    fresh = ObjectCache(bucket)
    assert fresh.check(fresh.get(key), rehash=True) is None and entry.clip.read_bytes() == b"\x00" * 5000


def test_publishing_what_another_process_published_serves_theirs(bucket, tmp_path):
    a, b = open_cache(), ObjectCache(bucket, local=tmp_path / "other")
    key = "bb" * 32
    first = a.publish(key, staged(a), {"key": key, "by": "a"})
    second = b.publish(key, staged(b), {"key": key, "by": "b"})
    assert second.meta["by"] == "a" and first.meta["objects"] == second.meta["objects"]
    assert len([k for k in a.store.keys(f"clips/bb/{key}/") if k.endswith("clip.mp4")]) == 1  # b's parts removed


def test_a_displaced_owner_cannot_overwrite_the_journal(bucket, tmp_path):
    a, b = open_cache(), ObjectCache(bucket, local=tmp_path / "other")
    assert a.record("jobs", "k") is None
    a.save_record("jobs", "k", {"shot": "one", "segments": [{"state": "intent"}]})
    b.record("jobs", "k")
    b.save_record("jobs", "k", {"shot": "one", "segments": [{"state": "submitted", "job_id": "video_1"}]})
    with pytest.raises(ClaimLost, match="another process took over the request of shot 'one'"):
        a.save_record("jobs", "k", {"shot": "one", "segments": [{"state": "intent"}]})
    assert b.record("jobs", "k")["segments"][0]["job_id"] == "video_1"


def test_a_missing_bucket_is_named_and_no_credential_is_ever_shown(bucket, project, monkeypatch, capsys):
    from storyboard.cli import main
    (project / "one.yaml").write_text("version: 1\nshots:\n  - {id: one, duration: 1, action: A door opens.}\n")
    monkeypatch.setenv("STORYBOARD_CACHE", "s3://no-such-bucket/team")
    assert main(["plan", str(project / "one.yaml")]) != 0
    err = capsys.readouterr().err
    assert "the bucket of the cache s3://no-such-bucket/team does not exist" in err and "Traceback" not in err
    assert "testing-secret" not in err
    monkeypatch.setenv("STORYBOARD_CACHE", "gs://b/team")
    assert main(["plan", str(project / "one.yaml")]) != 0
    assert "use s3://" in capsys.readouterr().err


def test_takes_only_grow(bucket):
    cache = open_cache()
    assert cache.take("base") == 1
    cache.raise_take("base", 3)
    cache.raise_take("base", 2)
    assert cache.take("base") == 3


def test_the_local_copy_is_kept_under_its_limit_least_recently_used_first(bucket, tmp_path):
    maker = open_cache()
    keys = [f"{i:02d}" * 32 for i in range(4)]
    for k in keys:
        maker.publish(k, staged(maker, bytes([int(k[:2])]) * 10_000), {"key": k})
    reader = ObjectCache(bucket, local=tmp_path / "reader", limit=25_000)
    for k in keys[:2]:
        reader.get(k).clip
    reader._used.clear()  # a later run: nothing of these is in use
    for k in keys[2:]:
        reader.get(k).clip
    kept = sorted(p.name for p in (tmp_path / "reader" / "clips").glob("*/*"))
    assert kept == sorted(keys[2:])  # the two used first went; the ones in use stayed


# -- against the fake Videos API ------------------------------------------------------------------------

def test_a_corrupted_clip_in_the_bucket_is_quarantined_and_fetched_again_for_nothing(sora, bucket, project,
                                                                                   tmp_path, monkeypatch):
    from tests.backends.conftest import render
    (project / "film.yaml").write_text("version: 1\nshots:\n  - {id: one, duration: 4, action: A calm sea.}\n")
    first = render(project / "film.yaml", "openai")
    assert first.outcomes["one"].status == "rendered" and len(sora.ledger.jobs) == 1
    entry = first.outcomes["one"].entry
    obj = entry.meta["objects"]["clip.mp4"]["object"]
    data = entry.source.store.read(obj)[0]
    entry.source.store.put(obj, data[:-16] + b"\x00" * 16)  # bit rot in the bucket
    monkeypatch.setenv("STORYBOARD_CACHE_LOCAL", str(tmp_path / "another-machine"))
    again = render(project / "film.yaml", "openai")
    one = again.outcomes["one"]
    assert one.status == "rendered" and "at no cost" in one.warnings[0]
    assert len(sora.ledger.jobs) == 1 and again.rendered.spent == 0  # re-attached to the job paid for
    bad = entry.source.store.keys("bad/")
    assert any(k.endswith("/clip.mp4") for k in bad) and again.outcomes["one"].entry.clip.read_bytes() == data
