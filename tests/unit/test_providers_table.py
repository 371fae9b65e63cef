"""The providers' tables as data: the nearest size a model is asked for a film's frame, retired ids and
their successors, and the per-provider table from SDK exceptions to storyboard's (pure)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from storyboard import catalog
from storyboard.backends.remote import NotCreated, RemoteBackend, Unclear
from storyboard.errors import BackendError, BackendUnusable, QuotaError, ShotBlocked
from storyboard.model.caps import Fit, fit_size

RUNWAY = ["1280x720", "720x1280", "1104x832", "832x1104", "960x960", "1584x672"]


@pytest.mark.parametrize("film,sizes,asked", [
    ("1280x720", ["1920x1080", "1080x1920"], "1920x1080"),  # the shape first, then the smallest at or above
    ("1280x720", ["1280x720", "1920x1080"], "1280x720"),  # the film's own size when made
    ("1920x1080", ["1280x720", "720x1280"], "1280x720"),  # else the largest of the shape (upscaled in the cut)
    ("3840x2160", ["1280x720", "1920x1080"], "1920x1080"),
    ("1280x736", ["1280x720", "1920x1080"], "1920x1080"),  # 2% off 16:9: the smallest covering it, cropped
    ("1080x1080", RUNWAY, "960x960"),
    ("1366x768", ["1280x720", "1920x1080"], "1920x1080"),
    ("1440x1080", ["1280x720", "1104x832"], "1104x832"),  # 4:3 against 1104x832 (3.5% off): the only shape near
])
def test_the_nearest_size_a_model_makes(film, sizes, asked):
    assert fit_size(film, sizes) == Fit(asked, film)


def test_no_size_of_the_films_shape_is_none_and_the_message_names_the_shapes():
    assert fit_size("1080x1080", ["1280x720", "720x1280"]) is None
    assert catalog.no_fit_message("sora-2", "1080x1080", ["1280x720", "720x1280"]) == (
        "sora-2 makes no 1:1 picture, so it cannot deliver 1080x1080; it makes 16:9 (1280x720), 9:16 (720x1280): "
        "change `size` to one of those shapes, or choose another model")


def test_a_retired_id_is_accepted_and_rendered_with_its_successor():
    vertex = catalog.get("veo")
    used, caps, warning = vertex.model("veo-3.1-generate-preview")
    assert used == "veo-3.1-generate-001" and caps is vertex.models["veo-3.1-generate-001"]
    assert "retired by the provider on 2026-10-22" in warning and "'veo-3.1-generate-001'" in warning
    assert "veo-3.1-fast-generate-preview" in catalog.known_models()  # validate does not refuse it


def test_every_row_says_where_its_facts_come_from_and_when():
    for b in catalog.table().values():
        for name, m in b.models.items():
            assert m.source and len(m.read) == 10, f"{b.name}/{name} has no source or date"


def _exc(name: str, status: int = 0, message: str = "", bases=(Exception,)):
    cls = type(name, bases, {})
    e = cls(message)
    e.status_code = status
    e.message = message
    return e


@pytest.mark.parametrize("name,status,message,kind", [
    ("RateLimitError", 429, "Too many requests", NotCreated),
    ("RateLimitError", 429, "You exceeded your current quota", QuotaError),
    ("AuthenticationError", 401, "bad key", BackendUnusable),
    ("BadRequestError", 400, "The prompt was flagged by content moderation", ShotBlocked),
    ("BadRequestError", 400, "ratio must be one of 1280:720", BackendError),
    ("BadRequestError", 400, "You do not have enough credits to run this task.", QuotaError),
    ("InternalServerError", 500, "oops", Unclear),
    ("APITimeoutError", 0, "timed out", Unclear),
])
def test_runways_sdk_exceptions_map_through_its_table(name, status, message, kind):
    backend = SimpleNamespace(caps=catalog.get("runway"))
    assert isinstance(RemoteBackend.classify(backend, _exc(name, status, message), "one"), kind)


def test_an_exception_the_table_does_not_name_is_left_as_it_is():
    backend = SimpleNamespace(caps=catalog.get("runway"))
    e = ZeroDivisionError("bug")
    assert RemoteBackend.classify(backend, e) is e
    sub = _exc("SomeNewStatusError", 503, "", bases=(type("APIStatusError", (Exception,), {}),))
    assert isinstance(RemoteBackend.classify(backend, sub), Unclear)  # found along the class's bases
