"""A film rendered again from a cache in a bucket (moto's S3 on 127.0.0.1) reads each thing it needs
once: every read is a round trip to the bucket, so a feature's 1,500 shots multiply whatever is
read twice."""

from __future__ import annotations

import collections

from storyboard.store.objects import S3Store
from tests.objstore import bucket, moto_url  # noqa: F401 - the fake S3

FILM = "version: 1\nshots:\n" + "".join(f"  - id: s{i}\n    duration: 1\n    action: A gull lands on post {i}.\n"
                                         for i in range(4))


def test_a_render_with_everything_cached_reads_each_shots_records_once(bucket, project, monkeypatch):
    import storyboard
    (project / "gulls.yaml").write_text(FILM)
    storyboard.render(project / "gulls.yaml", project / "out", backend="animatic")

    calls: collections.Counter = collections.Counter()
    for name in ("read", "size", "keys", "download", "create", "replace", "put", "delete", "copy"):
        def counted(self, *args, _name=name, _real=getattr(S3Store, name), **kwargs):
            calls[(_name, args[0].split("/")[1] if args[0].startswith("storyboard/") else args[0].split("/")[0])] += 1
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(S3Store, name, counted)
    made = storyboard.render(project / "gulls.yaml", project / "out", backend="animatic")
    assert all(o.status == "cached" for o in made.rendered.outcomes.values())
    writes = {k: n for k, n in calls.items() if k[0] not in ("read", "keys", "size", "download")}
    assert not writes, writes  # nothing new: nothing written to the bucket
    per_shot = sum(n for (op, _), n in calls.items() if op == "read") / 4
    # the plan (the take counter, take 1, no take 2), the render's entry, the cut's conformed copies
    # (checked, then sealed), the review page's and boards' takes (counter, take 1, no take 2, no failure)
    assert per_shot <= 10, sorted(calls.items())


def test_the_cut_reads_a_buckets_records_several_at_once(bucket, project, monkeypatch):
    """The shot sheet's takes and the cut's checks of each clip read the bucket for every shot: they
    are read several at once (each is a round trip), with the same pages and outcomes as one by one."""
    import threading
    import time

    import storyboard
    (project / "gulls.yaml").write_text(FILM)
    first = storyboard.render(project / "gulls.yaml", project / "out", backend="animatic")
    lock = threading.Lock()
    now, most = [0], [0]
    real = S3Store.read

    def slow_read(self, key):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            time.sleep(0.02)  # a bucket's round trip
            return real(self, key)
        finally:
            with lock:
                now[0] -= 1
    monkeypatch.setattr(S3Store, "read", slow_read)
    again = storyboard.render(project / "gulls.yaml", project / "out", backend="animatic")
    assert most[0] > 1
    assert ({s: o.status for s, o in again.rendered.outcomes.items()}
            == {s: "cached" for s in first.rendered.outcomes})
    assert (project / "out" / "review.html").is_file() and (project / "out" / "boards.pdf").is_file()
