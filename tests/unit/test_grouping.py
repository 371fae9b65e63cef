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


# -- the plan: a group is one request, one key, one price, one take count ---------------------------

SCENE = """version: 1
defaults: {{model: kling-3-pro, size: 1920x1080, multi_shot: {mode}}}
characters: {{mara: {{description: a tall woman in a green coat}}}}
locations: {{kitchen: {{description: a narrow kitchen}}, hall: {{description: a dark hall}}}}
shots:
  - {{id: k1, duration: 4, location: kitchen, characters: [mara], action: {a1}{t1}}}
  - {{id: k2, duration: 2.5, location: kitchen, characters: [mara], action: She turns.{t2}}}
  - {{id: k3, duration: 5, location: kitchen, characters: [mara], action: She sits down.}}
  - {{id: h1, duration: 3, location: hall, characters: [mara], action: She walks out.}}
"""


def _plan(tmp_path, mode="scene", a1="Mara fills the kettle.", t1="", t2="", **kw):
    from storyboard.pipeline import make_plan, prepare
    from storyboard.store.cache import Cache
    path = tmp_path / "sb.yaml"
    path.write_text(SCENE.format(mode=mode, a1=a1, t1=t1, t2=t2))
    prep = prepare(path, "fal")
    return prep, make_plan(prep, Cache(tmp_path / "cache"), **kw)


def test_a_group_is_one_request_with_one_price(tmp_path):
    _, grouped = _plan(tmp_path)
    _, alone = _plan(tmp_path, mode="off")
    assert [j.shot.id for j in grouped.to_render] == ["k1", "h1"]
    assert [g.shots for g in grouped.groups] == [("k1", "k2", "k3")]
    assert grouped.job("k1").cost == round(12 * 0.336, 4) and grouped.job("k2").cost == 0.0
    assert grouped.total == round(15 * 0.336, 4)
    assert len(alone.to_render) == 4 and not alone.groups
    assert len({j.key for j in grouped.jobs}) == 4  # each shot keeps its own part of the clip
    assert len({j.group.key for j in grouped.jobs if j.group}) == 1


def test_editing_one_shot_changes_its_group_only(tmp_path):
    _, before = _plan(tmp_path)
    _, after = _plan(tmp_path, a1="Mara drops the kettle.")
    changed = [j.shot.id for j, k in zip(before.jobs, after.jobs) if j.key != k.key]
    assert changed == ["k1", "k2", "k3"]


def test_a_pin_on_any_shot_pins_the_group_and_two_pins_warn(tmp_path):
    prep, p = _plan(tmp_path, t2=", take: 2")
    assert {j.shot.id: j.take for j in p.jobs if j.group} == {"k1": 1, "k2": 1, "k3": 1}  # take 2 not made yet
    assert [(m.shot, m.take) for m in p.missing_takes] == [("k2", 2)]
    prep, p = _plan(tmp_path, t1=", take: 1", t2=", take: 2")
    warned = [d for d in prep.warnings if "pins take 2 but 'k1' pins take 1" in d.message]
    assert len(warned) == 1 and warned[0].shot == "k2" and "k1 + k2 + k3" in warned[0].message


def test_a_new_take_of_one_shot_is_a_new_take_of_its_group(tmp_path):
    _, p = _plan(tmp_path, select=["k3"], new_take=True)
    assert [j.shot.id for j in p.to_render] == ["k1"]  # the group's one job, on its first shot
    assert {j.take for j in p.jobs if j.group} == {1}
    assert p.job("k1").selected and p.job("k2").selected and not p.job("h1").selected


def test_boundaries_split_at_exact_frames_and_spread_a_difference():
    assert grouping.boundaries(288, (4, 3, 5)) == [(0, 96), (96, 168), (168, 288)]
    assert grouping.boundaries(300, (4, 3, 5)) == [(0, 100), (100, 175), (175, 300)]  # 12 more, by length
    assert grouping.boundaries(276, (4, 3, 5)) == [(0, 92), (92, 161), (161, 276)]
    for n in range(200, 400, 7):
        spans = grouping.boundaries(n, (3, 3.5, 5, 2))
        assert spans[0][0] == 0 and spans[-1][1] == n and all(a < b for a, b in spans)
        assert all(spans[k][1] == spans[k + 1][0] for k in range(3))


def test_more_takes_of_a_group_are_more_requests_of_the_whole_group(tmp_path):
    _, p = _plan(tmp_path, select=["k2"], takes=3)
    assert [(j.shot.id, j.take, j.cost) for j in p.extra] == [("k1 take 1", 1, round(12 * 0.336, 4)),
                                                              ("k1 take 2", 2, round(12 * 0.336, 4))]
    assert [j.shot.id for j in p.to_render] == ["k1", "k1 take 1", "k1 take 2"]
    assert {j.take for j in p.jobs if j.group} == {3}  # the cut uses the last, as for a single shot
    assert p.total == round(3 * 12 * 0.336, 4)
