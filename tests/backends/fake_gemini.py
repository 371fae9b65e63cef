"""A fake of the Gemini API's Veo endpoints on 127.0.0.1, for driving the real google-genai SDK:
predictLongRunning, operations, and file downloads, with a ledger of operations started."""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.media import ClipStore


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # a loaded machine's bursts of connections wait here instead of being reset


@dataclass
class Behaviour:
    polls_to_finish: int = 2
    filter_prompts: tuple[str, ...] = ()  # takes filtered by safety (no video, not charged)
    rate_limit_creates: int = 0  # 429 RESOURCE_EXHAUSTED, nothing made
    quota: bool = False  # 429 with a billing message
    invalid: bool = False  # 400 INVALID_ARGUMENT
    lose_reply_creates: int = 0  # the next N creates start the operation, then answer 500 (a lost reply)


@dataclass
class Ledger:
    operations: list[dict] = field(default_factory=list)
    creates: int = 0

    @property
    def seconds_billed(self) -> float:
        return sum(o["seconds"] for o in self.operations if not o["filtered"])


class FakeGemini:
    def __init__(self, media_dir: Path):
        self.behaviour = Behaviour()
        self.ledger = Ledger()
        self.clips = ClipStore(media_dir, fps=24, rate=48000, tone=550.0)  # what a provider would return
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.ops: dict[str, dict] = {}
        self.files: dict[str, Path] = {}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clip(self, seconds: float, size: str) -> Path:
        return self.clips.get(seconds, size)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status: int, body, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def error(self, code: int, status: str, message: str):
                self.reply(code, {"error": {"code": code, "status": status, "message": message}})

            def authorised(self) -> bool:
                if self.headers.get("x-goog-api-key") != "test-key":
                    self.error(403, "PERMISSION_DENIED", "API key not valid.")
                    return False
                return True

            def do_POST(self):
                if not self.authorised():
                    return
                m = re.fullmatch(r"/v1beta/models/([\w.-]+):predictLongRunning", self.path)
                if not m:
                    return self.error(404, "NOT_FOUND", f"no route {self.path}")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                b = fake.behaviour
                with fake.lock:
                    fake.ledger.creates += 1
                    if b.quota:
                        return self.error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check "
                                                                     "your plan and billing details.")
                    if b.rate_limit_creates:
                        b.rate_limit_creates -= 1
                        return self.error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
                    if b.invalid:
                        return self.error(400, "INVALID_ARGUMENT", "durationSeconds must be 4, 6 or 8.")
                    inst = body["instances"][0]
                    params = body.get("parameters", {})
                    oid = f"op{next(fake.ids):04d}"
                    name = f"models/{m.group(1)}/operations/{oid}"
                    op = {"name": name, "model": m.group(1), "prompt": inst.get("prompt", ""), "params": params,
                          "image": "image" in inst, "references": len(inst.get("referenceImages", [])),
                          "extends": "video" in inst, "seconds": float(params.get("durationSeconds", 8)),
                          "polls": 0, "filtered": any(w in inst.get("prompt", "") for w in b.filter_prompts)}
                    fake.ops[name] = op
                    fake.ledger.operations.append(op)
                    if b.lose_reply_creates:
                        b.lose_reply_creates -= 1
                        return self.error(500, "INTERNAL", "An internal error has occurred.")
                return self.reply(200, {"name": name})

            def do_GET(self):
                if not self.authorised():
                    return
                path = self.path.split("?")[0]
                m = re.fullmatch(r"/v1beta/files/([a-z0-9]+):download", path)
                if m:
                    f = fake.files.get(m.group(1))
                    return self.reply(200, f.read_bytes(), "video/mp4") if f else self.error(404, "NOT_FOUND", "no file")
                name = path.removeprefix("/v1beta/")
                op = fake.ops.get(name)
                if op is None:
                    return self.error(404, "NOT_FOUND", "operation not found")
                with fake.lock:
                    op["polls"] += 1
                    if op["polls"] < fake.behaviour.polls_to_finish:
                        return self.reply(200, {"name": name, "done": False})
                    if op["filtered"]:
                        resp = {"raiMediaFilteredCount": 1,
                                "raiMediaFilteredReasons": ["The take was filtered by our safety systems."]}
                    else:
                        fid = f"f{op['name'].rsplit('op', 1)[1]}"
                        params = op["params"]
                        size = "1280x720" if params.get("aspectRatio", "16:9") == "16:9" else "720x1280"
                        if params.get("resolution") == "1080p":
                            size = "1920x1080" if size == "1280x720" else "1080x1920"
                        total = op["seconds"] + (8 if op["extends"] else 0)
                        fake.files[fid] = fake.clip(total, size)
                        uri = f"https://generativelanguage.googleapis.com/v1beta/files/{fid}:download?alt=media"
                        resp = {"generatedSamples": [{"video": {"uri": uri}}]}
                    return self.reply(200, {"name": name, "done": True, "response": {
                        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                        "generateVideoResponse": resp}})

        return Handler
