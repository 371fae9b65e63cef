"""The Sora 2 Videos API protocol through the official openai SDK: OpenAI's own endpoint (closed on
2026-09-24) or any gateway serving the same protocol at OPENAI_BASE_URL."""

from __future__ import annotations

import hashlib
import mimetypes
import threading
import time
import warnings
from pathlib import Path
from typing import Callable

from storyboard.backends.base import RenderRequest
from storyboard.backends.remote import (Job, NotCreated, RemoteBackend, Segment, Unclear, is_refusal, retry_after,
                                       sdk_http_client)
from storyboard.catalog import credential
from storyboard.errors import BackendError, BackendUnusable, QuotaError, ShotBlocked
from storyboard.model.caps import BackendCaps
from storyboard.redact import redact
from storyboard.store.cache import Cache
from storyboard.store.files import sha256_file

# The SDK marks every Videos call deprecated (OpenAI's endpoint closed on 2026-09-24; gateways serve
# the protocol on). Said once in the README, not on every call.
warnings.filterwarnings("ignore", message=r"The Sora API is scheduled", category=DeprecationWarning)

QUOTA_CODES = ("insufficient_quota", "billing_hard_limit_reached", "billing_not_active", "spend_limit")


def _code(e) -> tuple[str, str, str]:
    """(code, message, param) of an openai APIStatusError's body."""
    body = getattr(e, "body", None)
    err = body.get("error", body) if isinstance(body, dict) else {}
    if not isinstance(err, dict):
        err = {}
    return str(err.get("code") or ""), str(err.get("message") or getattr(e, "message", "") or e), str(err.get("param") or "")



def _never_connected(e: BaseException) -> bool:
    """Did the SDK fail before a connection was made (refused, no such host, TLS refused), so that
    nothing was sent? Its transport's ConnectError (httpx's, or the httpx2 newer SDKs ship) says so."""
    return any(cls.__name__ == "ConnectError" for cls in type(e.__cause__).__mro__)


class OpenAIVideos(RemoteBackend):

    def __init__(self, caps: BackendCaps, cache: Cache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(caps, cache, clock, sleep)
        _, key = credential(caps)  # OPENAI_BASE_URL (a gateway) is read by the SDK
        import openai
        self.openai = openai
        # polls and downloads are safe to retry (the SDK does, honouring Retry-After); creates are not
        # (nor the list, whose caller retries it)
        self.client = openai.OpenAI(api_key=key, max_retries=3, timeout=120.0,
                                    http_client=sdk_http_client(openai))
        self.create_client = self.client.with_options(max_retries=0)
        self.endpoint = str(self.client.base_url)  # names the provider in character records (hashed)
        self.base_url = redact(self.endpoint)  # as shown in messages: a key inside the URL becomes ***
        self._characters = threading.Lock()

    # -- characters: a cameo video becomes a Sora character once, kept across runs and episodes ---
    def character_id(self, req: RenderRequest, name: str, cameo: str) -> str:
        path = req.asset(cameo)
        ident = hashlib.sha256(f"{self.endpoint}|{name}|{sha256_file(path)}".encode()).hexdigest()[:32]
        with self._characters:
            rec = self.cache.record("characters", ident)
            if rec and rec.get("id"):
                return rec["id"]
            req.report("making character", None)
            try:
                with open(path, "rb") as f:
                    made = self.create_client.videos.create_character(
                        name=name, video=(path.name, f.read(), mimetypes.guess_type(path.name)[0] or "video/mp4"))
            except self.openai.APIStatusError as e:
                code, msg, _ = _code(e)
                raise ShotBlocked(req.shot.id, code or str(e.status_code), msg, f"cameo {cameo}", charged=False) from None
            except self.openai.APIConnectionError as e:
                raise BackendError(f"making the character {name!r}: {redact(str(e))}") from None
            self.cache.save_record("characters", ident, {"id": made.id, "name": made.name or name,
                                                         "cameo": cameo, "created_at": made.created_at})
            return str(made.id)

    # -- the five provider calls ---------------------------------------------------------------
    def create(self, req: RenderRequest, seg: Segment) -> Job:
        shot = req.shot
        seconds = f"{seg.seconds:g}"
        try:
            if seg.extends:
                # the SDK takes the video to extend as an upload: fetch the finished base clip first
                base = req.workdir / f"segment{seg.index - 1}.mp4"
                if not base.exists():
                    self.download(Job(id=seg.extends, state="completed"), base, thumbnail=False)
                video = self.create_client.videos.extend(prompt=shot.prompt, seconds=seconds,
                                                         video=(base.name, base.read_bytes(), "video/mp4"))
            else:
                kwargs: dict = {"prompt": shot.prompt, "model": shot.model, "seconds": seconds, "size": shot.size}
                if req.input_image is not None:
                    kwargs["input_reference"] = (req.input_image.name, req.input_image.read_bytes(), "image/png")
                chars = [{"id": self.character_id(req, u.name, u.source)} for u in shot.characters
                         if u.identity == "native" and u.source]
                if chars:
                    kwargs["extra_body"] = {"characters": chars}
                video = self.create_client.videos.create(**kwargs)
        except self.openai.RateLimitError as e:
            code, msg, _ = _code(e)
            if code in QUOTA_CODES or "quota" in msg.lower() or "billing" in msg.lower():
                raise QuotaError(f"the provider refused for quota or billing ({code}): {msg}") from None
            raise NotCreated(f"rate limited: {msg}", retry_after(e)) from None
        except (self.openai.AuthenticationError, self.openai.PermissionDeniedError) as e:
            raise self._credentials(e) from None
        except self.openai.NotFoundError:
            raise BackendUnusable(f"no Videos API at {self.base_url}; OpenAI switched its endpoint off on "
                                  "2026-09-24, so set OPENAI_BASE_URL to a gateway that serves the protocol") from None
        except self.openai.BadRequestError as e:
            code, msg, param = _code(e)
            if is_refusal(code + " " + msg) or param in ("input_reference", "video"):
                raise ShotBlocked(shot.id, code or "invalid_request", msg,
                                  param or ("input_reference" if req.input_image else "prompt"), charged=False) from None
            raise BackendError(f"shot '{shot.id}': the provider rejected the request ({code or 400}): {msg}"
                               + (f" [parameter: {param}]" if param else "")) from None
        except self.openai.APIConnectionError as e:
            if not isinstance(e, self.openai.APITimeoutError) and _never_connected(e):
                # no connection was made (refused, no such host, TLS refused): the request never left
                raise BackendUnusable(f"cannot connect to {self.base_url} ({redact(str(e.__cause__)) or 'refused'}); "
                                      "nothing was sent: check OPENAI_BASE_URL and that the gateway is up") from None
            raise Unclear(type(e).__name__) from None
        except self.openai.InternalServerError as e:
            raise Unclear(type(e).__name__) from None
        except self.openai.APIStatusError as e:
            if e.status_code >= 500:
                raise Unclear(f"HTTP {e.status_code}") from None
            code, msg, _ = _code(e)
            raise BackendError(f"shot '{shot.id}': HTTP {e.status_code} ({code}): {msg}") from None
        return self._job(video)

    @staticmethod
    def _credentials(e) -> BackendUnusable:
        return BackendUnusable(f"the provider refused the credentials ({e.status_code}); check OPENAI_API_KEY "
                               "(and OPENAI_BASE_URL)")

    def retrieve(self, job_id: str) -> Job:
        try:
            return self._job(self.client.videos.retrieve(job_id))
        except self.openai.RateLimitError as e:
            raise NotCreated("rate limited", retry_after(e)) from None
        except (self.openai.AuthenticationError, self.openai.PermissionDeniedError) as e:
            raise self._credentials(e) from None
        except (self.openai.APIConnectionError, self.openai.InternalServerError) as e:
            raise Unclear(type(e).__name__) from None
        except self.openai.NotFoundError:
            raise BackendError(f"job {job_id} is not known to {self.base_url} (expired or deleted); "
                               "--new-take renders the shot again") from None

    def recent(self) -> list[Job]:
        # no SDK retries: the lookup retries the list itself, with back-off on the injectable clock
        page = self.create_client.videos.list(limit=50, order="desc")
        return [self._job(v) for v in page.data]

    def download(self, job: Job, dest: Path, thumbnail: bool = True) -> None:
        try:
            self.client.videos.download_content(job.id, variant="video").write_to_file(dest)
        except self.openai.APIStatusError as e:
            if e.status_code in (404, 410):
                raise BackendError(f"the clip of job {job.id} has expired at the provider before it was downloaded; "
                                   "it was paid for but cannot be fetched; --new-take renders it again") from None
            raise BackendError(f"downloading job {job.id}: HTTP {e.status_code}") from None
        except self.openai.APIConnectionError as e:
            raise BackendError(f"downloading job {job.id}: {redact(str(e))}; run again to retry the download") from None
        if not thumbnail:
            return
        try:  # the thumbnail, while the links are fresh (a missing one is no failure)
            thumb = self.client.videos.download_content(job.id, variant="thumbnail")
            thumb.write_to_file(dest.parent / "thumbnail.webp")
        except (self.openai.APIStatusError, self.openai.APIConnectionError):
            pass

    def served(self) -> set[str]:
        """The models this key may use (GET /v1/models: free)."""
        try:
            return {m.id for m in self.create_client.models.list()}
        except (self.openai.AuthenticationError, self.openai.PermissionDeniedError) as e:
            raise self._credentials(e) from None
        except self.openai.APIError as e:
            raise BackendError(f"listing models at {self.base_url}: {type(e).__name__}") from None

    def close(self) -> None:
        self.client.close()

    @staticmethod
    def _job(v) -> Job:
        err = getattr(v, "error", None)
        return Job(id=v.id, state=v.status, progress=float(v.progress or 0), model=str(v.model or ""),
                   seconds=float(v.seconds or 0), created_at=float(v.created_at or 0), prompt=v.prompt,
                   error_code=(err.code if err else ""), error_message=(err.message if err else ""),
                   error_param=(getattr(err, "param", None) or "") if err else "", size=str(v.size or ""),
                   # the base of an extension (or remix) when the provider says; silence proves nothing
                   extends=getattr(v, "remixed_from_video_id", None) or None)
