"""The review room on a paid backend (the fake Videos API through the real SDK): it spends nothing by
itself, the page offers the render at the plan's price in a dialog, a confirmation at another price
is refused, and a confirmed render is capped at the price confirmed: a storyboard that grew dearer
since is refused before anything is spent."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the review room's extra is not installed: pip install 'storyboard[serve]'")

from storyboard.errors import UsageError
from storyboard.serve.room import Room

FILM = """\
version: 1
defaults: {size: 320x180}
shots:
  - {id: one, duration: 4, action: A calm sea at dawn.}
  - {id: two, duration: 4, action: A gull crosses the frame.}
"""


def test_a_paid_render_waits_for_the_dialog_and_is_capped_by_its_price(sora, project):
    path = project / "film.yaml"
    path.write_text(FILM)
    room = Room(path, "openai")
    room.claim()
    room._refresh()  # what the first visit does: nothing is paid for, the cut holds slates
    assert sora.ledger.jobs == [] and room.status.price == pytest.approx(0.8)
    assert room.status.to_render == ["one", "two"] and room.status.cut == 1
    assert 'id="render-paid" data-price="0.80"' in room.html and 'The plan\'s price: <b id="paid-price">$0.80' in room.html
    with pytest.raises(UsageError, match=r"the price is now \$0.80, not \$0.40"):
        room.render_paid(0.40)
    # the storyboard grows dearer between the dialog and the render: refused, nothing spent
    room.render_paid(0.80)
    path.write_text(FILM.replace("duration: 4, action: A gull", "duration: 8, action: A gull"))
    room._refresh(paid=True)
    assert sora.ledger.jobs == [] and "the price changed to $1.20" in room.status.error
    # confirmed at the price shown: rendered, and never more than it
    path.write_text(FILM)
    room._refresh()  # what the watcher does on that save: the page shows $0.80 again
    assert room.status.price == pytest.approx(0.8) and sora.ledger.jobs == []
    room.render_paid(0.80)
    room._refresh(paid=True)
    assert len(sora.ledger.jobs) == 2 and sora.ledger.seconds_billed == 8
    assert room.status.error == "" and room.status.price == 0 and room.status.cut == 2
    assert 'id="render-paid"' not in room.html
