"""Google Veo 3.1 GA through Vertex AI with the official google-genai SDK (3.x, where generate_videos
is Vertex-only): a long-running operation per clip, polled and downloaded into the same cache,
plan, budget and resume machinery. A Google Cloud project (GOOGLE_CLOUD_PROJECT, read through the
table's `env`) and application default credentials; GOOGLE_CLOUD_LOCATION picks the region."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from storyboard.backends.base import RenderRequest
from storyboard.backends.remote import Job, NotCreated, RemoteBackend, Segment, Unclear
from storyboard.catalog import credential
from storyboard.errors import BackendError, BackendUnusable, UsageError
from storyboard.model.caps import BackendCaps
from storyboard.redact import redact
from storyboard.store.cache import Cache

# subtitles are laid in the cut; a clip with burnt-in text cannot be re-timed
NEGATIVE_PROMPT = "subtitles, captions, on-screen text, watermark"
LOCATION = "us-central1"  # where Veo 3.1 GA is served when GOOGLE_CLOUD_LOCATION does not say


def _network_errors() -> tuple[type[BaseException], ...]:
    """Timeouts and broken connections, from whichever httpx the SDK speaks through (3.x: httpx2)."""
    out: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            mod = __import__(name)
        except ImportError:
            continue
        out += [mod.TimeoutException, mod.TransportError]
    return tuple(out)


class Veo(RemoteBackend):
    can_list = False  # Vertex AI has no list of video operations: an unclear create is never sent again

    def __init__(self, caps: BackendCaps, cache: Cache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(caps, cache, clock, sleep)
        _, project = credential(caps)
        from google import genai
        from google.auth.exceptions import GoogleAuthError
        from google.genai import errors, types
        self.types, self.errors = types, errors
        self.net = _network_errors()
        self.auth = GoogleAuthError
        location = os.environ.get("GOOGLE_CLOUD_LOCATION") or LOCATION
        try:  # GOOGLE_VERTEX_BASE_URL, read by the SDK, points it elsewhere (a proxy, or the tests' fake)
            self.client = genai.Client(vertexai=True, project=project, location=location,
                                       http_options=types.HttpOptions(timeout=120_000))
        except Exception as e:  # noqa: BLE001 - google.auth's DefaultCredentialsError and kin
            raise UsageError(f"the {caps.name} backend needs application default credentials for project "
                             f"{project!r}: run `gcloud auth application-default login` or set "
                             f"GOOGLE_APPLICATION_CREDENTIALS to a key file ({type(e).__name__})") from None

    def _image(self, path: Path):
        return self.types.Image(image_bytes=path.read_bytes(), mime_type="image/png" if path.suffix == ".png" else
                                "image/jpeg" if path.suffix in (".jpg", ".jpeg") else "image/webp")

    def create(self, req: RenderRequest, seg: Segment) -> Job:
        shot, t = req.shot, self.types
        w, h = shot.dimensions
        _, mcaps, _ = self.caps.model(shot.model)
        config: dict = {"number_of_videos": 1, "duration_seconds": int(seg.seconds),
                        "aspect_ratio": "16:9" if w >= h else "9:16",
                        "resolution": "1080p" if max(w, h) >= 1920 and not seg.extends else "720p",
                        "generate_audio": mcaps.makes_sound}
        if mcaps.negative_prompt:
            config["negative_prompt"] = NEGATIVE_PROMPT
        source: dict = {"prompt": shot.prompt}
        if seg.extends:
            base = self.retrieve(seg.extends)
            source["video"] = t.Video(uri=base.output) if base.output else t.Video(
                video_bytes=base.content, mime_type="video/mp4")
        else:
            if req.input_image is not None:  # the first frame: a continuous shot's predecessor
                source["image"] = self._image(req.input_image)
            if shot.reference_images:  # subject references keep characters and places the same
                config["reference_images"] = [
                    t.VideoGenerationReferenceImage(image=self._image(req.asset(p)), reference_type="asset")
                    for p in shot.reference_images[: mcaps.reference_images]]
        try:
            op = self.client.models.generate_videos(model=shot.model, source=t.GenerateVideosSource(**source),
                                                    config=t.GenerateVideosConfig(**config))
        except (self.errors.APIError, self.auth, *self.net) as e:
            if getattr(e, "code", 0) == 503:
                raise NotCreated(f"the model is overloaded: {redact(str(e))}") from None  # UNAVAILABLE: nothing made
            raise self.classify(e, shot.id) from None
        return Job(id=op.name, state="queued", model=shot.model)

    def retrieve(self, job_id: str) -> Job:
        try:
            op = self.client.operations.get(self.types.GenerateVideosOperation(name=job_id))
        except self.errors.APIError as e:
            if e.code == 404:
                raise BackendError(f"operation {job_id} is not known to Vertex AI (expired?); "
                                   "--new-take renders the shot again") from None
            if e.code == 429 or e.code >= 500:
                raise Unclear(f"{e.code} {e.status}") from None
            raise self.classify(e, what=f"reading operation {job_id}") from None
        except self.net as e:
            raise Unclear(type(e).__name__) from None
        except self.auth as e:
            raise self.classify(e) from None
        if not op.done:
            return Job(id=job_id, state="in_progress")
        if op.error:
            return Job(id=job_id, state="failed", error_code=str(op.error.get("status") or op.error.get("code")),
                       error_message=str(op.error.get("message", "")))
        resp = op.response or op.result
        videos = (resp.generated_videos or []) if resp else []
        if videos and videos[0].video is not None:
            video = videos[0].video
            # Vertex answers the bytes inline when no storage URI was asked
            return Job(id=job_id, state="completed", output=video.uri or "", content=video.video_bytes or b"")
        reasons = "; ".join((resp.rai_media_filtered_reasons or []) if resp else []) or "the take was filtered"
        return Job(id=job_id, state="failed", error_code="safety_filtered", error_message=reasons, charged=False)

    def recent(self) -> list[Job]:
        raise NotImplementedError("Vertex AI cannot list video operations")

    def download(self, job: Job, dest: Path) -> None:
        if job.content:
            dest.write_bytes(job.content)
            return
        if job.output.startswith("gs://"):
            raise BackendError(f"the clip of {job.id} is at {job.output}; storyboard asks for the bytes inline, "
                               "so this operation was not made by it; fetch it with gsutil")
        try:
            self.client.files.download(file=self.types.Video(uri=job.output), destination=str(dest))
        except self.errors.APIError as e:
            if e.code in (403, 404, 410):
                raise BackendError(f"the clip of {job.id} is no longer downloadable ({e.code}); it was paid for; "
                                   "--new-take renders it again") from None
            raise BackendError(f"downloading {job.id}: {e.code} {e.status}") from None
        except self.net as e:
            raise BackendError(f"downloading {job.id}: {redact(str(e))}; run again to retry the download") from None

    # -- `storyboard doctor`: free endpoints only ------------------------------------------------
    def served(self) -> set[str]:
        """The publisher's base models the project may call (models.list: free)."""
        try:
            return {str(m.name).rsplit("/", 1)[-1] for m in self.client.models.list(config={"query_base": True})}
        except self.errors.APIError as e:
            if e.code in (401, 403):
                raise BackendUnusable(f"Vertex AI refused the credentials ({e.code} {e.status})") from None
            raise BackendError(f"listing models: {e.code} {e.status}") from None
        except self.net as e:
            raise BackendError(f"listing models: {type(e).__name__}") from None
        except self.auth as e:
            raise self.classify(e) from None

    def close(self) -> None:
        try:
            self.client.close()
        except AttributeError:
            pass
