"""Runway (gen4.5, gen4_turbo, Veo 3.1 through Runway) with the official runwayml SDK, on the same
journaled, reconciled, budgeted backend as the others: one task per clip, created with no SDK
retries (Runway takes no idempotency key and lists no tasks, so an unclear create is never sent
again), polled at /v1/tasks/{id}, and downloaded from the output URL, fetched fresh first (Runway's
output URLs expire within 24-48 hours)."""

from __future__ import annotations

import base64
import mimetypes
import time
from pathlib import Path
from typing import Callable

from storyboard.backends.base import RenderRequest
from storyboard.backends.remote import Job, NotCreated, RemoteBackend, Segment, Unclear, download_client, sdk_http_client
from storyboard.backends.veo import NEGATIVE_PROMPT
from storyboard.catalog import credential
from storyboard.errors import BackendError, BackendUnusable
from storyboard.model.caps import BackendCaps
from storyboard.redact import redact
from storyboard.store.cache import Cache

MAX_CLIP_BYTES = 2 << 30
STATES = {"PENDING": "queued", "THROTTLED": "queued", "RUNNING": "in_progress", "SUCCEEDED": "completed",
          "FAILED": "failed", "CANCELLED": "failed"}


def ratio(size: str) -> str:
    """Runway names an output size "1280:720"."""
    return size.replace("x", ":")


def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


class Runway(RemoteBackend):
    can_list = False  # Runway's API has no list of tasks: an unclear create stops the run, never resubmits

    def __init__(self, caps: BackendCaps, cache: Cache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(caps, cache, clock, sleep)
        _, key = credential(caps)
        import httpx
        import runwayml
        self.sdk, self.httpx = runwayml, httpx
        # RUNWAYML_BASE_URL, read by the SDK, points it elsewhere (the tests' fake). Polls may be retried
        # by the SDK; creates may not (no idempotency key): they go through a client with none.
        self.client = runwayml.RunwayML(api_key=key, max_retries=3, timeout=120.0,
                                        http_client=sdk_http_client(runwayml))
        self.create_client = self.client.with_options(max_retries=0)
        self.downloads = download_client()  # output URLs are signed links

    @classmethod
    def pre_spend(cls, shot, mcaps) -> list[str]:
        """A recipe row (Multi-Shot) makes several shots in one task: not a single shot's request."""
        if mcaps.params.get("recipe"):
            return [f"{shot.model} (Runway's Multi-Shot recipe) makes {mcaps.params.get('min_shots', 3)} to "
                    f"{mcaps.params.get('max_shots', 5)} shots in one task; here every shot is its own task: "
                    "choose gen4.5 for shot-by-shot rendering"]
        return []

    # -- the five provider calls ---------------------------------------------------------------
    def create(self, req: RenderRequest, seg: Segment) -> Job:
        shot = req.shot
        if seg.extends:
            raise BackendError(f"shot '{shot.id}': Runway makes one clip per task and cannot extend one")
        _, mcaps, _ = self.caps.model(shot.model)
        args: dict = {"model": shot.model, "prompt_text": shot.prompt[: mcaps.prompt_max_chars],
                      "ratio": ratio(shot.size), "duration": int(seg.seconds)}
        if mcaps.params.get("audio") is not None:
            args["audio"] = bool(mcaps.params["audio"])
        if mcaps.negative_prompt:
            args["negative_prompt"] = NEGATIVE_PROMPT
        try:
            if req.input_image is not None:
                task = self.create_client.image_to_video.create(prompt_image=data_uri(req.input_image), **args)
            else:
                task = self.create_client.text_to_video.create(**args)
        except (self.sdk.APIError, self.httpx.HTTPError) as e:
            raise self.classify(e, shot.id, where="prompt_image" if req.input_image is not None else "prompt",
                                what=f"the request for {shot.model}") from None
        return Job(id=str(task.id), state="queued", model=shot.model)

    def retrieve(self, job_id: str) -> Job:
        try:
            task = self.client.tasks.retrieve(job_id)
        except self.sdk.NotFoundError:
            raise BackendError(f"Runway does not know task {job_id} (deleted?); --new-take renders the shot again") from None
        except self.sdk.RateLimitError as e:
            raise NotCreated("rate limited", getattr(e, "retry_after", None)) from None
        except (self.sdk.APIConnectionError, self.sdk.InternalServerError) as e:
            raise Unclear(type(e).__name__) from None
        except self.sdk.APIError as e:
            raise self.classify(e, what=f"reading task {job_id}") from None
        state = STATES.get(str(task.status), "in_progress")
        created = task.created_at.timestamp() if getattr(task, "created_at", None) else 0.0
        if state == "completed":
            outputs = list(getattr(task, "output", None) or [])
            if not outputs:
                return Job(id=job_id, state="failed", error_code="no_output", error_message="the task has no output")
            return Job(id=job_id, state="completed", output=str(outputs[0]), created_at=created)
        if state == "failed":
            cost = getattr(getattr(task, "cost", None), "credits", None)
            return Job(id=job_id, state="failed", created_at=created,
                       error_code=str(getattr(task, "failure_code", None) or task.status),
                       error_message=str(getattr(task, "failure", "") or "cancelled"),
                       charged=cost is None or cost > 0)  # a refunded task reports 0 credits
        progress = getattr(task, "progress", None)
        return Job(id=job_id, state=state, progress=float(progress) * 100 if progress is not None else None,
                   created_at=created)

    def recent(self) -> list[Job]:
        raise NotImplementedError("Runway's API cannot list tasks")

    def download(self, job: Job, dest: Path) -> None:
        url = job.output
        for fresh in (False, True):
            if fresh:  # "These URLs will expire within 24-48 hours; fetch the task again to get fresh URLs"
                url = self.retrieve(job.id).output
            status = self._fetch(job, url, dest)
            if status == 200:
                return
            if status not in (401, 403, 404, 410):
                raise BackendError(f"downloading task {job.id}: HTTP {status}; run again to retry the download")
        raise BackendError(f"the clip of task {job.id} is no longer downloadable ({status}); it was paid for; "
                           "--new-take renders it again")

    def _fetch(self, job: Job, url: str, dest: Path) -> int:
        size = 0
        try:
            with self.downloads.stream("GET", url) as r:
                if r.status_code != 200:
                    return r.status_code
                with open(dest, "wb") as f:
                    for chunk in r.iter_bytes(1 << 20):
                        size += len(chunk)
                        if size > MAX_CLIP_BYTES:
                            raise BackendError(f"the clip of task {job.id} is larger than {MAX_CLIP_BYTES >> 30} GB; refused")
                        f.write(chunk)
            return 200
        except self.httpx.HTTPError as e:
            raise BackendError(f"downloading task {job.id}: {redact(type(e).__name__)}; run again to retry the download") from None

    # -- `storyboard doctor`: free endpoints only ------------------------------------------------
    def provider_ids(self) -> dict[str, list[str]]:
        """A recipe row (Multi-Shot) is no model of the tier: it is checked by its own issue's code."""
        return {name: [name] for name, m in self.caps.models.items() if not m.params.get("recipe")}

    def served(self) -> set[str]:
        """The models the organisation's tier may use (GET /v1/organization: free)."""
        org = self._organization()
        return set((org.tier.models or {}).keys())

    def balance(self) -> str:
        org = self._organization()
        return f"{org.credit_balance} credits (${org.credit_balance / 100:.2f})"

    def _organization(self):
        try:
            return self.client.organization.retrieve()
        except (self.sdk.AuthenticationError, self.sdk.PermissionDeniedError) as e:
            raise BackendUnusable(f"Runway refused RUNWAYML_API_SECRET ({e.status_code})") from None
        except self.sdk.APIError as e:
            raise self.classify(e, what="the organization lookup") from None

    def close(self) -> None:
        self.downloads.close()
        self.client.close()
