"""Google Veo 3.1 through the Gemini API with the official google-genai SDK: a long-running
operation per clip, polled and downloaded into the same cache, plan, budget and resume machinery."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from storyboard.backends.base import RenderRequest
from storyboard.backends.remote import Job, NotCreated, RemoteBackend, Segment, Unclear, is_refusal
from storyboard.errors import BackendError, BackendUnusable, QuotaError, ShotBlocked, UsageError
from storyboard.model.caps import BackendCaps
from storyboard.redact import redact
from storyboard.store.cache import Cache

# subtitles are laid in the cut; a clip with burnt-in text cannot be re-timed
NEGATIVE_PROMPT = "subtitles, captions, on-screen text, watermark"


class Veo(RemoteBackend):
    can_list = False  # the Gemini API has no list of video operations

    def __init__(self, caps: BackendCaps, cache: Cache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(caps, cache, clock, sleep)
        key = os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
        if not key:
            raise UsageError("the veo backend needs GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment; "
                             "keys are never read from a storyboard")
        import httpx
        from google import genai
        from google.genai import errors, types
        self.types, self.errors, self.httpx = types, errors, httpx
        # GOOGLE_GEMINI_BASE_URL, read by the SDK, points it elsewhere (a proxy, or the tests' fake)
        self.client = genai.Client(api_key=key, http_options=types.HttpOptions(timeout=120_000))

    def _image(self, path: Path):
        return self.types.Image(image_bytes=path.read_bytes(), mime_type="image/png" if path.suffix == ".png" else
                                "image/jpeg" if path.suffix in (".jpg", ".jpeg") else "image/webp")

    def create(self, req: RenderRequest, seg: Segment) -> Job:
        shot, t = req.shot, self.types
        w, h = shot.dimensions
        _, mcaps, _ = self.caps.model(shot.model)
        config: dict = {"number_of_videos": 1, "duration_seconds": int(seg.seconds),
                        "aspect_ratio": "16:9" if w >= h else "9:16",
                        "resolution": "1080p" if max(w, h) >= 1920 and not seg.extends else "720p"}
        if mcaps.negative_prompt:
            config["negative_prompt"] = NEGATIVE_PROMPT
        source: dict = {"prompt": shot.prompt}
        if seg.extends:
            base = self.retrieve(seg.extends)
            source["video"] = t.Video(uri=base.output)
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
        except self.errors.APIError as e:
            raise self._refusal(shot.id, e) from None
        except (self.httpx.TimeoutException, self.httpx.TransportError) as e:
            raise Unclear(type(e).__name__) from None
        return Job(id=op.name, state="queued", model=shot.model)

    def _refusal(self, shot_id: str, e) -> Exception:
        status, msg = str(e.status or ""), str(e.message or e)
        if e.code == 429:
            if "billing" in msg.lower() or "plan" in msg.lower() or "PerDay" in str(e.details):
                return QuotaError(f"Gemini API quota or billing ({status}): {msg}")
            return NotCreated(f"rate limited: {msg}")
        if e.code in (401, 403):
            return BackendUnusable(f"the Gemini API refused the key ({e.code} {status}); check GEMINI_API_KEY")
        if e.code == 503:
            return NotCreated(f"the model is overloaded: {msg}")  # UNAVAILABLE: nothing was made
        if e.code >= 500:
            return Unclear(f"{e.code} {status}")
        if is_refusal(msg):
            return ShotBlocked(shot_id, status or str(e.code), msg, "prompt", charged=False)
        return BackendError(f"shot '{shot_id}': the Gemini API rejected the request ({e.code} {status}): {msg}")

    def retrieve(self, job_id: str) -> Job:
        try:
            op = self.client.operations.get(self.types.GenerateVideosOperation(name=job_id))
        except self.errors.APIError as e:
            if e.code == 404:
                raise BackendError(f"operation {job_id} is not known to the Gemini API (expired?); "
                                   "--new-take renders the shot again") from None
            if e.code == 429 or e.code >= 500:
                raise Unclear(f"{e.code} {e.status}") from None
            if e.code in (401, 403):
                raise BackendUnusable(f"the Gemini API refused the key ({e.code} {e.status}); check GEMINI_API_KEY") from None
            raise BackendError(f"operation {job_id}: {e.code} {e.status}: {e.message}") from None
        except (self.httpx.TimeoutException, self.httpx.TransportError) as e:
            raise Unclear(type(e).__name__) from None
        if not op.done:
            return Job(id=job_id, state="in_progress")
        if op.error:
            return Job(id=job_id, state="failed", error_code=str(op.error.get("status") or op.error.get("code")),
                       error_message=str(op.error.get("message", "")))
        resp = op.response or op.result
        videos = (resp.generated_videos or []) if resp else []
        if videos and videos[0].video is not None:
            return Job(id=job_id, state="completed", output=videos[0].video.uri or "")
        reasons = "; ".join((resp.rai_media_filtered_reasons or []) if resp else []) or "the take was filtered"
        return Job(id=job_id, state="failed", error_code="safety_filtered", error_message=reasons, charged=False)

    def recent(self) -> list[Job]:
        raise NotImplementedError("the Gemini API cannot list video operations")

    def download(self, job: Job, dest: Path) -> None:
        try:
            self.client.files.download(file=self.types.Video(uri=job.output), destination=str(dest))
        except self.errors.APIError as e:
            if e.code in (403, 404, 410):
                raise BackendError(f"the clip of {job.id} is no longer downloadable ({e.code}); it was paid for; "
                                   "--new-take renders it again") from None
            raise BackendError(f"downloading {job.id}: {e.code} {e.status}") from None
        except (self.httpx.TimeoutException, self.httpx.TransportError) as e:
            raise BackendError(f"downloading {job.id}: {redact(str(e))}; run again to retry the download") from None

    def close(self) -> None:
        try:
            self.client.close()
        except AttributeError:
            pass
