"""A fake of fal's queue and request history on 127.0.0.1 over TLS, for the real fal-client SDK, on
the shared fake base.

fal-client builds https:// URLs from FAL_QUEUE_RUN_HOST, so the fake serves TLS with a certificate
from a throwaway CA (trustme), trusted through SSL_CERT_FILE (read by the SDK's httpx). Requests go
IN_QUEUE -> IN_PROGRESS -> COMPLETED over a few status polls (or after a latency); a finished one is
a real small MP4 of the asked length at a public /files/ URL. fal's request history lists a request
only once it has ended."""

from __future__ import annotations

import base64
import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from tests.fakes.base import Faults, FakeServer

KEY = "test-key"
SIZES = {("720p", "16:9"): "1280x720", ("720p", "9:16"): "720x1280", ("1080p", "16:9"): "1920x1080",
         ("1080p", "9:16"): "1080x1920"}


@dataclass
class FalFaults(Faults):
    history_fails: bool = False  # the request history answers 500


def _image_size(data_uri: str) -> str:
    from PIL import Image
    raw = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as im:
        return f"{im.width}x{im.height}"


class FakeFal(FakeServer):
    tone = 660.0
    faults_class = FalFaults
    routes = [("GET", r"/files/([\w-]+)\.mp4", "file"),
              ("GET", r"/v1/models/requests/by-endpoint", "history"),
              ("GET", r"/v1/models", "models"),
              ("GET", r"/([\w.-]+/[\w.-]+)/requests/([\w-]+)/status", "status"),
              ("GET", r"/([\w.-]+/[\w.-]+)/requests/([\w-]+)", "result"),
              ("POST", r"/([\w.-]+(?:/[\w.-]+)+)", "submit")]

    def __init__(self, media_dir, tls):
        super().__init__(media_dir, tls)
        self.served_endpoints: set[str] | None = None  # None: every endpoint; else only these (doctor's fake)

    def prompts(self) -> list[str]:
        return [j["prompt"] for j in self.ledger.jobs]

    def authorised(self, h) -> bool:
        if self.faults.bad_key or h.headers.get("Authorization") != f"Key {KEY}":
            h.reply(401, {"detail": "Unauthorized"})
            return False
        return True

    def urls(self, app: str, rid: str) -> dict:
        base = f"{self.url}/{app}/requests/{rid}"
        return {"request_id": rid, "response_url": base, "status_url": base + "/status",
                "cancel_url": base + "/cancel", "queue_position": 0}

    def _output_size(self, inp: dict) -> str:
        for v in inp.values():
            if isinstance(v, str) and v.startswith("data:image"):
                return _image_size(v)  # image to video: the frame sets the shape
        return SIZES.get((inp.get("resolution", "720p"), inp.get("aspect_ratio", "16:9")), "1280x720")

    def submit(self, h, m, raw):
        if not self.authorised(h):
            return None
        endpoint = m.group(1)
        inp = json.loads(raw or b"{}")
        problem = _multi_prompt_problem(inp)
        if problem:  # refused before anything is made, as fal's validation does
            return h.reply(422, {"detail": [{"loc": ["body", "multi_prompt"], "msg": problem, "type": "value_error"}]})
        with self.lock:
            nth = self.every_nth()
            fault = self.faults_on_create(endpoint)
            if fault == "quota":
                return h.reply(403, {"detail": "User is locked. Reason: Exhausted balance. Top up your "
                                               "balance at fal.ai/dashboard/billing."})
            if fault == "429":
                return h.reply(429, {"detail": "Too many requests"}, {"Retry-After": "0.05"})
            if fault == "retired" or (self.served_endpoints is not None and endpoint not in self.served_endpoints):
                return h.reply(404, {"detail": f"Application '{endpoint}' not found"})
            rid = str(uuid.uuid4())
            app = "/".join(endpoint.split("/")[:2])  # status and result live under owner/alias
            self.new_job(_prompt(inp), float(str(inp.get("duration", "5")).rstrip("s")),
                               self._output_size(inp), endpoint, id=rid, endpoint=endpoint, app=app, input=inp,
                               sent_at=datetime.now(timezone.utc).isoformat(), ended_at=None)
            after = self.after_create(nth)
        if after == "lost":
            return h.hang_up()
        if after == "500":
            return h.reply(500, {"detail": "Internal Server Error"})
        return h.reply(200, self.urls(app, rid))

    def _job(self, h, m) -> dict | None:
        if not self.authorised(h):
            return None
        job = self.jobs.get(m.group(2))
        if job is None or job["app"] != m.group(1):
            h.reply(404, {"detail": "Request not found"})
            return None
        return job

    def _end(self, job: dict) -> str:
        state = self.advance(job)
        if state in ("succeeded", "moderated") and job["ended_at"] is None:
            job["ended_at"] = datetime.now(timezone.utc).isoformat()
        return state

    def status(self, h, m, raw):
        job = self._job(h, m)
        if job is None:
            return None
        with self.lock:
            if self.every_nth():
                return h.reply(500, {"detail": "Internal Server Error"})
            state = self._end(job)
        status = {"queued": "IN_QUEUE", "running": "IN_PROGRESS"}.get(state, "COMPLETED")
        doc = {"status": status, **self.urls(job["app"], job["id"]), "logs": None}
        if state == "moderated":
            doc.update(error="content flagged", error_type="content_policy_violation")
        return h.reply(200, doc)

    def result(self, h, m, raw):
        job = self._job(h, m)
        if job is None:
            return None
        if job["state"] not in ("succeeded", "moderated"):
            return h.reply(400, {"detail": "Request is still in progress"})
        if job["state"] == "moderated":
            return h.reply(422, {"detail": [{
                "loc": ["body", "prompt"], "msg": "The content could not be processed because it contained "
                "material flagged by a content checker.", "type": "content_policy_violation",
                "url": "https://docs.fal.ai/errors#content_policy_violation"}]})
        return h.reply(200, {"video": {"url": f"{self.url}/files/{job['id']}.mp4", "content_type": "video/mp4",
                                       "file_name": "output.mp4"}})

    def file(self, h, m, raw):
        """The CDN: public, no key."""
        self.ledger.downloads.append({"path": h.path, "authorization": h.headers.get("Authorization")})
        job = self.jobs.get(m.group(1))
        if self.faults.expire_downloads or job is None:
            return h.reply(404, b"Not Found", ctype="text/plain")
        return h.reply(200, self.video(job), ctype="video/mp4")

    def history(self, h, m, raw):
        """GET /v1/models/requests/by-endpoint: requests that have ended, newest first, with payloads."""
        if not self.authorised(h):
            return None
        if self.faults.history_fails:
            return h.reply(500, {"detail": "history unavailable"})
        endpoint = parse_qs(urlsplit(h.path).query).get("endpoint_id", [""])[0]
        with self.lock:
            ended = [j for j in self.jobs.values() if j["endpoint"] == endpoint and j["ended_at"]]
        items = [{"request_id": j["id"], "endpoint_id": j["endpoint"], "sent_at": j["sent_at"],
                  "ended_at": j["ended_at"], "status_code": 422 if j["state"] == "moderated" else 200,
                  "json_input": j["input"]} for j in sorted(ended, key=lambda j: j["ended_at"], reverse=True)]
        return h.reply(200, {"items": items, "next_cursor": None, "has_more": False})

    def models(self, h, m, raw):
        """GET /v1/models?endpoint_id=..: the model's metadata when fal serves it (free; `storyboard doctor`)."""
        if not self.authorised(h):
            return None
        asked = parse_qs(urlsplit(h.path).query).get("endpoint_id", [])
        served = [e for e in asked if e not in self.faults.retired_models
                  and (self.served_endpoints is None or e in self.served_endpoints)]
        return h.reply(200, {"models": [{"endpoint_id": e, "metadata": {"status": "active"}} for e in served],
                             "next_cursor": None, "has_more": False})

    def finish_all(self) -> None:
        super().finish_all()
        with self.lock:
            for job in self.jobs.values():
                job["ended_at"] = job["ended_at"] or datetime.now(timezone.utc).isoformat()


def _prompt(inp: dict) -> str:
    """A request's prompt; a multi-shot request's shot prompts joined by " | "."""
    return str(inp.get("prompt") or " | ".join(str(x.get("prompt", "")) for x in inp.get("multi_prompt") or []))


def _multi_prompt_problem(inp: dict) -> str | None:
    """What fal's Kling refuses in a multi-shot request: both prompt forms, or shots not adding up."""
    shots = inp.get("multi_prompt")
    if shots is None:
        return None
    if "prompt" in inp:
        return "Either prompt or multi_prompt must be provided, but not both."
    total = sum(float(str(x.get("duration", 0)).rstrip("s")) for x in shots)
    if not shots or abs(total - float(str(inp.get("duration", "5")).rstrip("s"))) > 1e-6:
        return f"multi_prompt durations add up to {total:g}, not the duration {inp.get('duration')}"
    return None
