"""fal's model queue (Kling, Seedance, Wan, Hailuo, LTX, Veo) through the official fal-client SDK,
on the same journaled, reconciled, budgeted backend as Sora and Veo. Each model's request shape is
data: the `params` table of its entry in backends.toml."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from storyboard.backends.base import RenderRequest
from storyboard.catalog import credential
from storyboard.backends.remote import (CLOCK_SKEW, Identity, Job, NotCreated, RemoteBackend, Segment, Unclear,
                                       download_client)
from storyboard.backends.veo import NEGATIVE_PROMPT
from storyboard.errors import BackendError, QuotaError, ShotBlocked, UsageError
from storyboard.model.caps import BackendCaps, ModelCaps
from storyboard.store.cache import Cache

# fal's Platform API (request history) is not in fal-client; this moves it like FAL_QUEUE_RUN_HOST moves the queue
PLATFORM_ENV = "STORYBOARD_FAL_PLATFORM_URL"
PLATFORM_URL = "https://api.fal.ai/v1"
HISTORY_PAGES = 5  # of 100 requests per endpoint, newest first, when looking for a lost submit
MAX_CLIP_BYTES = 2 << 30
QUOTA_WORDS = ("balance", "locked", "billing", "quota", "top up", "credit")
BLOCK_TYPES = ("content_policy_violation", "content_policy", "nsfw", "moderation", "safety")
DURATION_FORMATS = ("text", "text_s", "number")


@dataclass(frozen=True)
class Shape:
    """How one model's requests are spelled (its `params` table)."""

    endpoints: dict[str, str]
    first_frame: str = ""
    last_frame: str = ""
    keyframes: str = ""  # the field for images between the first and last frame (a list)
    references: str = ""
    reference_token: str = ""
    duration_field: str = "duration"
    duration_format: str = "text"
    sizes: dict[str, dict] = field(default_factory=dict)
    image_omits: tuple[str, ...] = ()
    negative_prompt: str = ""
    fixed: dict[str, Any] = field(default_factory=dict)
    multi_prompt: str = ""  # the field of a multi-shot request's list of {prompt, duration} shots
    multi_fixed: dict[str, Any] = field(default_factory=dict)  # sent with it (Kling: shot_type = "customize")

    @classmethod
    def of(cls, name: str, m: ModelCaps) -> "Shape":
        where = f"[backends.fal.models.\"{name}\".params]"
        p = dict(m.params)
        known = {"endpoints", "first_frame", "last_frame", "keyframes", "references", "reference_token", "duration",
                 "sizes", "image_omits", "negative_prompt", "fixed", "multi_prompt"}
        unknown = sorted(set(p) - known)
        if unknown:
            raise UsageError(f"{where}: unknown key {unknown[0]!r}; keys: {', '.join(sorted(known))}")
        endpoints = p.get("endpoints") or {}
        if (not isinstance(endpoints, dict) or not endpoints or set(endpoints) - {"text", "image", "reference"}
                or not all(isinstance(v, str) and v.count("/") >= 1 for v in endpoints.values())):
            raise UsageError(f"{where}: `endpoints` must map text, image or reference to fal endpoint ids "
                             "such as \"fal-ai/veo3.1\"")
        duration = p.get("duration") or {}
        shape = cls(endpoints=dict(endpoints), first_frame=str(p.get("first_frame", "")),
                    last_frame=str(p.get("last_frame", "")), keyframes=str(p.get("keyframes", "")),
                    references=str(p.get("references", "")),
                    reference_token=str(p.get("reference_token", "")),
                    duration_field=str(duration.get("field", "duration")),
                    duration_format=str(duration.get("format", "text")), sizes=dict(p.get("sizes") or {}),
                    image_omits=tuple(p.get("image_omits") or ()), negative_prompt=str(p.get("negative_prompt", "")),
                    fixed=dict(p.get("fixed") or {}))
        multi = p.get("multi_prompt") or {}
        if not isinstance(multi, dict):
            raise UsageError(f"{where}: `multi_prompt` is a table: {{ field = \"multi_prompt\", fixed = {{...}} }}")
        shape = replace(shape, multi_prompt=str(multi.get("field", "")), multi_fixed=dict(multi.get("fixed") or {}))
        problems = []
        if bool(m.multi_shot) != bool(shape.multi_prompt):
            problems.append("multi_shot needs `multi_prompt = { field = ... }` in params, and only then")
        if shape.duration_format not in DURATION_FORMATS:
            problems.append(f"duration format must be one of {', '.join(DURATION_FORMATS)}")
        if m.image_reference != ("image" in endpoints) or ("image" in endpoints and not shape.first_frame):
            problems.append("image_reference = true needs an image endpoint and `first_frame`, and only then")
        if bool(m.keyframes) != bool(shape.keyframes):
            problems.append("keyframes > 0 needs `keyframes` (the field that carries them), and only then")
        if bool(m.reference_images) != ("reference" in endpoints) or ("reference" in endpoints and not shape.references):
            problems.append("reference_images > 0 needs a reference endpoint and `references`, and only then")
        missing = [s for s in m.sizes if s not in shape.sizes]
        if missing:
            problems.append(f"`sizes` does not say how to ask for {', '.join(missing)}")
        if problems:
            raise UsageError(f"{where}: " + "; ".join(problems))
        return shape

    def duration(self, seconds: float) -> Any:
        if self.duration_format == "number":
            return int(seconds) if float(seconds).is_integer() else seconds
        return f"{seconds:g}" + ("s" if self.duration_format == "text_s" else "")


@dataclass
class FalJob(Job):
    payload: dict | None = None  # the request's input, as fal's request history lists it


def _detail(response) -> tuple[str, str, str]:
    """(type, message, input) of a fal error reply: model errors are a `detail` list of typed errors,
    request errors a `detail` string with `error_type` (https://fal.ai/docs/documentation/model-apis/errors)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    kind = response.headers.get("x-fal-error-type", "")
    if not isinstance(body, dict):
        return kind, (response.text or "")[:500], ""
    detail = body.get("detail", "")
    kind = str(body.get("error_type") or kind)
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = [str(x) for x in first.get("loc", []) if str(x) != "body"]
        return str(first.get("type") or kind), str(first.get("msg") or ""), ".".join(loc)
    if isinstance(detail, dict):
        return str(detail.get("error") or detail.get("type") or kind), str(detail.get("message") or detail), ""
    return kind, str(detail), ""


def _denied(status: int, said: str) -> QuotaError:
    """401/403: a locked account ("User is locked. Reason: Exhausted balance") or a bad key; both fatal."""
    if any(w in said.lower() for w in QUOTA_WORDS):
        hint = "" if "top up" in said.lower() else "; top up at fal.ai/dashboard/billing"
        return QuotaError(f"fal refused for billing ({status}): {said}{hint}")
    return QuotaError(f"fal refused FAL_KEY ({status}{': ' + said if said else ''}); check the key")


def _retry_after(headers) -> float | None:
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


def _epoch(stamp: str | None) -> float:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _inline(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("data:")


def same_input(sent: dict, listed: dict) -> bool:
    """Is a listed request's input the one we sent? Every field we sent is there with the same value;
    an inline image is compared where fal kept it inline (it may list a stored file's URL instead)."""
    for key, value in sent.items():
        if key not in listed:
            return False
        have = listed[key]
        if isinstance(value, list) and isinstance(have, list) and len(value) == len(have):
            if any(not (v == h or (_inline(v) and not _inline(h))) for v, h in zip(value, have)):
                return False
        elif not (value == have or (_inline(value) and isinstance(have, str) and not _inline(have))):
            return False
    return True


class Fal(RemoteBackend):
    lists_unfinished = False  # fal's request history lists a request once it has ended, not while it waits or runs

    def __init__(self, caps: BackendCaps, cache: Cache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(caps, cache, clock, sleep)
        _, key = credential(caps)  # a key from fal.ai/dashboard/keys; never a fal login file
        self.shapes = {name: Shape.of(name, m) for name, m in caps.models.items()}
        import fal_client
        import httpx
        from fal_client import client as sdk
        self.httpx, self.sdk = httpx, sdk
        # key= keeps the SDK from looking for credentials anywhere else (fal login files, Colab secrets)
        self.client = fal_client.SyncClient(key=key)
        self.http = self.client._client  # the SDK's own httpx client: its auth header, TLS and backup-domain transport
        self.downloads = download_client()  # result URLs are public CDN links
        self.platform = os.environ.get(PLATFORM_ENV, PLATFORM_URL).rstrip("/")
        self._inputs: dict[str, tuple[str, dict]] = {}

    # -- the request ---------------------------------------------------------------------------
    def arguments(self, req: RenderRequest) -> tuple[str, dict]:
        """(endpoint, input) for one shot: the model's shape applied to the compiled shot."""
        shot = req.shot
        name, mcaps, _ = self.caps.model(shot.model)
        shape = self.shapes[name]
        prompt = shot.prompt.rstrip()
        if req.input_image is not None and "image" in shape.endpoints:
            endpoint, images = shape.endpoints["image"], {shape.first_frame: self.sdk.encode_file(req.input_image)}
            if shot.keyframes and shape.keyframes:
                images[shape.keyframes] = [self.sdk.encode_file(req.asset(p)) for p in shot.keyframes]
        elif "reference" in shape.endpoints:
            refs = list(shot.reference_images[: mcaps.reference_images])
            endpoint, images = shape.endpoints["reference"], {shape.references: [
                self.sdk.encode_file(req.asset(p)) for p in refs]}
            if refs and shape.reference_token:
                names = {u.source: u.name for u in shot.characters if u.identity == "reference"}
                prompt += "\n\nReferences: " + "; ".join(
                    f"{shape.reference_token.format(n=i)} is {names.get(p, 'the setting')}"
                    for i, p in enumerate(refs, 1)) + "."
        else:
            endpoint, images = shape.endpoints["text"], {}
        args: dict[str, Any] = {"prompt": prompt, shape.duration_field: shape.duration(shot.segments[0])}
        g = req.job.group
        if g is not None:  # a multi-shot group: each shot's prompt and length, in order, instead of one prompt
            if not shape.multi_prompt:
                raise BackendError(f"shot '{shot.id}': {name} on fal makes one shot per request")
            del args["prompt"]
            args[shape.multi_prompt] = [{"prompt": m.prompt.rstrip(), shape.duration_field: shape.duration(sent)}
                                        for m, sent in zip(g.members, g.sent)]
            args.update(shape.multi_fixed)
        args.update(shape.sizes.get(shot.size, {}))
        if mcaps.negative_prompt and shape.negative_prompt:
            args[shape.negative_prompt] = NEGATIVE_PROMPT
        args.update(shape.fixed)
        if endpoint == shape.endpoints.get("image"):
            for omit in shape.image_omits:
                args.pop(omit, None)
        args.update(images)
        return endpoint, args

    # -- the five provider calls ---------------------------------------------------------------
    def create(self, req: RenderRequest, seg: Segment) -> Job:
        if seg.extends:
            raise BackendError(f"shot '{req.shot.id}': fal models here make one clip per job and cannot extend one")
        endpoint, args = self.arguments(req)
        try:  # one POST, not fal_client.submit: that retries by itself with no idempotency key, so a lost reply pays twice
            reply = self.sdk._request(self.http, "POST", self.sdk.QUEUE_URL_FORMAT + endpoint, json=args,
                                      timeout=self.client.default_timeout)
        except self.sdk.FalClientHTTPError as e:
            raise self._refused(req.shot.id, endpoint, e) from None
        except (self.httpx.ConnectError, self.httpx.ConnectTimeout) as e:
            raise NotCreated(f"cannot reach fal ({type(e).__name__})") from None
        except self.httpx.HTTPError as e:  # the request left: fal may have queued it
            raise Unclear(type(e).__name__) from None
        try:
            request_id = str(reply.json()["request_id"])
        except (ValueError, KeyError, TypeError):
            raise Unclear("fal accepted the request without a readable request id") from None
        return Job(id=f"{endpoint}/requests/{request_id}", state="queued", model=req.shot.model)

    def _refused(self, shot_id: str, endpoint: str, e) -> Exception:
        status, headers = e.status_code, e.response.headers
        kind, msg, where = _detail(e.response)
        said = f"{kind + ': ' if kind else ''}{msg}".strip()
        if status in (401, 403):
            return _denied(status, said)
        if status == 429:
            if any(w in said.lower() for w in QUOTA_WORDS):
                return QuotaError(f"fal refused for quota or billing (429): {said}")
            return NotCreated(f"rate limited: {said}", _retry_after(headers))
        if status in (408, 409) or status >= 500:
            return Unclear(f"HTTP {status}")
        if any(b in said.lower() for b in BLOCK_TYPES):
            return ShotBlocked(shot_id, kind or str(status), msg or said, where or "prompt", charged=False)
        if status == 404:
            return BackendError(f"fal has no endpoint {endpoint!r} (404); check the model's endpoints in "
                                "backends.toml or your config")
        return BackendError(f"shot '{shot_id}': fal rejected the request to {endpoint} ({status}"
                            f"{', ' + kind if kind else ''}{' at ' + where if where else ''}): {msg}")

    def retrieve(self, job_id: str) -> Job:
        endpoint, request_id = job_id.rsplit("/requests/", 1)
        handle = self.client.get_handle(endpoint, request_id)  # the SDK's URL builder (FAL_QUEUE_RUN_HOST)
        status = self._status(job_id, handle.status_url)
        state = {"IN_QUEUE": "queued", "IN_PROGRESS": "in_progress"}.get(str(status.get("status")))
        if state:
            return Job(id=job_id, state=state)
        if status.get("status") != "COMPLETED":
            raise Unclear(f"fal answered an unknown status {status.get('status')!r}")
        try:  # the result, or the error the model returned (which the result URL repeats)
            reply = self.sdk._request(self.http, "GET", handle.response_url, timeout=self.sdk.QUEUE_POLL_TIMEOUT)
        except self.sdk.FalClientHTTPError as e:
            if e.status_code == 429 or (e.status_code in (502, 503, 504) and not e.response.headers.get("x-fal-request-id")):
                raise Unclear(f"HTTP {e.status_code} reading the result") from None
            kind, msg, where = _detail(e.response)
            # fal never charges server errors (5xx); a model's 4xx "may still be charged" (fal's FAQ): count it
            return Job(id=job_id, state="failed", error_code=kind or str(e.status_code), error_message=msg,
                       error_param=where, charged=e.status_code < 500)
        except self.httpx.HTTPError as e:
            raise Unclear(type(e).__name__) from None
        try:
            body = reply.json()
        except ValueError:
            raise Unclear("fal's result is not JSON") from None
        video = body.get("video") if isinstance(body, dict) else None
        url = video.get("url") if isinstance(video, dict) else None
        if not url:
            return Job(id=job_id, state="failed", error_code="no_video",
                       error_message=f"the result has no video (fields: {', '.join(body) if isinstance(body, dict) else '-'})")
        return Job(id=job_id, state="completed", output=str(url))

    def _status(self, job_id: str, url: str) -> dict:
        """One status GET: NotCreated/Unclear when worth asking again (RemoteBackend waits and retries polls)."""
        try:
            body = self.sdk._request(self.http, "GET", url, timeout=self.sdk.QUEUE_POLL_TIMEOUT).json()
            return body if isinstance(body, dict) else {}
        except ValueError:
            raise Unclear("fal's status is not JSON") from None
        except self.sdk.FalClientHTTPError as e:
            if e.status_code == 429:
                raise NotCreated("rate limited", _retry_after(e.response.headers)) from None
            if e.status_code in (401, 403):
                raise _denied(e.status_code, _detail(e.response)[1]) from None
            if e.status_code == 404:
                raise BackendError(f"fal does not know request {job_id} (expired?); --new-take renders the shot again") from None
            if e.status_code in (408, 409) or e.status_code >= 500:
                raise Unclear(f"HTTP {e.status_code}") from None
            raise BackendError(f"reading {job_id}: HTTP {e.status_code}: {_detail(e.response)[1]}") from None
        except self.httpx.HTTPError as e:
            raise Unclear(type(e).__name__) from None

    def recent(self) -> list[Job]:
        """Requests that ended in the last day, with their inputs, from fal's request history
        (GET /models/requests/by-endpoint, https://fal.ai/docs/platform-apis/v1/models/requests/by-endpoint)."""
        jobs: list[Job] = []
        for endpoint in sorted({e for s in self.shapes.values() for e in s.endpoints.values()}):
            cursor = None
            for _ in range(HISTORY_PAGES):
                query: dict[str, Any] = {"endpoint_id": endpoint, "expand": "payloads", "limit": 100}
                if cursor:
                    query["cursor"] = cursor
                body = self.sdk._request(self.http, "GET", f"{self.platform}/models/requests/by-endpoint",
                                         params=query, timeout=60.0).json()
                for item in body.get("items", []):
                    payload = item.get("json_input")
                    jobs.append(FalJob(id=f"{item.get('endpoint_id') or endpoint}/requests/{item['request_id']}",
                                       state="completed" if item.get("status_code") == 200 else "failed",
                                       created_at=_epoch(item.get("sent_at")), payload=payload if isinstance(payload, dict) else None,
                                       prompt=payload.get("prompt") if isinstance(payload, dict) else None))
                cursor = body.get("next_cursor")
                if not cursor or not body.get("has_more", True):
                    break
        return jobs

    def _reconcile(self, req: RenderRequest, ident: Identity, journal, reason: str = "") -> str | None:
        """What this request sent is needed to recognise it in fal's history: worked out first."""
        if req.job.key not in self._inputs:
            self._inputs[req.job.key] = self.arguments(req)
        return super()._reconcile(req, ident, journal, reason)

    def matches(self, job: Job, ident: Identity) -> bool:
        """Same endpoint and the same input, sent after our intent (jobs other requests or segments
        hold are ruled out before this, by the journal and the cache's claims)."""
        if not isinstance(job, FalJob) or job.payload is None or job.created_at < ident.since - CLOCK_SKEW:
            return False
        endpoint, args = self._inputs[ident.key]
        return job.id.rsplit("/requests/", 1)[0] == endpoint and same_input(args, job.payload)

    def download(self, job: Job, dest: Path) -> None:
        url = job.output
        if not url.startswith("https://"):
            raise BackendError(f"fal gave {job.id} a result that is not an https URL; it was paid for; "
                               "--new-take renders it again")
        size = 0
        try:
            with self.downloads.stream("GET", url) as r:
                if r.status_code in (403, 404, 410):
                    raise BackendError(f"the clip of {job.id} is no longer downloadable ({r.status_code}); "
                                       "it was paid for; --new-take renders it again")
                if r.status_code != 200:
                    raise BackendError(f"downloading {job.id}: HTTP {r.status_code}; run again to retry the download")
                with open(dest, "wb") as f:
                    for chunk in r.iter_bytes(1 << 20):
                        size += len(chunk)
                        if size > MAX_CLIP_BYTES:
                            raise BackendError(f"the clip of {job.id} is larger than {MAX_CLIP_BYTES >> 30} GB; refused")
                        f.write(chunk)
        except self.httpx.HTTPError as e:
            raise BackendError(f"downloading {job.id}: {type(e).__name__}; run again to retry the download") from None

    # -- `storyboard doctor`: fal's Platform API model search (free) ----------------------------
    def provider_ids(self) -> dict[str, list[str]]:
        return {name: sorted(set(shape.endpoints.values())) for name, shape in self.shapes.items()}

    def served(self) -> set[str]:
        """Which of the table's endpoints fal still serves (GET /v1/models?endpoint_id=..., with the key)."""
        ids = sorted({e for ids in self.provider_ids().values() for e in ids})
        try:
            body = self.sdk._request(self.http, "GET", f"{self.platform}/models",
                                     params=[("endpoint_id", e) for e in ids], timeout=60.0).json()
        except self.sdk.FalClientHTTPError as e:
            if e.status_code in (401, 403):
                raise _denied(e.status_code, _detail(e.response)[1]) from None
            raise BackendError(f"fal's model search answered {e.status_code}") from None
        except (self.httpx.HTTPError, ValueError) as e:
            raise BackendError(f"fal's model search: {type(e).__name__}") from None
        return {str(m.get("endpoint_id")) for m in body.get("models", []) if isinstance(m, dict)}

    def close(self) -> None:
        self.downloads.close()
        self.http.close()
