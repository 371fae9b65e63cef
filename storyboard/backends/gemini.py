"""Gemini Omni Flash through the Gemini API's Interactions API (google-genai 3.x,
`google/genai/interactions.py`), with an API key: one background interaction per clip, polled with
interactions.get and answered with the video inline (or a file URI).

What the SDK's source says, and this module does about it:
- `create` retries 408/409/429/5xx and broken connections up to 4 times by default, with no idempotency
  key: a lost reply would pay up to five times. The client is built with retry_options.attempts = 1.
- There is no list of interactions: an unclear create stops the run (status 7), never resent.
- generation_config.video_config takes only `task` (text_to_video, image_to_video, ...): no duration
  or aspect-ratio parameter. The length and shape are asked in the prompt; a clip shorter than the
  shot fails verification after payment, which the pre-spend check cannot see (said in the README)."""

from __future__ import annotations

import base64
import mimetypes
import time
from pathlib import Path
from typing import Callable

from storyboard.backends.base import RenderRequest
from storyboard.backends.remote import Job, RemoteBackend, Segment, Unclear
from storyboard.backends.veo import _network_errors
from storyboard.catalog import credential
from storyboard.errors import BackendError
from storyboard.model.caps import BackendCaps
from storyboard.store.cache import Cache

STATES = {"queued": "queued", "in_progress": "in_progress", "completed": "completed", "failed": "failed",
          "cancelled": "failed", "incomplete": "failed", "budget_exceeded": "failed"}


class Gemini(RemoteBackend):
    can_list = False  # the Interactions API has no list: an unclear create is never sent again

    def __init__(self, caps: BackendCaps, cache: Cache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(caps, cache, clock, sleep)
        _, key = credential(caps)
        from google import genai
        from google.genai import errors, types
        from google.genai._gaos.errors import GenAiError, NoResponseError
        from google.genai._interactions_errors import GeminiNextGenAPIClientError
        self.types, self.errors = types, errors
        self.sdk_errors = (GeminiNextGenAPIClientError, GenAiError, NoResponseError, errors.APIError,
                           *_network_errors())
        # GOOGLE_GEMINI_BASE_URL, read by the SDK, points it elsewhere (the tests' fake). No SDK retries:
        # a create has no idempotency key (polls are retried by storyboard itself)
        self.client = genai.Client(api_key=key, vertexai=False, http_options=types.HttpOptions(
            timeout=120_000, retry_options=types.HttpRetryOptions(attempts=1)))

    def create(self, req: RenderRequest, seg: Segment) -> Job:
        shot = req.shot
        if seg.extends:
            raise BackendError(f"shot '{shot.id}': {shot.model} makes one clip per interaction and cannot extend one")
        w, h = shot.dimensions
        prompt = (f"{shot.prompt.rstrip()}\n\nOne continuous shot of {int(seg.seconds)} seconds, "
                  f"{'16:9 landscape' if w >= h else '9:16 portrait'}; no on-screen text or subtitles.")
        content: list[dict] = [{"type": "text", "text": prompt}]
        task = "text_to_video"
        if req.input_image is not None:
            mime = mimetypes.guess_type(req.input_image.name)[0] or "image/png"
            content.append({"type": "image", "data": base64.b64encode(req.input_image.read_bytes()).decode(),
                            "mime_type": mime})
            task = "image_to_video"
        try:
            it = self.client.interactions.create(model=shot.model, input=content, background=True,
                                                 generation_config={"video_config": {"task": task}})
        except self.sdk_errors as e:
            raise self.classify(e, shot.id, where="input_image" if task == "image_to_video" else "prompt",
                                what=f"the interaction for {shot.model}") from None
        return Job(id=str(it.id), state=STATES.get(str(it.status), "queued"), model=shot.model)

    def retrieve(self, job_id: str) -> Job:
        try:
            it = self.client.interactions.get(job_id)
        except self.sdk_errors as e:
            status = getattr(e, "status_code", 0)
            if status == 404:
                raise BackendError(f"the Gemini API does not know interaction {job_id} (expired?); "
                                   "--new-take renders the shot again") from None
            if status in (0, 429) or status >= 500:
                raise Unclear(f"{type(e).__name__} {status or ''}".strip()) from None
            raise self.classify(e, what=f"reading interaction {job_id}") from None
        state = STATES.get(str(it.status), "in_progress")
        if state == "completed":
            video = it.output_video
            if video is None or not (video.data or video.uri):
                return Job(id=job_id, state="failed", error_code="no_video",
                           error_message="the interaction finished without a video (filtered?)", charged=False)
            data = base64.b64decode(video.data) if video.data else b""
            return Job(id=job_id, state="completed", output=str(video.uri or ""), content=data)
        if state == "failed":
            errs = list(it.errors or [])
            first = errs[0] if errs else None
            return Job(id=job_id, state="failed", error_code=str(getattr(first, "code", None) or it.status),
                       error_message=str(getattr(first, "message", None) or it.status))
        return Job(id=job_id, state=state)

    def recent(self) -> list[Job]:
        raise NotImplementedError("the Interactions API cannot list interactions")

    def download(self, job: Job, dest: Path) -> None:
        if job.content:
            dest.write_bytes(job.content)
            return
        try:
            self.client.files.download(file=self.types.Video(uri=job.output), destination=str(dest))
        except self.sdk_errors as e:
            status = getattr(e, "code", None) or getattr(e, "status_code", 0)
            if status in (403, 404, 410):
                raise BackendError(f"the clip of {job.id} is no longer downloadable ({status}); it was paid for; "
                                   "--new-take renders it again") from None
            raise BackendError(f"downloading {job.id}: {type(e).__name__} {status or ''}") from None

    # -- `storyboard doctor`: models.list is free ------------------------------------------------
    def served(self) -> set[str]:
        try:
            return {str(m.name).rsplit("/", 1)[-1] for m in self.client.models.list()}
        except self.sdk_errors as e:
            raise self.classify(e, what="the model list") from None

    def close(self) -> None:
        try:
            self.client.close()
        except AttributeError:
            pass
