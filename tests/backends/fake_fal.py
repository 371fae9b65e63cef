"""A fake of fal's queue and request history on 127.0.0.1 over TLS, for driving the real fal-client SDK.

fal-client builds https:// URLs from FAL_QUEUE_RUN_HOST, so the fake serves TLS with a certificate
from a throwaway CA (trustme), trusted through SSL_CERT_FILE (read by the SDK's httpx). Requests go
IN_QUEUE -> IN_PROGRESS -> COMPLETED over a few status polls (or after a latency); a finished one is
a real small MP4 of the asked length at a public /files/ URL. The ledger keeps every submit."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.media import ClipStore

KEY = "test-key"
SIZES = {("720p", "16:9"): "1280x720", ("720p", "9:16"): "720x1280", ("1080p", "16:9"): "1920x1080",
         ("1080p", "9:16"): "1080x1920"}


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # a loaded machine's bursts of connections wait here instead of being reset


@dataclass
class Behaviour:
    polls_to_finish: int = 2  # status polls before a request completes
    latency: float = 0.0  # if set: a request completes this many seconds after it was queued (polls ignored)
    rate_limit_submits: int = 0  # the next N submits answer 429 with Retry-After (nothing queued)
    lose_reply_submits: int = 0  # the next N submits queue the request, then hang up without a reply
    quota: bool = False  # submits answer 403 "User is locked. Reason: Exhausted balance"
    filter_prompts: tuple[str, ...] = ()  # requests whose prompt has one of these words end in content_policy_violation
    history_fails: bool = False  # the request history answers 500


@dataclass
class Ledger:
    submits: list[dict] = field(default_factory=list)  # every request fal queued (and would bill)
    posts: int = 0  # submit POSTs received, queued or not
    downloads: list[dict] = field(default_factory=list)  # {"path", "authorization"} of every file fetched

    def prompts(self) -> list[str]:
        return [_prompt(r["input"]) for r in self.submits]


def _prompt(inp: dict) -> str:
    """A request's prompt; a multi-shot request's shot prompts joined by " | "."""
    return inp.get("prompt") or " | ".join(str(x.get("prompt", "")) for x in inp.get("multi_prompt") or [])


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


def _image_size(data_uri: str) -> str:
    from PIL import Image
    raw = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as im:
        return f"{im.width}x{im.height}"


class FakeFal:
    def __init__(self, media_dir: Path, tls):
        """`tls`: a trustme.CA; the server's certificate is issued by it for 127.0.0.1."""
        self.behaviour = Behaviour()
        self.ledger = Ledger()
        self.clips = ClipStore(media_dir, fps=24, rate=48000, tone=660.0)
        self.lock = threading.Lock()
        self.requests: dict[str, dict] = {}
        self.files: dict[str, tuple[float, str]] = {}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.issue_cert("127.0.0.1").configure_cert(ctx)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- state ---------------------------------------------------------------------------------
    def _state(self, r: dict) -> str:
        b = self.behaviour
        if r["done"]:
            return "COMPLETED"
        if b.latency:
            done = time.monotonic() - r["made"] >= b.latency
        else:
            r["polls"] += 1
            done = r["polls"] >= b.polls_to_finish
        if done:
            r["done"] = True
            r["ended_at"] = datetime.now(timezone.utc).isoformat()
            return "COMPLETED"
        return "IN_PROGRESS" if r["polls"] or b.latency else "IN_QUEUE"

    def _output_size(self, r: dict) -> str:
        inp = r["input"]
        for v in inp.values():
            if isinstance(v, str) and v.startswith("data:image"):
                return _image_size(v)  # image to video: the frame sets the shape
        return SIZES.get((inp.get("resolution", "720p"), inp.get("aspect_ratio", "16:9")), "1280x720")

    @staticmethod
    def _seconds(inp: dict) -> float:
        return float(str(inp.get("duration", "5")).rstrip("s"))

    def _filtered(self, r: dict) -> bool:
        return any(w in _prompt(r["input"]) for w in self.behaviour.filter_prompts)

    # -- HTTP ----------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
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

            def authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Key {KEY}":
                    self.reply(401, {"detail": "Unauthorized"})
                    return False
                return True

            def urls(self, app: str, rid: str) -> dict:
                base = f"https://{fake.host}/{app}/requests/{rid}"
                return {"request_id": rid, "response_url": base, "status_url": base + "/status",
                        "cancel_url": base + "/cancel", "queue_position": 0}

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.authorised():
                    return
                endpoint = self.path.split("?")[0].strip("/")
                b = fake.behaviour
                with fake.lock:
                    fake.ledger.posts += 1
                    if b.quota:
                        return self.reply(403, {"detail": "User is locked. Reason: Exhausted balance. Top up your "
                                                          "balance at fal.ai/dashboard/billing."})
                    if b.rate_limit_submits:
                        b.rate_limit_submits -= 1
                        return self.reply(429, {"detail": "Too many requests"}, {"Retry-After": "0.05"})
                    problem = _multi_prompt_problem(json.loads(body or b"{}"))
                    if problem:
                        return self.reply(422, {"detail": [{"loc": ["body", "multi_prompt"], "msg": problem,
                                                            "type": "value_error"}]})
                    rid = str(uuid.uuid4())
                    app = "/".join(endpoint.split("/")[:2])  # status and result live under owner/alias
                    r = {"id": rid, "endpoint": endpoint, "app": app, "input": json.loads(body or b"{}"),
                         "made": time.monotonic(), "sent_at": datetime.now(timezone.utc).isoformat(),
                         "polls": 0, "done": False, "ended_at": None}
                    fake.requests[rid] = r
                    fake.ledger.submits.append(r)
                    if b.lose_reply_submits:
                        b.lose_reply_submits -= 1
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return None
                return self.reply(200, self.urls(app, rid))

            def do_GET(self):
                parts = urlsplit(self.path)
                path = parts.path
                m = re.fullmatch(r"/files/([\w-]+)\.mp4", path)
                if m:  # the CDN: public, no key
                    fake.ledger.downloads.append({"path": path, "authorization": self.headers.get("Authorization")})
                    seconds, size = fake.files[m.group(1)]
                    return self.reply(200, fake.clips.get(seconds, size).read_bytes(), ctype="video/mp4")
                if not self.authorised():
                    return
                if path == "/v1/models/requests/by-endpoint":
                    return self.history(parse_qs(parts.query))
                m = re.fullmatch(r"/([\w.-]+/[\w.-]+)/requests/([\w-]+)(/status)?", path)
                r = fake.requests.get(m.group(2)) if m else None
                if r is None or r["app"] != m.group(1):
                    return self.reply(404, {"detail": "Request not found"})
                with fake.lock:
                    state = fake._state(r) if m.group(3) else ("COMPLETED" if r["done"] else "IN_PROGRESS")
                if m.group(3):
                    doc = {"status": state, **self.urls(r["app"], r["id"]), "logs": None}
                    if state == "IN_QUEUE":
                        doc["queue_position"] = 0
                    if state == "COMPLETED" and fake._filtered(r):
                        doc.update(error="content flagged", error_type="content_policy_violation")
                    return self.reply(200, doc)
                if state != "COMPLETED":
                    return self.reply(400, {"detail": "Request is still in progress"})
                if fake._filtered(r):
                    return self.reply(422, {"detail": [{
                        "loc": ["body", "prompt"], "msg": "The content could not be processed because it contained "
                        "material flagged by a content checker.", "type": "content_policy_violation",
                        "url": "https://docs.fal.ai/errors#content_policy_violation"}]})
                fake.files[r["id"]] = (fake._seconds(r["input"]), fake._output_size(r))
                return self.reply(200, {"video": {"url": f"https://{fake.host}/files/{r['id']}.mp4",
                                                  "content_type": "video/mp4", "file_name": "output.mp4"}})

            def history(self, query: dict):
                """GET /v1/models/requests/by-endpoint: requests that have ended, newest first, with payloads."""
                if fake.behaviour.history_fails:
                    return self.reply(500, {"detail": "history unavailable"})
                endpoint = query.get("endpoint_id", [""])[0]
                with fake.lock:
                    ended = [r for r in fake.requests.values() if r["endpoint"] == endpoint and r["done"]]
                items = [{"request_id": r["id"], "endpoint_id": r["endpoint"], "sent_at": r["sent_at"],
                          "ended_at": r["ended_at"], "status_code": 422 if fake._filtered(r) else 200,
                          "json_input": r["input"]} for r in sorted(ended, key=lambda r: r["ended_at"], reverse=True)]
                return self.reply(200, {"items": items, "next_cursor": None, "has_more": False})

        return Handler


def finish_all(fake: FakeFal) -> None:
    """Let every queued request end (as time would), so the history lists it."""
    with fake.lock:
        for r in fake.requests.values():
            if not r["done"]:
                r["done"], r["ended_at"] = True, datetime.now(timezone.utc).isoformat()

