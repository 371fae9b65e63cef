"""What every paid remote backend shares: a journal per shot, submits that never pay twice,
re-attaching after a crash, polling with deadlines, and downloads as soon as a job completes.

A provider adapter says how to create, look up, list and download; this module decides when, and
what each job costs: its price is held before the create leaves and spent when the provider accepts
it. After an unclear create the job is looked up by identity (the request's key, take and segment,
and for an extension its base job), never by prompt text alone: an extension shares its base's
prompt, a new take its old take's."""

from __future__ import annotations

import importlib
import os
import re
import ssl
import threading
import time
from abc import abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from storyboard.backends.base import Backend, RenderRequest, RenderResult
from storyboard.errors import (AmbiguousSubmission, BackendError, BackendUnusable, QuotaError, RetriesExhausted,
                               ShotBlocked, StoryboardError)
from storyboard.model.caps import BackendCaps
from storyboard.redact import redact
from storyboard.store.budget import Purse
from storyboard.store.cache import Cache

CLOCK_SKEW = 120.0  # seconds: a listed job created this long before our intent may still be ours
# words in a provider's error that mean it refused the content (a slate, not a failure of ours)
BLOCK_WORDS = ("moderation", "policy", "safety", "blocked", "filtered", "responsible ai", "prohibited")


# a refusal for money, not for speed ("quota" alone is no sign: Google's rate limit says "check quota")
QUOTA_WORDS = ("billing", "balance", "enough credits", "credit balance", "top up", "insufficient_quota",
               "exceeded your current quota", "spend limit")
# what a backend table's `errors` maps an SDK exception class to (by class name, most specific first)
ERROR_KINDS = ("not_created", "unclear", "quota", "credentials", "blocked", "rejected", "by_status")


@lru_cache(maxsize=8)
def _tls(http: str, cafile: str | None, capath: str | None) -> ssl.SSLContext:
    return importlib.import_module(http).create_ssl_context()


def tls(http: str = "httpx") -> ssl.SSLContext:
    """The verifying TLS context the HTTP library `http` ("httpx", or "httpx2" for SDKs built on it)
    makes by default (SSL_CERT_FILE or SSL_CERT_DIR when set, else its own bundle or the system's),
    made once per process and shared by every client the backends make: each one read the whole CA
    bundle again (~25 ms of CPU), an SDK client and a download client per backend, for every storyboard
    of a batch and every render of the review room. Made again when the environment names other CAs."""
    return _tls(http, os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


def sdk_http_client(sdk):
    """A Stainless-made SDK's own default HTTP client (`DefaultHttpxClient`: its limits, timeouts and
    redirects; openai, runwayml) with the shared TLS context of the library it is built on."""
    library = next((c.__module__.split(".")[0] for c in sdk.DefaultHttpxClient.__mro__ if c.__name__ == "Client"),
                   "httpx")
    return sdk.DefaultHttpxClient(verify=tls(library))


def download_client():
    """An httpx client for a provider's result links: signed or public URLs fetched without the key,
    so it never goes to a host the provider names."""
    import httpx
    return httpx.Client(timeout=httpx.Timeout(300.0, connect=30.0), follow_redirects=True, verify=tls())


def status_of(e: BaseException) -> int:
    """The HTTP status an SDK exception carries (openai/runwayml `status_code`, google-genai `code`)."""
    for name in ("status_code", "code", "status"):
        value = getattr(e, name, None)
        if isinstance(value, int):
            return value
    return 0


def retry_after(e: BaseException) -> float | None:
    headers = getattr(getattr(e, "response", None), "headers", None) or {}
    for name, div in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return float(headers[name]) / div
        except (KeyError, ValueError, TypeError):
            continue
    return None


def kind_by_status(status: int, text: str) -> str:
    """What an HTTP status says of a create: made nothing (429), unclear (408, 409, 5xx), the key, the
    content, or a request the provider will never take."""
    low = text.lower()
    if status == 429:
        return "quota" if any(w in low for w in QUOTA_WORDS) else "not_created"
    if status in (401, 403):
        return "quota" if any(w in low for w in QUOTA_WORDS) else "credentials"
    if status in (402,):
        return "quota"
    if status in (408, 409) or status >= 500:
        return "unclear"
    if any(w in low for w in QUOTA_WORDS):  # Runway answers 400 "You do not have enough credits"
        return "quota"
    if is_refusal(low):
        return "blocked"
    return "rejected"


def is_refusal(text: str) -> bool:
    """Does a provider's error code or message say it refused the content or a reference?"""
    return any(w in text.lower() for w in BLOCK_WORDS)


@dataclass
class Job:
    """A provider's view of one job. Fields the provider does not report stay empty (None for
    `prompt` and `extends`), and a lookup checks only what is reported."""

    id: str
    state: str  # queued | in_progress | completed | failed
    progress: float | None = None
    model: str = ""
    seconds: float = 0.0
    created_at: float = 0.0
    prompt: str | None = None
    error_code: str = ""
    error_message: str = ""
    error_param: str = ""
    output: str = ""  # where the finished video is (a provider URI), when the id is not enough
    charged: bool = True  # False when the provider says a failed job is not billed
    size: str = ""
    extends: str | None = None  # the job this one extends ("" for none); None: the provider does not say
    content: bytes = field(default=b"", repr=False)  # the finished video, when the provider answers it inline


@dataclass
class Segment:
    """One paid request of a shot: the first job, or an extension of the one before."""

    index: int
    seconds: float
    extends: str | None = None  # the job id this extends


@dataclass(frozen=True)
class Identity:
    """Exactly which paid request a job must be, journaled before the request leaves."""

    key: str  # the request's content key (the take is part of it)
    take: int
    segment: int
    extends: str | None  # the base job of an extension
    prompt: str
    model: str
    size: str
    seconds: float  # this segment's seconds
    total: float  # the seconds the finished job holds (an extension reports its stitched length)
    since: float  # when the request was about to leave: a job made before it is not ours

    @property
    def owner(self) -> dict:
        return {"key": self.key, "segment": self.segment}


def sdk_message(e: BaseException) -> str:
    """The provider's own words in an SDK exception (a JSON body's error message where there is one)."""
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return redact(str(err["message"]))
        if isinstance(body.get("detail"), str):
            return redact(body["detail"])
    message = getattr(e, "message", None)
    return redact(str(message if isinstance(message, str) and message else e))


class Unclear(Exception):
    """The create may or may not have been accepted (timeout, reset, 5xx): look before resubmitting."""


class NotCreated(Exception):
    """The provider surely made nothing (429 rate limit, connection refused): safe to retry."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Journal:
    """What is known of a shot's paid requests; saved before every request and after every answer."""

    key: str
    shot: str
    segments: list[dict] = field(default_factory=list)

    def seg(self, i: int) -> dict:
        while len(self.segments) <= i:
            self.segments.append({})
        return self.segments[i]

    def job_ids(self) -> set[str]:
        return {r["job_id"] for r in self.segments if r.get("job_id")}


class RemoteBackend(Backend):
    """Template for a paid backend: subclasses implement the provider calls below."""

    can_list = True  # can the provider list recent jobs (to reconcile an unclear create)?
    lists_unfinished = True  # does that list show jobs still queued or running? If not, a miss proves nothing

    def __init__(self, caps: BackendCaps, cache: Cache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(caps, cache, clock, sleep)
        self.cache = cache or Cache()
        self.clock, self._sleep = clock, sleep
        self._journal_lock = threading.Lock()
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def sleep(self, seconds: float) -> None:
        """Wait, unless the run is being stopped: then leave at once (the journal has every job)."""
        if self._cancelled.is_set():
            raise KeyboardInterrupt
        if self._sleep is time.sleep:
            if self._cancelled.wait(seconds):
                raise KeyboardInterrupt
        else:  # an injected clock for tests
            self._sleep(seconds)

    # -- the provider, in five calls -----------------------------------------------------------
    @abstractmethod
    def create(self, req: RenderRequest, seg: Segment) -> Job:
        """Submit one paid request with no SDK retries. Raise NotCreated, Unclear, or a StoryboardError."""

    @abstractmethod
    def retrieve(self, job_id: str) -> Job: ...

    @abstractmethod
    def recent(self) -> list[Job]:
        """Jobs made recently, newest first (for reconciling an unclear create)."""

    @abstractmethod
    def download(self, job: Job, dest: Path) -> None:
        """The finished video to `dest` (written under that name by the caller's temp rules)."""

    # -- one table from SDK exceptions to storyboard's (the backend table's `errors`) ----------------
    def classify(self, e: BaseException, shot_id: str = "", where: str = "prompt", what: str = "") -> BaseException:
        """The storyboard exception for an SDK exception, by the backend table's `errors` (exception class
        name -> kind, looked up along the class's bases): NotCreated and Unclear drive the submit loop;
        QuotaError, BackendUnusable, ShotBlocked and BackendError reach the user. An exception the table
        does not name is returned as it is (a bug, not a provider's answer)."""
        kind = next((self.caps.errors[c.__name__] for c in type(e).__mro__ if c.__name__ in self.caps.errors), None)
        if kind is None:
            return e
        status = status_of(e)
        text = sdk_message(e)
        if kind == "by_status":
            kind = kind_by_status(status, text) if status else "unclear"
        said = f"{status} {text}".strip() if status else (text or type(e).__name__)
        subject = f"shot '{shot_id}': " if shot_id else ""
        if kind == "not_created":
            return NotCreated(f"{type(e).__name__}: {said}", retry_after(e))
        if kind == "unclear":
            return Unclear(f"{type(e).__name__} {status or ''}".strip())
        if kind == "quota":
            return QuotaError(f"{self.caps.name} refused for quota or billing ({said})")
        if kind == "credentials":
            return BackendUnusable(f"{self.caps.name} refused the credentials ({said}); check "
                                   f"{' or '.join(self.caps.env) or 'its key'}")
        if kind == "blocked":
            return ShotBlocked(shot_id, str(status or type(e).__name__), text, where, charged=False)
        return BackendError(f"{subject}{self.caps.name} rejected {what or 'the request'} ({said})")

    # -- `storyboard doctor`: the provider's free endpoints only ----------------------------------
    def provider_ids(self) -> dict[str, list[str]]:
        """The ids the provider must serve for each model of the table (its own name, by default)."""
        return {name: [name] for name in self.caps.models}

    def served(self) -> set[str]:
        """Every model id the provider serves to this key, from an endpoint it does not bill."""
        raise NotImplementedError

    def balance(self) -> str | None:
        """The account's credit, where the provider tells it for free."""
        raise NotImplementedError

    def price(self, model: str, size: str) -> float:
        _, mcaps, _ = self.caps.model(model)
        return mcaps.price_per_second(size)

    def matches(self, job: Job, ident: Identity) -> bool:
        """Could a listed job be the one `ident`'s unclear create made? Every fact the provider reports
        must agree: made after the intent, the same prompt, the same base job for an extension (none
        for a first segment), and the model, size and length asked. (Jobs other requests or other
        segments hold are ruled out before this, by the journal and the cache's claims.) A backend
        whose provider reports more, say a client reference, overrides this to check it."""
        if job.created_at and job.created_at < ident.since - CLOCK_SKEW:
            return False
        if job.prompt is not None and job.prompt != ident.prompt:
            return False
        if job.extends is not None and job.extends != (ident.extends or ""):
            return False
        if job.seconds and not any(abs(job.seconds - s) < 1e-6 for s in (ident.seconds, ident.total)):
            return False
        if ident.extends is None:  # an extension inherits model and size from its base
            if job.model and not re.fullmatch(re.escape(ident.model) + r"(-\d{4}-\d{2}-\d{2})?", job.model):
                return False  # the same model, or a dated snapshot of it
            if job.size and job.size != ident.size:
                return False
        return True

    def identity(self, req: RenderRequest, seg: Segment, since: float) -> Identity:
        shot = req.shot
        return Identity(key=req.job.key, take=req.job.take, segment=seg.index, extends=seg.extends,
                        prompt=shot.prompt, model=shot.model, size=shot.size, seconds=seg.seconds,
                        total=sum(shot.segments[: seg.index + 1]), since=since)

    # -- the journal -----------------------------------------------------------------------------
    def _load(self, req: RenderRequest) -> Journal:
        data = self.cache.record("jobs", req.job.key) or {}
        segments = [dict(r) for r in data.get("segments", []) if isinstance(r, dict)]
        seen: set[str] = set()
        for rec in segments:
            job_id = rec.get("job_id")
            if job_id in seen:  # a lookup by prompt text once took an earlier segment's job for this one
                rec.pop("job_id")
                rec.update(state="intent", intent_at=float(rec.get("intent_at") or 0.0))
            elif job_id:
                seen.add(job_id)
        return Journal(req.job.key, req.shot.id, segments)

    def _save(self, j: Journal) -> None:
        with self._journal_lock:
            self.cache.save_record("jobs", j.key, {"key": j.key, "shot": j.shot, "backend": self.caps.name,
                                                   "segments": j.segments})

    # -- the flow ----------------------------------------------------------------------------------
    def render(self, req: RenderRequest) -> RenderResult:
        """Every segment's job (re-attached from the journal, found after an unclear create, or
        submitted), waited for in turn, then the last one downloaded. Each job's price is spent
        through `req.purse` when the provider accepts it; jobs accepted in an earlier run count as
        money spent earlier."""
        shot = req.shot
        purse = req.purse or Purse(None)
        journal = self._load(req)
        per_second = self.price(shot.model, shot.size)
        prev: str | None = None
        job: Job | None = None
        billed = 0.0
        for i, seconds in enumerate(shot.segments):
            seg = Segment(i, seconds, extends=prev)
            rec = journal.seg(i)
            price = round(seconds * per_second, 4)
            job_id = rec.get("job_id")
            if job_id:
                req.report("re-attached", None)
                purse.paid(float(rec.get("price", price)), job_id, earlier=not purse.this_run(rec))
            elif rec.get("state") == "intent":  # a crash or an unclear reply in an earlier run: look first
                job_id = self._reconcile(req, self.identity(req, seg, float(rec.get("intent_at") or 0.0)), journal)
                if job_id:
                    self._record(journal, rec, job_id)
                    purse.paid(price, job_id, earlier=not purse.this_run(rec))  # accepted when the intent's run asked
            if not job_id:
                job_id = self._submit(req, seg, journal, rec, purse, price)
            job = self._wait(req, job_id, i, len(shot.segments), purse)
            rec["state"] = "completed"
            self._save(journal)
            billed += seconds
            prev = job.id
        assert job is not None
        req.report("downloading", 90)
        clip = req.workdir / "clip.mp4"
        self.download(job, clip)
        return RenderResult(clip=clip, model_reported=job.model or shot.model, job_id=job.id,
                            seconds_billed=billed, cost=round(billed * per_second, 4),
                            extra={"segments": [r.get("job_id") for r in journal.segments]})

    def _record(self, journal: Journal, rec: dict, job_id: str) -> None:
        rec.update(state="submitted", job_id=job_id)
        self._save(journal)

    def _submit(self, req: RenderRequest, seg: Segment, journal: Journal, rec: dict, purse: Purse,
                price: float) -> str:
        for attempt in range(1, self.caps.submit_attempts + 1):
            purse.hold(price)  # the cap counts it before the request leaves
            ident = self.identity(req, seg, self.clock())
            rec.clear()
            rec.update(state="intent", intent_at=ident.since, attempt=attempt, seconds=seg.seconds, price=price,
                       segment=seg.index, take=ident.take, key=ident.key, extends=seg.extends, run=purse.run)
            self._save(journal)  # the intent, and what it is, on disk before the request leaves
            req.report("submitting", 1)
            try:
                job = self.create(req, seg)
            except NotCreated as e:
                rec.update(state="not_created")
                self._save(journal)
                self.sleep(e.retry_after if e.retry_after is not None else min(30.0, 2.0 ** attempt))
                continue
            except Unclear as e:
                job_id = self._reconcile(req, ident, journal, reason=str(e))
                if job_id is None:  # the list answered and holds no such job: nothing was made
                    rec.update(state="not_created")
                    self._save(journal)
                    self.sleep(min(30.0, 2.0 ** attempt))
                    continue
                self._record(journal, rec, job_id)
                purse.paid(price, job_id)
                return job_id
            except ShotBlocked:
                rec.update(state="refused")
                self._save(journal)
                raise
            except StoryboardError:  # a definite answer (quota, a rejected request): nothing was made
                rec.update(state="not_created")
                self._save(journal)
                raise
            self.cache.claim(self.caps.name, job.id, ident.owner, certain=True)
            self._record(journal, rec, job.id)
            purse.paid(price, job.id)
            return job.id
        raise RetriesExhausted(f"shot '{req.shot.id}': the provider did not accept the job after "
                               f"{self.caps.submit_attempts} attempts")

    def _reconcile(self, req: RenderRequest, ident: Identity, journal: Journal, reason: str = "") -> str | None:
        """Find the job an unclear create may have made: one whose reported facts match `ident`,
        held by no other segment of this shot and claimed by no other request. None only when
        the list surely lacks it."""
        if not self.can_list:
            raise AmbiguousSubmission(f"shot '{req.shot.id}': a submission's outcome is unknown ({reason or 'no reply'}) "
                                      f"and {self.caps.name} cannot list its jobs to check; nothing is submitted "
                                      "again by itself: look at the provider's console, then run again "
                                      "(add --new-take to submit anew)")
        last_error: Exception | None = None
        taken = journal.job_ids()
        for attempt in range(3):
            try:
                listed = self.recent()
            except Exception as e:  # noqa: BLE001 - any failure to list leaves the outcome unknown
                last_error = e
                self.sleep(min(10.0, 1.0 + 2 * attempt))
                continue
            for job in listed:
                if job.id in taken or not self.matches(job, ident):
                    continue
                if self.cache.claimed_by_another(self.caps.name, job.id, ident.owner):
                    continue
                if self.cache.claim(self.caps.name, job.id, ident.owner, certain=False):
                    return job.id
            if self.lists_unfinished:
                return None
            raise AmbiguousSubmission(f"shot '{req.shot.id}': a submission's outcome is unknown ({reason or 'no reply'}) "
                                      f"and {self.caps.name} lists a job only once it has finished; nothing is "
                                      "submitted again by itself: run again in a few minutes to find it "
                                      "(add --new-take to submit anew)")
        raise AmbiguousSubmission(f"shot '{req.shot.id}': a submission's outcome is unknown ({reason or 'no reply'}) "
                                  f"and the job list could not be read ({redact(str(last_error))}); run again to "
                                  "re-check, nothing will be submitted twice")

    def _wait(self, req: RenderRequest, job_id: str, index: int, count: int, purse: Purse) -> Job:
        deadline = self.clock() + self.caps.job_timeout_seconds
        failures = 0
        while True:
            try:
                job = self.retrieve(job_id)
                failures = 0
            except (Unclear, NotCreated) as e:  # a poll is safe to repeat
                failures += 1
                if failures > 8 or self.clock() > deadline:
                    raise RetriesExhausted(f"shot '{req.shot.id}': cannot read job {job_id} ({e}); run again to re-attach") from None
                self.sleep(getattr(e, "retry_after", None) or min(30.0, self.caps.poll_seconds * 2 ** failures))
                continue
            if job.state == "completed":
                return job
            if job.state == "failed":
                if not job.charged:
                    purse.not_charged(job_id)
                raise self.failure(req, job)
            share = (index + (job.progress or 0) / 100) / count
            req.report(job.state.replace("_", " "), round(5 + 80 * share, 1))
            if self.clock() > deadline:
                raise RetriesExhausted(f"shot '{req.shot.id}': job {job_id} not finished after "
                                       f"{self.caps.job_timeout_seconds:.0f}s; run again to re-attach to it")
            self.sleep(self.caps.poll_seconds)

    def failure(self, req: RenderRequest, job: Job) -> Exception:
        """A failed job: blocked when the provider refused the content or a reference, else an error."""
        code = job.error_code or "failed"
        blocked = is_refusal(code) or "reference" in code.lower()
        if blocked:
            where = job.error_param or ("input_reference" if "reference" in code.lower() else "prompt")
            return ShotBlocked(req.shot.id, code, job.error_message or "refused", where, charged=job.charged, job_id=job.id)
        return BackendError(f"shot '{req.shot.id}': job {job.id} failed ({code}): {job.error_message}")
