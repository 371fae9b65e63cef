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


PRE = """
version: 1
defaults: {{model: {model}, size: 1280x720}}
characters:
  ana: {{name: Ana, description: a woman in a red coat, reference: ana.png}}
shots:
  - {{id: one, duration: 4, characters: [ana], action: Ana walks along the pier.}}
  - {{id: two, duration: 4, continuity: continuous, characters: [ana], action: Ana stops.}}
  - {{id: three, duration: 4, action: A storm gathers.}}
"""


def _validate(project, capsys, backend: str, model: str) -> tuple[int, str]:
    from PIL import Image

    from storyboard.cli import main
    Image.new("RGB", (640, 360), (200, 30, 30)).save(project / "ana.png")
    (project / "s.yaml").write_text(PRE.format(model=model))
    status = main(["validate", str(project / "s.yaml"), "--backend", backend])
    return status, capsys.readouterr().err


def test_a_model_that_needs_a_first_frame_refuses_a_shot_without_one_before_paying(project, capsys):
    status, err = _validate(project, capsys, "runway", "gen4_turbo")
    assert status == 2
    assert "s.yaml:9:5: gen4_turbo makes video only from a first frame, and shot 'three' has none" in err
    assert "shot 'one'" not in err and "shot 'two'" not in err  # Ana's still and the continuity give them one


def test_a_recipe_row_is_refused_for_a_single_shot_by_the_backends_hook(project, capsys):
    status, err = _validate(project, capsys, "runway", "multi-shot")
    assert status == 2 and "Runway's Multi-Shot recipe) makes 3 to 5 shots in one task" in err


def test_a_model_that_refuses_faces_starts_on_no_face_and_warns_on_a_continuous_one(project, capsys):
    from storyboard import pipeline
    from storyboard.stages.loader import load
    status, err = _validate(project, capsys, "fal", "seedance-2")
    assert status == 0
    assert "shot 'two' continues from the closing picture of 'one'; if that shows a face, seedance-2 refuses it" in err
    shots = pipeline.prepare(load(project / "s.yaml"), "fal").shots
    assert shots[0].input_reference is None and [u.identity for u in shots[0].characters] == ["words"]


def test_models_shows_each_rows_source_and_date_and_the_retired_ids(capsys):
    import json

    from storyboard.cli import main
    assert main(["models", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"animatic", "openai", "vertex", "gemini", "fal", "runway"}
    assert doc["fal"]["models"]["kling-4"]["read"] == "2026-12-06"
    assert doc["fal"]["models"]["kling-4"]["source"].startswith("https://fal.ai/models/fal-ai/kling-video/v4/")
    assert doc["vertex"]["retired"]["veo-3.1-generate-preview"]["successor"] == "veo-3.1-generate-001"
    assert main(["models", "--backend", "runway"]) == 0
    out = capsys.readouterr().out
    assert "read 2026-12-06" in out and "gen4_turbo" in out and "needed" in out  # gen4_turbo needs a first frame
