"""What the progress display shows: counts by state in O(1) per event, an ETA, warnings by kind."""

from __future__ import annotations

import pytest

from storyboard.progress import NAMED, Tally, bucket, group, kind_of, some


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_counts_move_one_shot_at_a_time():
    clock = Clock()
    t = Tally(4, clock)
    assert t.counts["queued"] == 4 and t.finished == 0 and t.eta() is None
    t.update("a", "cached")
    t.update("b", "submitting")  # a backend's own step: working
    t.update("b", "in_progress")
    t.update("c", "drawing")
    assert (t.counts["cached"], t.counts["working"], t.counts["queued"]) == (1, 2, 1)
    clock.t += 10
    t.update("b", "done", spent=0.8)
    t.update("c", "blocked", spent=1.2)
    assert (t.counts["done"], t.counts["failed"], t.counts["working"]) == (1, 1, 0)
    assert t.finished == 3 and t.spent == 1.2  # a run reports its running total
    # two shots made in 10 s; one left: about 5 s (the cached one took no time and does not count)
    assert t.eta() == 5.0
    assert sum(t.counts.values()) == t.total


def test_spent_is_the_run_s_running_total():
    """Events from the threads of a run can arrive out of order: the total never goes back."""
    t = Tally(3)
    t.update("ep01/a", "done", spent=0.4)
    t.update("ep02/a", "done", spent=1.2)
    t.update("ep01/b", "failed", spent=0.8)
    assert t.spent == 1.2


def test_buckets():
    assert [bucket(s) for s in ("queued", "done", "cached", "failed", "blocked", "skipped", "downloading")] == [
        "queued", "done", "cached", "failed", "failed", "skipped", "working"]


def test_warnings_are_grouped_by_kind():
    items = [(f"s{i}", f"line 1 (Ana) runs past the end of the 2s shot by {i / 10:.1f}s and is cut; lengthen the "
                       "shot or cut words") for i in range(37)]
    items += [("x", "the clip has no sound; silence is used"), ("s3", "the prompt is 1200 characters; sora-2 reads at most 1000")]
    groups, singles = group(items)
    assert len(groups) == 1 and len(groups[0].shots) == 37
    assert groups[0].gist == "a line runs past the end of the shot and is cut; lengthen the shots or cut words"
    assert groups[0].gist in NAMED and groups[0].first == items[0][1]
    assert singles == items[37:]
    assert some(groups[0].shots) == "s0, s1, s2, s3, s4 and 32 more"


def test_unknown_kinds_group_by_their_words():
    a = kind_of("the prompt is 1200 characters; sora-2 reads at most 1000")
    assert a == kind_of("the prompt is 1300 characters; sora-2 reads at most 1000")
    assert a != kind_of("the clip has no sound; silence is used")
    groups, singles = group([(f"s{i}", f"the prompt is {1000 + i} characters; sora-2 reads at most 1000")
                             for i in range(5)])
    assert len(groups[0].shots) == 5 and groups[0].gist not in NAMED and not singles


# -- the ready displays for library users -----------------------------------------------------------

def _run_through(display) -> None:
    """What a run of three shots tells a display: two rendered (one fails), one cached, then the cut."""
    from storyboard.model.jobs import Event
    display.start(3, ["film"])
    for e in [Event("a", "queued"), Event("b", "queued"), Event("c", "cached"), Event("a", "in_progress", 50.0),
              Event("a", "done", spent=0.4), Event("b", "failed", spent=0.4)]:
        display.event(0, e)
    display.step(0, "mixing sound")
    display.cut(0, None, None)
    display.close()


def test_the_rich_bar_counts_finished_shots_and_money():
    import io

    from rich.console import Console

    from storyboard.displays import RichProgress
    buf = io.StringIO()
    bar = RichProgress(console=Console(file=buf, width=120, force_terminal=False))
    _run_through(bar)
    text = buf.getvalue()
    assert "3/3" in text and "$0.40" in text and "cut: mixing sound" in text
    _run_through(bar)  # one display serves a second run
    assert buf.getvalue().count("3/3") >= 2


def test_the_tqdm_bar_counts_finished_shots_and_money():
    import io

    from storyboard.displays import TqdmProgress
    buf = io.StringIO()
    _run_through(TqdmProgress(file=buf, mininterval=0))
    text = buf.getvalue()
    assert "3/3" in text and "$0.40 spent" in text and "cut: mixing sound" in text


def test_tqdm_is_needed_only_when_its_bar_is_made(monkeypatch):
    import sys

    import storyboard
    from storyboard.errors import UsageError
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    storyboard.RichProgress()  # the rich bar, and importing storyboard, need no tqdm
    with pytest.raises(UsageError, match="pip install tqdm"):
        storyboard.TqdmProgress()
