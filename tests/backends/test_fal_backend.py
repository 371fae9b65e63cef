"""The fal backend through the real fal-client SDK against a fake fal queue on 127.0.0.1 over TLS:
the lifecycle, first-frame chaining, references, refusals, rate limits, quota, a kill mid-poll, a lost
submit reply, credentials and prices."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from storyboard.cli import main
from storyboard.media.probe import decodes
from tests.fakes.fal import KEY, FakeFal
from tests.conftest import read_manifest, wait_for

FILM = """
version: 1
defaults: {model: seedance-2, size: 320x180}
characters:
  ana: {name: Ana, description: a woman in a red coat, reference: ana.png, identity: false}
locations:
  pier: {description: a wooden pier, reference: pier.png}
shots:
  - {id: one, duration: 5, location: pier, characters: [ana], action: Ana walks along the pier.}
  - {id: two, duration: 4, characters: [ana], continuity: continuous, action: Ana stops and looks out to sea.}
  - {id: three, duration: 4, action: A storm gathers over the water.}
"""


@pytest.fixture(scope="module")
def media(fake_media):
    return fake_media


@pytest.fixture(scope="module")
def ca():
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def fal(media, ca, project, monkeypatch, tmp_path):
    from PIL import Image
    fake = FakeFal(media, ca)
    cafile = tmp_path / "fake-ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))  # fal-client's httpx trusts it (and nothing else)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("FAL_KEY", KEY)
    monkeypatch.setenv("FAL_RUN_HOST", fake.host)
    monkeypatch.setenv("FAL_QUEUE_RUN_HOST", fake.host)
    monkeypatch.setenv("STORYBOARD_FAL_PLATFORM_URL", f"https://{fake.host}/v1")
    import fal_client.client as sdk
    # fal-client reads FAL_QUEUE_RUN_HOST once, at import, which this process may have done already;
    # child processes (the kill test) read the environment above
    monkeypatch.setattr(sdk, "QUEUE_URL_FORMAT", f"https://{fake.host}/")
    cfg = project / "config.toml"
    cfg.write_text("[backends.fal]\npoll_seconds = 0.02\n")
    monkeypatch.setenv("STORYBOARD_CONFIG", str(cfg))
    Image.new("RGB", (1280, 720), (200, 30, 30)).save(project / "ana.png")
    Image.new("RGB", (1280, 720), (30, 30, 200)).save(project / "pier.png")
    (project / "film.yaml").write_text(FILM)
    yield fake
    fake.stop()


def render(project, *extra) -> int:
    return main(["render", str(project / "film.yaml"), "--backend", "fal", "--yes", *extra])


def requests_only(project, **kw):
    """The shots rendered through fal without the cut (tests/backends' `render`): for the tests that
    look only at what was asked and paid."""
    from tests.backends.conftest import render as render_shots
    return render_shots(project / "film.yaml", "fal", **kw)


def image_of(data_uri: str):
    from PIL import Image
    return Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("RGB")


def by_shot(fake) -> dict:
    return {r["input"]["prompt"].split("Actions:")[1].strip()[2:10]: r for r in fake.ledger.jobs}


def test_lifecycle_first_frames_and_a_rerun_that_pays_nothing(fal, project, capsys):
    assert render(project) == 0
    shots = by_shot(fal)
    assert len(fal.ledger.jobs) == 3 and sorted(shots) == ["A storm ", "Ana stop", "Ana walk"]
    walk, stop, storm = shots["Ana walk"], shots["Ana stop"], shots["A storm "]
    # seedance refuses a photoreal face in a first frame: the pier's still starts the shot, Ana is in words
    assert walk["endpoint"] == "bytedance/seedance-2.0/image-to-video"
    assert image_of(walk["input"]["image_url"]).getpixel((640, 360)) == (30, 30, 200)
    # the continuous shot starts on the last frame of the one before: fal's test clip, not Ana's still
    assert stop["endpoint"] == "bytedance/seedance-2.0/image-to-video"
    from PIL import Image, ImageChops

    from storyboard.store.cache import Cache
    one = next(s for s in read_manifest(project / "film")["shots"] if s["id"] == "one")
    with Image.open(Cache().get(one["key"]).last_frame) as last:
        assert not ImageChops.difference(image_of(stop["input"]["image_url"]), last.convert("RGB")).getbbox()
    assert storm["endpoint"] == "bytedance/seedance-2.0/text-to-video" and "image_url" not in storm["input"]
    assert storm["input"] | {"prompt": ""} == {"prompt": "", "duration": "4", "resolution": "720p",
                                               "aspect_ratio": "16:9", "generate_audio": True}
    assert [walk["input"]["duration"], stop["input"]["duration"]] == ["5", "4"]
    man = read_manifest(project / "film")
    assert [s["status"] for s in man["shots"]] == ["rendered"] * 3
    assert all(s["job_id"].startswith("bytedance/seedance-2.0/") and "/requests/" in s["job_id"] for s in man["shots"])
    assert man["spent"] == pytest.approx(13 * 0.3024)
    assert decodes(project / "film" / "final.mp4") == 13 * 24
    assert fal.ledger.downloads and all(d["authorization"] is None for d in fal.ledger.downloads)  # no key to the CDN
    capsys.readouterr()
    assert render(project) == 0
    assert len(fal.ledger.jobs) == 3 and fal.ledger.creates == 3
    assert "0 rendered, 3 from the cache, $0.00 spent" in capsys.readouterr().out


def test_compile_says_what_each_shot_gets(fal, project, capsys):
    assert main(["compile", str(project / "film.yaml"), "--backend", "fal", "--json"]) == 0
    shots = {s["id"]: s for s in json.loads(capsys.readouterr().out)["shots"]}
    assert shots["one"]["input_reference"] == {"kind": "file", "path": "pier.png", "shot": None}
    assert shots["one"]["identity"] == {"ana": "words"}  # seedance refuses faces in a first frame
    assert shots["two"]["input_reference"]["kind"] == "previous_last_frame"
    assert shots["two"]["identity"] == {"ana": "words"}  # the first frame is taken by the continuity
    (project / "film.yaml").write_text(FILM.replace("seedance-2,", "wan-2.6-reference,"))
    assert main(["compile", str(project / "film.yaml"), "--backend", "fal", "--json"]) == 0
    shots = {s["id"]: s for s in json.loads(capsys.readouterr().out)["shots"]}
    assert shots["one"]["reference_images"] == ["ana.png", "pier.png"] and shots["one"]["input_reference"] is None
    assert shots["two"]["reference_images"] == ["ana.png"] and shots["two"]["input_reference"] is None
    assert any("continuity is in words only" in w for w in shots["two"]["warnings"])


def test_references_go_in_the_models_field_and_are_named_in_the_prompt(fal, project):
    film = FILM.replace("seedance-2,", "wan-2.6-reference,")
    (project / "film.yaml").write_text(film)
    run = requests_only(project)
    assert run.status == 0
    shots = by_shot(fal)
    walk = shots["Ana walk"]
    assert walk["endpoint"] == "wan/v2.6/reference-to-video/flash"
    refs = walk["input"]["image_urls"]
    assert [image_of(u).getpixel((10, 10)) for u in refs] == [(200, 30, 30), (30, 30, 200)]  # Ana, then the pier
    assert walk["input"]["prompt"].rstrip().endswith("References: Character1 is Ana; Character2 is the setting.")
    assert walk["input"]["enable_audio"] is True and walk["input"]["multi_shots"] is False
    assert [r["input"]["duration"] for r in fal.ledger.jobs] == ["5", "5", "5"]  # 4 s shots ask for 5
    assert shots["A storm "]["input"]["image_urls"] == []
    assert run.manifest["spent"] == pytest.approx(15 * 0.05)


def test_filtered_output_is_a_slate_with_the_reason(fal, project, capsys):
    fal.faults.moderate_prompts = ("storm",)
    assert render(project) == 1
    err = capsys.readouterr().err
    assert "three: blocked" in err and "content_policy_violation" in err and "flagged by a content checker" in err
    man = read_manifest(project / "film")
    assert [s["status"] for s in man["shots"]] == ["rendered", "rendered", "blocked"]
    assert man["spent"] == pytest.approx(13 * 0.3024)  # fal "may still charge" a refused take: counted
    assert decodes(project / "film" / "final.mp4") == 13 * 24  # the slate keeps its place


def test_rate_limited_submits_are_retried(fal, project):
    fal.faults.rate_limit_creates = 2
    assert requests_only(project, concurrency=1).status == 0
    assert fal.ledger.creates == 5 and len(fal.ledger.jobs) == 3


def test_exhausted_balance_stops_the_run(fal, project):
    fal.faults.quota = True
    done = requests_only(project)
    assert done.status == 5  # what `storyboard render` exits with
    assert "Exhausted balance" in str(done.rendered.stop) and not fal.ledger.jobs


@pytest.mark.slow
def test_killed_mid_poll_resumes_without_a_second_submit(fal, project):
    fal.faults.latency = 30  # requests that take a while: the kill lands while they run
    cmd = [sys.executable, "-m", "storyboard", "render", str(project / "film.yaml"), "--backend", "fal", "--yes"]
    proc = subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_for(lambda: len(fal.ledger.jobs) >= 2)
    time.sleep(0.5)  # the replies reach the journal; a kill before that is the lost-reply test
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(fal.ledger.jobs) == 2  # 'two' waits for 'one'
    fal.faults.latency = 0
    done = subprocess.run(cmd, env=dict(os.environ), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert fal.ledger.creates == 3 and len(set(fal.prompts())) == 3  # re-attached; only 'two' is new


def test_lost_submit_reply_stops_then_is_found_in_the_history(fal, project):
    fal.faults.lose_reply_creates = 1
    lost = requests_only(project, concurrency=1)  # the shots alone: the cut of the second run is the one looked at
    assert lost.status == 7  # queued or not? fal lists a request only once it ends
    said = " ".join(o.reason for o in lost.outcomes.values())
    assert "lists a job only once it has finished; nothing is submitted again by itself" in said, said
    made = len(fal.ledger.jobs)
    fal.finish_all()  # the lost request ends at fal, and its history lists it
    assert render(project, "--concurrency", "1") == 0
    assert len(fal.ledger.jobs) == 3 and made == 2  # the lost one was adopted, not paid again
    assert decodes(project / "film" / "final.mp4") == 13 * 24


def test_history_that_cannot_be_read_never_resubmits(fal, project, monkeypatch):
    from storyboard.backends.remote import RemoteBackend
    waits: list[float] = []
    monkeypatch.setattr(RemoteBackend, "sleep", lambda self, seconds: waits.append(seconds))  # no real back-off
    fal.faults.lose_reply_creates = 1
    fal.faults.history_fails = True
    assert requests_only(project, concurrency=1).status == 7
    assert fal.ledger.creates == 2  # the lost one and 'three'; 'two' waits for 'one'
    assert waits.count(1.0) == 1 and 5.0 in waits  # the history was asked three times before giving up


def test_no_key_is_a_clear_message_and_plan_needs_none(fal, project, monkeypatch, capsys):
    monkeypatch.delenv("FAL_KEY")
    assert render(project) == 2
    assert "needs FAL_KEY in the environment" in capsys.readouterr().err
    assert main(["plan", str(project / "film.yaml"), "--backend", "fal"]) == 0
    assert not fal.ledger.creates


def test_plan_prices_from_the_table_and_the_users_config(fal, project, capsys, monkeypatch):
    assert main(["plan", str(project / "film.yaml"), "--backend", "fal", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["seconds"] for s in doc["shots"]] == [5, 4, 4] and doc["total_text"] == "$3.93"
    cfg = project / "config.toml"
    cfg.write_text('[backends.fal.models."seedance-2"]\nprice = { "*" = 0.5 }\n')
    assert main(["plan", str(project / "film.yaml"), "--backend", "fal", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_text"] == "$6.50"
    assert main(["models", "--backend", "fal", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)["fal"]["models"]
    assert models["seedance-2"]["price"] == {"*": 0.5} and models["wan-2.6-reference"]["reference_images"] == 5


def test_models_lists_every_backend(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("animatic", "openai", "veo", "fal", "kling-3-pro", "wan-2.6-reference", "sora-2"):
        assert name in out


def test_a_broken_request_shape_stops_before_spending(fal, project, capsys):
    (project / "config.toml").write_text('[backends.fal.models."seedance-2".params]\nfirst_frame = ""\n')
    assert render(project) == 2
    assert "image_reference = true needs an image endpoint and `first_frame`" in capsys.readouterr().err
    assert not fal.ledger.creates


def test_same_input_compares_inline_images_only_where_kept_inline():
    from storyboard.backends.fal import same_input
    sent = {"prompt": "p", "duration": "5", "image_url": "data:image/png;base64,AAA"}
    assert same_input(sent, dict(sent, seed=3))  # fields fal adds do not matter
    assert same_input(sent, dict(sent, image_url="https://v3.fal.media/files/x.png"))  # stored, not inline
    assert not same_input(sent, dict(sent, image_url="data:image/png;base64,BBB"))
    assert not same_input(sent, dict(sent, duration="10"))
    assert not same_input(sent, {"prompt": "p", "duration": "5"})


# -- the film's size is the delivery size ------------------------------------------------------------

def test_series_ep01_validates_plans_and_renders_on_kling_4(fal, project, capsys):
    """The series asks 1280x720; Kling 4 makes it; the plan says what is asked and delivered. (The render
    is of a copy cut at 320x180: Kling 4 is asked the same, and the cut's size is not what this is about.)"""
    import shutil

    from storyboard.media.probe import probe
    from tests.conftest import EXAMPLES, small_copy
    series = project / "series"
    shutil.copytree(EXAMPLES / "series", series, ignore=shutil.ignore_patterns("ep01", "ep02"))
    ep01 = series / "ep01.yaml"
    assert main(["validate", str(ep01), "--backend", "fal"]) == 0
    capsys.readouterr()
    assert main(["plan", str(ep01), "--backend", "fal"]) == 0
    assert "kling-4 at 1280x720 → 1280x720" in capsys.readouterr().out
    small = small_copy(EXAMPLES / "series", project / "small") / "ep01.yaml"
    assert main(["render", str(small), "--backend", "fal", "--yes"]) == 0
    assert {j["endpoint"].rsplit("/", 1)[0] for j in fal.ledger.jobs} == {"fal-ai/kling-video/v4"}
    assert all(j["input"].get("resolution", "720p") == "720p" for j in fal.ledger.jobs)
    assert {j["size"] for j in fal.ledger.jobs} == {"1280x720"}
    assert probe(small.parent / "ep01" / "final.mp4").size == "320x180"


def test_a_size_kling_4_does_not_make_is_asked_at_the_nearest_and_conformed(fal, project, capsys):
    """640x368 is 2% off 16:9: Kling 4 is asked 1280x720 (the smallest 16:9 at or above), priced as that,
    and the cut crops it to 640x368. (Which size covers which: tests/unit/test_providers_table.py.)"""
    from storyboard.media.probe import probe
    film = FILM.replace("seedance-2, size: 320x180", "kling-4, size: 640x368")
    (project / "film.yaml").write_text(film)
    assert main(["plan", str(project / "film.yaml"), "--backend", "fal"]) == 0
    out = capsys.readouterr().out
    assert "kling-4 at 1280x720 → 640x368" in out and "$2.04" in out  # 13 s at 720p's $0.157
    assert render(project) == 0
    assert {j["input"]["resolution"] for j in fal.ledger.jobs if "resolution" in j["input"]} == {"720p"}
    assert {j["size"] for j in fal.ledger.jobs} == {"1280x720"}  # what the fake made and served
    assert probe(project / "film" / "final.mp4").size == "640x368"
    assert read_manifest(project / "film")["spent"] == pytest.approx(13 * 0.157)


def test_a_size_of_a_shape_the_model_never_makes_is_refused_naming_the_shapes(fal, project, capsys):
    (project / "film.yaml").write_text(FILM.replace("size: 320x180", "size: 1080x1080"))
    assert main(["validate", str(project / "film.yaml"), "--backend", "fal"]) == 2
    assert ("seedance-2 makes no 1:1 picture, so it cannot deliver 1080x1080; it makes 16:9 (1280x720), "
            "9:16 (720x1280)") in capsys.readouterr().err


def test_a_shots_keyframes_go_to_kling_4_between_its_first_and_last_frame(fal, project):
    film = FILM.replace("seedance-2,", "kling-4,").replace(
        "action: Ana walks along the pier.}", "keyframes: [pier.png], action: Ana walks along the pier.}")
    (project / "film.yaml").write_text(film)
    assert requests_only(project).status == 0
    walk = by_shot(fal)["Ana walk"]
    assert walk["endpoint"] == "fal-ai/kling-video/v4/image-to-video"
    assert [image_of(u).getpixel((10, 10)) for u in walk["input"]["middle_image_urls"]] == [(30, 30, 200)]
    assert walk["input"]["duration"] == 5 and "aspect_ratio" not in walk["input"]  # a number; the frame sets the shape
