"""Several storyboards in one run: one plan whose total counts a shared request once; --shot across them."""

from __future__ import annotations

import pytest

from storyboard.errors import UsageError
from storyboard.pipeline import plan_batch, prepare
from tests.conftest import EXAMPLES


def series(backend="openai"):
    return [prepare(EXAMPLES / "series" / f"ep0{n}.yaml", backend) for n in (1, 2)]


def test_a_request_two_episodes_share_is_planned_once():
    batch = plan_batch(series())
    (_, p1), (_, p2) = batch.items
    assert p1.total + p2.total > batch.total
    shared = {j.key for j in p1.to_render} & {j.key for j in p2.to_render}
    assert len(shared) == 1  # 'pickup' opens both episodes
    assert [(i, j.shot.id) for i, j in batch.to_render] == [(0, "pickup"), (0, "ride"), (1, "offer")]
    assert batch.total == pytest.approx(round(p1.total + p2.total - next(j.cost for j in p2.jobs if j.key in shared), 4))
    assert batch.first_with(next(iter(shared))) == 0


def test_shot_selection_spans_the_storyboards():
    batch = plan_batch(series(), select=["offer"])
    (_, p1), (_, p2) = batch.items
    assert not any(j.selected for j in p1.jobs)  # ep01 has no 'offer': nothing of it is rendered
    assert [j.shot.id for j in p2.jobs if j.selected] == ["offer"]
    with pytest.raises(UsageError) as e:
        plan_batch(series(), select=["nosuch"])
    assert "unknown shot 'nosuch'" in str(e.value)
