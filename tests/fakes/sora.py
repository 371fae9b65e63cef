"""A fake of the Sora 2 Videos API on 127.0.0.1, for driving the real openai SDK, on the shared fake base.

Jobs progress queued -> in_progress -> completed over a few polls (or a fixed latency), and their
content is a real small MP4 of the asked length and size. Misbehaviour is switched on per test
(`faults`); the ledger counts what a real provider would have billed."""

from __future__ import annotations

import contextlib

import email.parser
import email.policy
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.base import Faults, FakeServer, Ledger

KEY = "test-key"


@dataclass
class SoraFaults(Faults):
    fail_5xx_creates: int = 0  # the next N creates answer 500 and make nothing
    faults_on: str = ""  # the create faults hit only this route ("/v1/videos" or "/v1/videos/extensions")
    create_delay: float = 0.0  # seconds a create takes before its job exists (and the list shows it)
    reject_prompts: tuple[str, ...] = ()  # creates refused at once (400 moderation_blocked)
    list_fails: bool = False  # GET /videos answers 500
    download_seconds: float = 0.0  # a content download takes this long (half sent, a pause, the rest)
    report_model: str = ""  # the model the provider reports (e.g. a dated snapshot)
    # jobs whose prompt holds a key are clips of its stills, in turn (the nth such job: the nth still, cycling):
    # a face photo (on-model or another person) or a picture with no face, for the identity check
    stills: dict[str, list[Path]] = field(default_factory=dict)


@dataclass
class SoraLedger(Ledger):
    characters: list[dict] = field(default_factory=list)
    downloading: list[str] = field(default_factory=list)  # content paths whose slow download has begun

    @property
    def seconds_billed(self) -> float:
        return sum(float(j["added_seconds"]) for j in self.jobs)


class FakeSora(FakeServer):
    tone, fps, rate = 330.0, 30, 44100
    faults_class = SoraFaults
    ledger_class = SoraLedger
    routes = [("POST", r"/v1/videos/characters", "character"),
              ("POST", r"/v1/videos(/extensions)?", "create"),
              ("GET", r"/v1/videos", "listing"),
              ("GET", r"/v1/videos/([\w-]+)", "retrieve"),
              ("GET", r"/v1/videos/([\w-]+)/content", "content"),
              ("GET", r"/v1/models", "models")]

    def __init__(self, media_dir, tls=None):
        super().__init__(media_dir, tls)
        self.served: dict[str, str] = {}  # sha256 of content served -> the job it belongs to

    @property
    def behaviour(self) -> SoraFaults:  # the name the older tests use
        return self.faults

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> "FakeSora":
        return self

    def clip(self, seconds: float, size: str, still: Path | None = None):
        return self.clips.from_still(still, seconds, size) if still else self.clips.get(seconds, size)

    # -- HTTP helpers ----------------------------------------------------------------------------
    def authorised(self, h) -> bool:
        if self.faults.bad_key or h.headers.get("Authorization") != f"Bearer {KEY}":
            self.error(h, 401, "invalid_api_key", "Incorrect API key provided")
            return False
        return True

    @staticmethod
    def error(h, status: int, code: str, message: str, param: str | None = None, headers=None):
        h.reply(status, {"error": {"code": code, "message": message, "param": param,
                                   "type": "invalid_request_error"}}, headers)

    @staticmethod
    def form(h, raw: bytes) -> dict:
        ctype = h.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return json.loads(raw or b"{}")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
        out: dict = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            # a text field is UTF-8, as the SDK (httpx) sends it and the real API reads it; the email
            # parser's get_content() would read it as ASCII and turn "Inès" into "In\ufffd\ufffds"
            out[name] = data.decode("utf-8") if part.get_filename() is None else data
        return out

    def public(self, job: dict) -> dict:
        return {"id": job["id"], "object": "video", "created_at": int(job["created_at"]),
                "completed_at": job.get("completed_at"), "error": job.get("error"), "expires_at": job.get("expires_at"),
                "model": job["model"], "progress": job.get("progress", 0), "prompt": job["prompt"],
                "remixed_from_video_id": job["remixed_from_video_id"], "seconds": f"{job['total']:g}",
                "size": job["size"], "status": job["status"]}

    def _new(self, prompt: str, model: str, seconds: float, size: str, extends: str | None = None, **extra) -> dict:
        total = seconds + (self.jobs[extends]["total"] if extends else 0)
        vid = f"video_{next(self.ids):04d}"
        job = self.new_job(prompt, seconds, size, self.faults.report_model or model, id=vid, added_seconds=seconds,
                           total=total, remixed_from_video_id=extends, status="queued", **extra)
        for word, stills in self.faults.stills.items():
            if word in prompt and stills:
                n = sum(1 for j in self.ledger.jobs if j.get("_still_word") == word)
                job.update(_still=stills[n % len(stills)], _still_word=word)
                break
        return job

    def _advance(self, job: dict) -> None:
        if job["status"] in ("completed", "failed"):
            return
        state = self.advance(job)
        f = self.faults
        if state == "moderated":
            job.update(status="failed", error={"code": "moderation_blocked",
                                               "message": "Your request was blocked by our moderation system."})
        elif state == "succeeded":
            job.update(status="completed", progress=100, completed_at=int(time.time()),
                       expires_at=int(time.time()) + 3600)
        else:
            frac = (min(0.99, (time.monotonic() - job["made"]) / f.latency) if f.latency
                    else job["polls"] / max(1, f.polls_to_finish))
            job.update(status="in_progress", progress=int(frac * 100))

    # -- routes ----------------------------------------------------------------------------------
    def character(self, h, m, raw):
        if not self.authorised(h):
            return None
        f = self.form(h, raw)
        with self.lock:
            char = {"id": f"char_{next(self.ids):04d}", "name": f.get("name"), "created_at": int(time.time())}
            self.ledger.characters.append(char)
        return h.reply(200, char)

    def create(self, h, m, raw):
        if not self.authorised(h):
            return None
        path = h.path.split("?")[0]
        f = self.form(h, raw)
        b = self.faults
        faulty = b.faults_on in ("", path)
        time.sleep(b.create_delay)
        with self.lock:
            nth = self.every_nth()
            fault = self.faults_on_create(str(f.get("model", "")))
            if fault == "quota":
                return self.error(h, 429, "insufficient_quota", "You exceeded your current quota.")
            if fault == "429":
                return self.error(h, 429, "rate_limit_exceeded", "Slow down", headers={"Retry-After": "0.05"})
            if fault == "retired":
                return self.error(h, 404, "model_not_found", f"The model {f.get('model')} does not exist.", "model")
            if b.fail_5xx_creates and faulty:
                b.fail_5xx_creates -= 1
                return self.error(h, 500, "server_error", "The server had an error")
            prompt = str(f.get("prompt", ""))
            if any(w in prompt for w in b.reject_prompts):
                return self.error(h, 400, "moderation_blocked", "Your prompt was blocked by moderation.", "prompt")
            if m.group(1):
                video = f.get("video")
                src = self.served.get(hashlib.sha256(video).hexdigest()) if isinstance(video, bytes) else None
                if src not in self.jobs or self.jobs[src]["status"] != "completed":
                    return self.error(h, 400, "invalid_video", "the video to extend is not completed", "video")
                base = self.jobs[src]
                job = self._new(prompt, base["model"], float(f.get("seconds", 4)), base["size"], extends=src)
            else:
                chars = [v for k, v in f.items() if k.startswith("characters")]
                job = self._new(prompt, str(f.get("model", "sora-2")), float(f.get("seconds", 4)),
                                str(f.get("size", "720x1280")), _reference="input_reference" in f, _characters=chars)
            after = self.after_create(nth) if faulty else ("500" if nth else None)
        if after == "lost":
            return h.hang_up()
        if after == "500":
            return self.error(h, 500, "server_error", "The server had an error")
        return h.reply(200, self.public(job))

    def _nth(self, h) -> bool:
        with self.lock:
            if self.every_nth():
                self.error(h, 500, "server_error", "The server had an error", headers={"retry-after-ms": "5"})
                return True
        return False

    def listing(self, h, m, raw):
        if not self.authorised(h) or self._nth(h):
            return None
        if self.faults.list_fails:
            return self.error(h, 500, "server_error", "list unavailable")
        with self.lock:
            data = sorted(self.jobs.values(), key=lambda j: j["id"], reverse=True)[:50]
            return h.reply(200, {"object": "list", "data": [self.public(j) for j in data],
                                 "has_more": False, "last_id": data[-1]["id"] if data else None})

    def retrieve(self, h, m, raw):
        if not self.authorised(h) or self._nth(h):
            return None
        job = self.jobs.get(m.group(1))
        if job is None:
            return self.error(h, 404, "not_found", "No video found")
        with self.lock:
            self._advance(job)
            return h.reply(200, self.public(job))

    def content(self, h, m, raw):
        if not self.authorised(h) or self._nth(h):
            return None
        job = self.jobs.get(m.group(1))
        if job is None:
            return self.error(h, 404, "not_found", "No video found")
        self.ledger.downloads.append({"path": h.path, "authorization": "Bearer ***"})
        if self.faults.expire_downloads:
            return self.error(h, 404, "not_found", "The video content has expired")
        if job["status"] != "completed":
            return self.error(h, 400, "not_ready", "Video is not ready")
        if "variant=thumbnail" in h.path:
            return h.reply(200, b"RIFF\x00\x00\x00\x00WEBPVP8 ", ctype="image/webp")
        data = self.clip(job["total"], job["size"], job.get("_still")).read_bytes()
        self.served[hashlib.sha256(data).hexdigest()] = job["id"]
        if self.faults.download_seconds:
            return self._slow_reply(h, data, self.faults.download_seconds)
        return h.reply(200, data, ctype="video/mp4")

    def _slow_reply(self, h, data: bytes, seconds: float) -> None:
        """Half the clip, a pause (a machine can be killed mid-download), then the rest."""
        h.send_response(200)
        h.send_header("Content-Type", "video/mp4")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        self.ledger.downloading.append(h.path)
        h.wfile.write(data[: len(data) // 2])
        h.wfile.flush()
        time.sleep(seconds)
        with contextlib.suppress(OSError):  # the downloader may have been killed meanwhile
            h.wfile.write(data[len(data) // 2:])

    def models(self, h, m, raw):
        """GET /v1/models: the models the key may use (free; `storyboard doctor`)."""
        if not self.authorised(h):
            return None
        served = [x for x in ("sora-2", "sora-2-pro") if x not in self.faults.retired_models]
        return h.reply(200, {"object": "list", "data": [{"id": x, "object": "model", "created": 0,
                                                         "owned_by": "system"} for x in served]})
