"""Takes: the plan picks the pinned or latest take from the cache, --takes N plans the missing ones,
a missing pin is a placed warning naming the takes that exist, and a shot with no new clip keeps one."""

from __future__ import annotations

import json

import pytest

from storyboard.cli import main
from storyboard.model.jobs import Outcome
from storyboard.pipeline import make_plan, prepare
from storyboard.store.cache import Cache
from storyboard.takes import from_cache, keep_clips, last_cut, list_takes, pin_problems

FILM = """
version: 1
title: Takes
shots:
  - id: a
    duration: 4
    action: A door opens.
  - id: b
    duration: 4
    continuity: continuous
    action: Someone walks in.
  - id: c
    duration: 3
    action: Rain on a window.{pin}
"""


def film(project, pin: int | None = None):
    path = project / "film.yaml"
    path.write_text(FILM.format(pin=f"\n    take: {pin}" if pin else ""))
    return path


def fake_take(cache: Cache, job, take: int | None = None, cost: float = 0.4, when: float = 1_700_000_000.0):
    """Put a clip in the cache as if `job` (at `take`) had been rendered."""
    from storyboard.stages.planner import take_key
    n = take or job.take
    key = take_key(job.base_key, n)
    staged = cache.staging()
    (staged / "clip.mp4").write_bytes(b"not really a video")
    cache.publish(key, staged, {"key": key, "shot": job.shot.id, "take": n, "model_reported": "sora-2-2025",
                                "seconds_billed": 4, "cost": cost, "created": when})
    cache.raise_take(job.base_key, n)
    return key


def test_latest_take_is_used_and_takes_are_listed(project):
    prep = prepare(film(project), "openai")
    cache = Cache()
    p = make_plan(prep, cache)
    a = p.job("a")
    assert (a.take, a.cached) == (1, False)
    fake_take(cache, a, 1, when=1.0)
    fake_take(cache, a, 2, when=2.0, cost=0.8)
    cache.save_record("failures", __import__("storyboard.stages.planner", fromlist=["x"]).take_key(a.base_key, 3),
                      {"shot": "a", "status": "blocked", "reason": "refused", "time": 3.0})
    p = make_plan(prep, cache)
    assert (p.job("a").take, p.job("a").cached) == (2, True)
    assert p.total == pytest.approx(0.4 + 0.4)  # b (it continues the new take of a) and c: 4 s each at $0.10
    takes = list_takes(cache, a.base_key)
    assert [(t.number, t.status, t.cost, t.model) for t in takes] == [
        (1, "made", 0.4, "sora-2-2025"), (2, "made", 0.8, "sora-2-2025"), (3, "blocked", 0.0, "")]
    assert takes[2].reason == "refused"


def test_the_latest_take_with_a_clip_wins_over_a_count_that_ran_ahead(project):
    prep = prepare(film(project), "openai")
    cache = Cache()
    a = make_plan(prep, cache).job("a")
    fake_take(cache, a, 1)
    cache.raise_take(a.base_key, 4)  # takes 2-4 were made and are gone (a pruned cache)
    p = make_plan(prep, cache)
    assert (p.job("a").take, p.job("a").cached) == (1, True)


def test_takes_n_plans_the_missing_takes_and_prices_them(project):
    prep = prepare(film(project), "openai")
    cache = Cache()
    a = make_plan(prep, cache).job("a")
    fake_take(cache, a, 1)
    p = make_plan(prep, cache, select=["a", "c"], takes=3)
    assert p.job("a").take == 3 and not p.job("a").cached
    assert [(j.shot.id, j.take) for j in p.extra] == [("a take 2", 2), ("c take 1", 1), ("c take 2", 2)]
    assert p.job("c").take == 3
    # a: takes 2 and 3 (4 s each at $0.10); c: takes 1-3 (4 s asked for the 3 s shot)
    assert p.total == pytest.approx(2 * 0.4 + 3 * 0.4)
    assert not p.job("b").selected  # b was not asked for; only a (which it continues) was


def test_a_pinned_take_is_used_and_a_missing_one_is_a_placed_warning(project, capsys):
    """A pin the shot's current request lacks (it changed, or the cache is new) blocks nothing: it is
    a warning at the `take:`, and the cut uses the shot's latest take (issue 22, item 11)."""
    p = make_plan(prepare(film(project, pin=2), "openai"), Cache())
    (d,) = pin_problems(prepare(film(project, pin=2), "openai"), p)
    assert (d.line, d.col, d.severity) == (15, 11, "warning")
    assert "shot 'c' pins take 2, but its current request on openai has no takes yet" in d.message
    assert "the cut uses its latest take" in d.message
    assert (p.job("c").take, p.job("c").cached, p.job("c").pinned) == (1, False, False)  # rendered as if unpinned
    prep = prepare(film(project), "openai")
    cache = Cache()
    c = make_plan(prep, cache).job("c")
    fake_take(cache, c, 1)
    fake_take(cache, c, 3)
    pinned = prepare(film(project, pin=2), "openai")
    p = make_plan(pinned, cache)
    assert (p.job("c").take, p.job("c").cached, p.job("c").cost) == (3, True, 0.0)
    assert "(it has takes 1, 3): the cut uses take 3, its latest; pin one of those" in pin_problems(pinned, p)[0].message
    # pinning an existing take picks it from the cache: nothing to render, nothing to pay
    p = make_plan(prepare(film(project, pin=1), "openai"), cache)
    assert (p.job("c").take, p.job("c").cached, p.job("c").pinned, p.job("c").cost) == (1, True, True, 0.0)
    assert pin_problems(prepare(film(project, pin=1), "openai"), p) == []
    # a pin this run makes (--takes 2 makes take 2) is not a warning
    p = make_plan(prepare(film(project, pin=2), "openai"), cache, select=["c"], takes=2)
    assert (p.job("c").take, p.job("c").cached) == (2, False)


def test_validate_warns_of_pinned_takes_the_cache_lacks(project, capsys):
    """A storyboard with pins validates on a fresh cache (a colleague's), with a warning."""
    path = film(project, pin=1)
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "film.yaml:15:11: warning: shot 'c' pins take 1, but its current request on animatic" in err
    prep = prepare(film(project))
    cache = Cache()
    fake_take(cache, make_plan(prep, cache).job("c"), 1)
    assert main(["validate", str(film(project, pin=1))]) == 0
    assert "pins take" not in capsys.readouterr().err


def test_a_shot_without_a_new_clip_keeps_its_latest_take_or_the_last_cuts_clip(project):
    prep = prepare(film(project), "openai")
    cache = Cache()
    p = make_plan(prep, cache)
    key_a1 = fake_take(cache, p.job("a"), 1)
    old_c = fake_take(cache, p.job("c"), 1)
    (project / "film").mkdir()
    (project / "film" / "manifest.json").write_text(json.dumps({"shots": [
        {"id": "b", "status": "rendered", "take": 1, "key": "0" * 64, "clip": "/nowhere/" + "0" * 64 + "/clip.mp4"},
        {"id": "c", "status": "rendered", "take": 1, "key": old_c, "clip": str(cache.get(old_c).clip)}]}))
    last = last_cut(project / "film")
    path = film(project)
    path.write_text(path.read_text().replace("Rain on a window.", "Snow on a window."))  # c changed since
    p = make_plan(prepare(path, "openai"), cache, select=["a"], new_take=True)
    made = {j.shot.id: Outcome(j, "blocked" if j.shot.id == "a" else "skipped",
                               reason="refused" if j.shot.id == "a" else "not selected with --shot and not rendered before")
            for j in p.jobs}
    out = keep_clips(made, cache, last)
    assert (out["a"].status, out["a"].entry.key, out["a"].job.take) == ("kept", key_a1, 1)
    assert "blocked: refused; the cut keeps take 1" in out["a"].reason
    assert (out["c"].status, out["c"].entry.key) == ("kept", old_c)
    assert "add --shot c to render it anew" in out["c"].reason
    assert out["b"].status == "skipped" and out["b"].entry is None  # its old clip is gone: a slate
    # the review's view of the same cache, rendering nothing
    seen = from_cache(make_plan(prepare(path, "openai"), cache), cache, last)
    assert seen["a"].status == "cached" and seen["c"].status == "skipped"
