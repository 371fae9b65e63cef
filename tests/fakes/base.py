"""The one base every fake provider stands on: an HTTP(S) server on 127.0.0.1, a ledger of what the
provider would bill, and the fault knobs the contract suite turns (a 429 storm, a 500 every Nth
request, latency, a reply lost after the job was made, moderation blocks, expired download URLs, a
model no longer served). A fake adds only its routes and its provider's shapes.

A fake's handler calls, in order: `faults_on_create()` (None, or how to answer without making a
job), `new_job(...)`, then `after_create()` (None, or "lost": hang up; "500": answer 500 with the
job made); a poll calls `advance(job)`; a download checks `faults.expire_downloads`."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.media import ClipStore


@dataclass
class Faults:
    rate_limit_creates: int = 0  # a 429 storm: the next N creates answer 429 with Retry-After (nothing made)
    quota: bool = False  # creates answer the provider's quota or billing refusal
    fail_every: int = 0  # every Nth request answers 500; a create among them makes its job first (a lost reply)
    lose_reply_creates: int = 0  # the next N creates make the job, then hang up without a reply
    latency: float = 0.0  # if set: a job completes this many seconds after it was made (polls ignored)
    polls_to_finish: int = 2  # status polls before a job completes
    moderate_prompts: tuple[str, ...] = ()  # jobs whose prompt has one of these words fail (moderation)
    expire_downloads: bool = False  # the finished video's URL answers 404/403 (expired)
    retired_models: tuple[str, ...] = ()  # models the provider no longer serves (creates 404; lists omit them)
    bad_key: bool = False  # every request is refused as unauthorised


@dataclass
class Ledger:
    jobs: list[dict] = field(default_factory=list)  # every job made: what the provider bills
    creates: int = 0  # create requests received, made or not
    calls: int = 0  # every request received (the count `fail_every` counts)
    downloads: list[dict] = field(default_factory=list)  # {"path", "authorization"} of every video fetched
    requests: list[str] = field(default_factory=list)  # "METHOD /path?query" of every request received

    @property
    def seconds_billed(self) -> float:
        return sum(j["seconds"] for j in self.jobs if j.get("billed", True))

    def billed(self, price_per_second: float) -> float:
        return round(self.seconds_billed * price_per_second, 4)

    def per_prompt(self) -> dict[str, int]:
        """Jobs made for each prompt: a request paid twice shows as 2."""
        out: dict[str, int] = {}
        for j in self.jobs:
            out[j["prompt"]] = out.get(j["prompt"], 0) + 1
        return out


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # a loaded machine's bursts of connections wait here instead of being reset


class FakeServer:
    """Serve a fake provider: subclasses define `routes` ([(method, regex, handler name)]) and the
    handlers (`def name(self, h: Handler, match, body) -> None`)."""

    routes: list[tuple[str, str, str]] = []
    tone, fps, rate = 440.0, 24, 48000  # what the provider's clips are made of

    faults_class: type = Faults
    ledger_class: type = Ledger

    def __init__(self, media_dir: Path, tls=None):
        """`tls`: a trustme.CA, for providers whose SDK only speaks https (the certificate is for 127.0.0.1)."""
        import re
        self.faults = self.faults_class()
        self.ledger = self.ledger_class()
        self.clips = ClipStore(media_dir, fps=self.fps, rate=self.rate, tone=self.tone)
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.jobs: dict[str, dict] = {}
        self._routes = [(m, re.compile(rx), getattr(self, name)) for m, rx, name in self.routes]
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.issue_cert("127.0.0.1").configure_cert(ctx)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
            self.scheme = "https"
        # stop() returns within a poll: the default half second, paid by every test's teardown, was 30 s of the suite
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the fault knobs, in one place ----------------------------------------------------------
    def every_nth(self) -> bool:
        """Is this request one of the every-Nth that answer 500? Call under the lock, once per request."""
        self.ledger.calls += 1
        n = self.faults.fail_every
        return bool(n) and self.ledger.calls % n == 0

    def faults_on_create(self, model: str = "") -> str | None:
        """Call under the lock at a create: "429", "quota", "retired", or None (go on and make the job)."""
        f = self.faults
        self.ledger.creates += 1
        if f.quota:
            return "quota"
        if f.rate_limit_creates:
            f.rate_limit_creates -= 1
            return "429"
        if model and model in f.retired_models:
            return "retired"
        return None

    def after_create(self, nth: bool) -> str | None:
        """Call under the lock once the job is made: "lost" (hang up), "500" (answer 500), or None."""
        if self.faults.lose_reply_creates:
            self.faults.lose_reply_creates -= 1
            return "lost"
        return "500" if nth else None

    def new_job(self, prompt: str, seconds: float, size: str, model: str = "", id: str | None = None,
                **extra: Any) -> dict:
        job = {"id": id or f"{next(self.ids):04d}", "prompt": prompt, "seconds": float(seconds), "size": size,
               "model": model, "made": time.monotonic(), "created_at": time.time(), "polls": 0, "state": "queued",
               "billed": True, **extra}
        self.jobs[job["id"]] = job
        self.ledger.jobs.append(job)
        return job

    def advance(self, job: dict) -> str:
        """A poll: queued -> running -> succeeded | moderated, by polls or by latency. Call under the lock."""
        if job["state"] in ("succeeded", "moderated"):
            return job["state"]
        f = self.faults
        if f.latency:
            done = time.monotonic() - job["made"] >= f.latency
        else:
            job["polls"] += 1
            done = job["polls"] >= f.polls_to_finish
        if done:
            job["state"] = "moderated" if any(w in job["prompt"] for w in f.moderate_prompts) else "succeeded"
        else:
            job["state"] = "running"
        return job["state"]

    def finish_all(self) -> None:
        with self.lock:
            for job in self.jobs.values():
                if job["state"] not in ("succeeded", "moderated"):
                    job["polls"] = 10 ** 6
                    self.advance(job)

    def video(self, job: dict) -> bytes:
        return self.clips.get(job["seconds"], job["size"]).read_bytes()

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # a reply's headers and body leave as two small writes: with Nagle's algorithm the body waited for
            # the client's delayed ACK, 40 ms a request (44 ms against 0.9 over TLS); providers' servers send at once
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def setup(self):
                if fake.scheme == "https":
                    self.request.do_handshake()  # in this request's thread, not the accepting one
                super().setup()

            def reply(self, status: int, body, headers: dict | None = None, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def hang_up(self):
                self.close_connection = True
                self.connection.shutdown(2)

            def _dispatch(self, method: str):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                fake.ledger.requests.append(f"{method} {self.path}")
                path = self.path.split("?")[0]
                for m, rx, fn in fake._routes:
                    match = rx.fullmatch(path)
                    if m == method and match:
                        return fn(self, match, raw)
                return self.reply(404, {"error": {"code": 404, "message": f"no route {method} {path}"}})

            def do_GET(self):
                self._dispatch("GET")

            def do_POST(self):
                self._dispatch("POST")

            def do_DELETE(self):
                self._dispatch("DELETE")

        return Handler
