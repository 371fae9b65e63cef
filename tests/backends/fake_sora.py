"""A fake of the Sora 2 Videos API on 127.0.0.1, for driving the real openai SDK in tests.

Jobs progress queued -> in_progress -> completed over a few polls (or a fixed latency), and their
content is a real small MP4 of the asked length and size. Misbehaviour is switched on per test;
the ledger counts what a real provider would have billed."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.media import ClipStore


@dataclass
class Behaviour:
    rate_limit_creates: int = 0  # the next N creates get 429 with Retry-After
    lose_reply_creates: int = 0  # the next N creates make the job, then answer 500 (a lost reply on a job that exists)
    drop_connection_creates: int = 0  # the next N creates make the job, then hang up without a reply
    fail_5xx_creates: int = 0  # the next N creates answer 500 and make nothing
    faults_on: str = ""  # the create faults above hit only this route ("/v1/videos" or "/v1/videos/extensions")
    fail_every: int = 0  # every Nth request answers 500; a create among them makes its job first (lost reply)
    create_delay: float = 0.0  # seconds a create takes before its job exists (and the list shows it)
    quota: bool = False  # creates answer 429 insufficient_quota
    moderate_prompts: tuple[str, ...] = ()  # jobs whose prompt has one of these words fail with moderation_blocked
    reject_prompts: tuple[str, ...] = ()  # creates refused at once (400 moderation_blocked)
    expire_downloads: bool = False  # content answers 404 (links expired)
    polls_to_finish: int = 2  # retrieves before a job completes
    latency: float = 0.0  # if set: a job completes this many seconds after creation (polls ignored)
    download_seconds: float = 0.0  # a content download takes this long (half sent, a pause, the rest)
    list_fails: bool = False  # GET /videos answers 500
    report_model: str = ""  # the model the provider reports (e.g. a dated snapshot)


@dataclass
class Ledger:
    jobs: list[dict] = field(default_factory=list)  # every job made (billed)
    characters: list[dict] = field(default_factory=list)
    creates: int = 0  # create requests received
    requests: list[str] = field(default_factory=list)

    @property
    def seconds_billed(self) -> float:
        return sum(float(j["added_seconds"]) for j in self.jobs)

    def billed(self, price_per_second: float) -> float:
        """Dollars a provider charging `price_per_second` took for the jobs made."""
        return round(self.seconds_billed * price_per_second, 4)


class FakeSora:
    def __init__(self, media_dir: Path):
        self.behaviour = Behaviour()
        self.ledger = Ledger()
        self.clips = ClipStore(media_dir, fps=30, rate=44100, tone=330.0)  # what a provider would return
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.videos: dict[str, dict] = {}
        self.served: dict[str, str] = {}  # sha256 of content served -> the job it belongs to
        self.polls: dict[str, int] = {}
        self.requests_seen = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> "FakeSora":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- media ---------------------------------------------------------------------------------
    def clip(self, seconds: float, size: str) -> Path:
        return self.clips.get(seconds, size)

    # -- state -----------------------------------------------------------------------------------
    def _new_job(self, prompt: str, model: str, seconds: float, size: str, extends: str | None = None,
                 has_reference: bool = False, characters: list | None = None) -> dict:
        vid = f"video_{next(self.ids):04d}"
        total = seconds + (float(self.videos[extends]["seconds"]) if extends else 0)
        job = {"id": vid, "object": "video", "created_at": int(time.time()), "completed_at": None, "error": None,
               "expires_at": None, "model": self.behaviour.report_model or model, "progress": 0, "prompt": prompt,
               "remixed_from_video_id": extends, "seconds": f"{total:g}", "size": size, "status": "queued",
               "_made": time.monotonic(), "_reference": has_reference, "_characters": characters or [],
               "added_seconds": seconds}
        self.videos[vid] = job
        self.ledger.jobs.append(job)
        return job

    def _advance(self, job: dict) -> None:
        b = self.behaviour
        if job["status"] in ("completed", "failed"):
            return
        if b.latency:
            done = time.monotonic() - job["_made"] >= b.latency
            frac = min(0.99, (time.monotonic() - job["_made"]) / b.latency)
        else:
            n = self.polls[job["id"]] = self.polls.get(job["id"], 0) + 1
            done = n >= b.polls_to_finish
            frac = n / max(1, b.polls_to_finish)
        if done:
            if any(w in job["prompt"] for w in b.moderate_prompts):
                job.update(status="failed", error={"code": "moderation_blocked",
                                                   "message": "Your request was blocked by our moderation system."})
            else:
                job.update(status="completed", progress=100, completed_at=int(time.time()),
                           expires_at=int(time.time()) + 3600)
        else:
            job.update(status="in_progress", progress=int(frac * 100))

    def _every_nth(self) -> bool:
        """Is this request one of the every-Nth that fail (`fail_every`)? Called under the lock."""
        self.requests_seen += 1
        n = self.behaviour.fail_every
        return bool(n) and self.requests_seen % n == 0

    @staticmethod
    def public(job: dict) -> dict:
        return {k: v for k, v in job.items() if not k.startswith("_") and k != "added_seconds"}

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def reply(self, status: int, body: dict | bytes, headers: dict | None = None, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def slow_reply(self, data: bytes, seconds: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                fake.ledger.requests.append(f"DOWNLOADING {self.path}")
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                time.sleep(seconds)
                with contextlib.suppress(OSError):  # the downloader may have been killed meanwhile
                    self.wfile.write(data[len(data) // 2:])

            def error(self, status: int, code: str, message: str, param: str | None = None, headers=None):
                self.reply(status, {"error": {"code": code, "message": message, "param": param,
                                              "type": "invalid_request_error"}}, headers)

            def form(self) -> dict:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("application/json"):
                    return json.loads(raw or b"{}")
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
                out: dict = {}
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    out[name] = part.get_content() if part.get_filename() is None else part.get_payload(decode=True)
                return out

            def do_POST(self):
                fake.ledger.requests.append(f"POST {self.path}")
                if self.headers.get("Authorization") != "Bearer test-key":
                    return self.error(401, "invalid_api_key", "Incorrect API key provided")
                if self.path == "/v1/videos/characters":
                    f = self.form()
                    with fake.lock:
                        char = {"id": f"char_{next(fake.ids):04d}", "name": f.get("name"), "created_at": int(time.time())}
                        fake.ledger.characters.append(char)
                    return self.reply(200, char)
                if self.path not in ("/v1/videos", "/v1/videos/extensions"):
                    return self.error(404, "not_found", "no such route")
                f = self.form()
                b = fake.behaviour
                faulty = b.faults_on in ("", self.path)
                time.sleep(b.create_delay)
                with fake.lock:
                    fake.ledger.creates += 1
                    lost = fake._every_nth()
                    if b.quota:
                        return self.error(429, "insufficient_quota", "You exceeded your current quota.")
                    if b.rate_limit_creates:
                        b.rate_limit_creates -= 1
                        return self.error(429, "rate_limit_exceeded", "Slow down", headers={"Retry-After": "0.05"})
                    if b.fail_5xx_creates and faulty:
                        b.fail_5xx_creates -= 1
                        return self.error(500, "server_error", "The server had an error")
                    prompt = str(f.get("prompt", ""))
                    if any(w in prompt for w in b.reject_prompts):
                        return self.error(400, "moderation_blocked", "Your prompt was blocked by moderation.", "prompt")
                    if self.path.endswith("/extensions"):
                        video = f.get("video")
                        src = fake.served.get(hashlib.sha256(video).hexdigest()) if isinstance(video, bytes) else None
                        if src not in fake.videos or fake.videos[src]["status"] != "completed":
                            return self.error(400, "invalid_video", "the video to extend is not completed", "video")
                        base = fake.videos[src]
                        job = fake._new_job(prompt, base["model"], float(f.get("seconds", 4)), base["size"], extends=src)
                    else:
                        chars = [v for k, v in f.items() if k.startswith("characters")]
                        job = fake._new_job(prompt, str(f.get("model", "sora-2")), float(f.get("seconds", 4)),
                                            str(f.get("size", "720x1280")), has_reference="input_reference" in f,
                                            characters=chars)
                    if lost:
                        return self.error(500, "server_error", "The server had an error")
                    if b.lose_reply_creates and faulty:
                        b.lose_reply_creates -= 1
                        return self.error(500, "server_error", "The server had an error")
                    if b.drop_connection_creates and faulty:
                        b.drop_connection_creates -= 1
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return None
                    return self.reply(200, fake.public(job))

            def do_GET(self):
                fake.ledger.requests.append(f"GET {self.path}")
                if self.headers.get("Authorization") != "Bearer test-key":
                    return self.error(401, "invalid_api_key", "Incorrect API key provided")
                path, _, query = self.path.partition("?")
                with fake.lock:
                    if fake._every_nth():
                        return self.error(500, "server_error", "The server had an error", headers={"retry-after-ms": "5"})
                if path == "/v1/videos":
                    if fake.behaviour.list_fails:
                        return self.error(500, "server_error", "list unavailable")
                    with fake.lock:
                        data = sorted(fake.videos.values(), key=lambda j: j["id"], reverse=True)[:50]
                        return self.reply(200, {"object": "list", "data": [fake.public(j) for j in data],
                                                "has_more": False, "last_id": data[-1]["id"] if data else None})
                m = re.fullmatch(r"/v1/videos/([\w-]+)(/content)?", path)
                if not m or m.group(1) not in fake.videos:
                    return self.error(404, "not_found", "No video found")
                job = fake.videos[m.group(1)]
                if m.group(2):
                    if fake.behaviour.expire_downloads:
                        return self.error(404, "not_found", "The video content has expired")
                    if job["status"] != "completed":
                        return self.error(400, "not_ready", "Video is not ready")
                    if "variant=thumbnail" in query:
                        return self.reply(200, b"RIFF\x00\x00\x00\x00WEBPVP8 ", ctype="image/webp")
                    data = fake.clip(float(job["seconds"]), job["size"]).read_bytes()
                    fake.served[hashlib.sha256(data).hexdigest()] = job["id"]
                    if fake.behaviour.download_seconds:
                        return self.slow_reply(data, fake.behaviour.download_seconds)
                    return self.reply(200, data, ctype="video/mp4")
                with fake.lock:
                    fake._advance(job)
                    return self.reply(200, fake.public(job))

        return Handler
