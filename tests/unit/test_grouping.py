"""Multi-shot groups (issue 25): which consecutive shots one request makes, and why others stand apart."""

from __future__ import annotations

from pathlib import Path

from storyboard import catalog
from storyboard.model.caps import ModelCaps, MultiShot
from storyboard.stages import checks, grouping
from storyboard.stages.loader import load, loads

GOLDEN = Path(__file__).parents[1] / "golden"
KLING3 = catalog.get("fal").models["kling-3-pro"]


def _report(path: Path) -> str:
    loaded = load(path)
    groups, apart = grouping.form(loaded.storyboard, KLING3, "kling-3-pro")
    diags = [d for d in checks.for_backend(loaded, catalog.get("fal"), catalog.known_models())
             if d.shot or "request" in d.message]
    return (grouping.describe(groups) + "\n--\n" + "\n".join(str(a) for a in apart) + "\n--\n"
            + "\n".join(f"line {d.line}: {d.severity}: {d.message}" for d in diags) + "\n")


def test_golden_groups(request):
    text = _report(GOLDEN / "grouping.yaml")
    path = GOLDEN / "grouping.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(text, "utf-8")
    assert path.exists(), "no golden file grouping.txt; run pytest --update-golden and review it"
    assert text == path.read_text("utf-8")


def test_every_shot_in_one_group_in_order_and_deterministic():
    sb = load(GOLDEN / "grouping.yaml").storyboard
    first, _ = grouping.form(sb, KLING3)
    again, _ = grouping.form(sb, KLING3)
    assert first == again
    assert [s for g in first for s in g.shots] == [s.id for s in sb.shots]
    for g in first:
        assert len(g.shots) <= 6 and (g.seconds <= 15 or not g.multi)
        assert all(d >= a for a, d in zip(g.asked, g.sent))


def _sb(shots: str, defaults: str = "{model: kling-3-pro, size: 1920x1080, multi_shot: scene}"):
    return loads(f"version: 1\ndefaults: {defaults}\nlocations: {{a: {{description: a room}}}}\nshots:\n{shots}")


def test_off_by_default_every_shot_alone():
    loaded = _sb("  - {id: s1, duration: 4, location: a}\n  - {id: s2, duration: 4, location: a}\n",
                 "{model: kling-3-pro, size: 1920x1080}")
    groups, apart = grouping.form(loaded.storyboard, KLING3)
    assert [g.shots for g in groups] == [("s1",), ("s2",)] and not apart
    assert not grouping.wanted(loaded.storyboard)


def test_a_model_of_one_shot_per_request_says_so_once():
    loaded = _sb("  - {id: s1, duration: 4, location: a}\n  - {id: s2, duration: 4, location: a}\n",
                 "{model: kling-3-pro, size: 1920x1080, multi_shot: scene}")
    single = KLING3.model_copy(update={"multi_shot": None})
    groups, apart = grouping.form(loaded.storyboard, single)
    assert [g.shots for g in groups] == [("s1",), ("s2",)] and not apart
    caps = catalog.get("openai")
    loaded = _sb("  - {id: s1, duration: 4, location: a}\n  - {id: s2, duration: 4, location: a}\n",
                 "{model: sora-2, multi_shot: scene}")
    msgs = [d for d in checks.for_backend(loaded, caps, catalog.known_models()) if "per request" in d.message]
    assert len(msgs) == 1 and msgs[0].line == 2 and "sora-2 on openai makes one shot per request" in msgs[0].message


def test_a_continuous_shot_split_from_its_predecessor_on_a_model_without_first_frames():
    caps = ModelCaps(durations=[5], sizes=["1280x720"], image_reference=False,
                     multi_shot=MultiShot(max_shots=2, max_seconds=10))
    loaded = _sb("  - {id: s1, duration: 4, location: a}\n  - {id: s2, duration: 4, location: a}\n"
                 "  - {id: s3, duration: 4, location: a, continuity: continuous}\n")
    groups, apart = grouping.form(loaded.storyboard, caps, "m")
    assert [g.shots for g in groups] == [("s1", "s2"), ("s3",)]
    assert len(apart) == 1 and apart[0].shot == "s3" and "that continuity is lost" in apart[0].reason
    assert "'s1'..'s2' already hold 2 shots, the most m makes in one request" in apart[0].reason


def test_any_length_inside_when_the_model_lists_none():
    caps = ModelCaps(durations=[5], sizes=["1280x720"], multi_shot=MultiShot(max_shots=3, max_seconds=10))
    loaded = _sb("  - {id: s1, duration: 4.5, location: a}\n  - {id: s2, duration: 5.5, location: a}\n"
                 "  - {id: s3, duration: 1, location: a}\n")
    groups, apart = grouping.form(loaded.storyboard, caps, "m")
    assert [(g.shots, g.sent) for g in groups] == [(("s1", "s2"), (4.5, 5.5)), (("s3",), (1.0,))]
    assert "would last 11s with it; m makes at most 10s" in apart[0].reason
