"""A fake of the Gemini API's Interactions API on 127.0.0.1 for the real google-genai SDK (3.x): a
background interaction per clip (POST /v1beta/interactions), polled with GET /v1beta/interactions/{id},
answered with the video inline in a model_output step; GET /v1beta/models lists what is served."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone

from tests.fakes.base import FakeServer

KEY = "test-key"
MODELS = ("gemini-omni-1.1-flash", "gemini-omni-flash-preview")


class FakeGemini(FakeServer):
    tone = 880.0
    routes = [("POST", r"/v1(?:beta)?/interactions", "create"),
              ("GET", r"/v1(?:beta)?/interactions/([\w-]+)", "get"),
              ("GET", r"/v1(?:beta)?/models", "models")]

    def authorised(self, h) -> bool:
        if self.faults.bad_key or h.headers.get("x-goog-api-key") != KEY:
            h.reply(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                    "message": "API key not valid. Please pass a valid API key."}})
            return False
        return True

    def error(self, h, code: int, status: str, message: str, headers=None):
        h.reply(code, {"error": {"code": code, "status": status, "message": message}}, headers)

    def doc(self, job: dict, status: str, **more) -> dict:
        return {"id": job["id"], "status": status, "model": job["model"], "object": "interaction",
                "created": datetime.fromtimestamp(job["created_at"], timezone.utc).isoformat(), **more}

    def create(self, h, m, raw):
        if not self.authorised(h):
            return None
        body = json.loads(raw or b"{}")
        model = str(body.get("model", ""))
        parts = []  # the SDK sends content blocks as one user_input step: [{"type": "user_input", "content": [...]}]
        for item in body.get("input") or []:
            if isinstance(item, dict):
                parts += item.get("content", []) if item.get("type") == "user_input" else [item]
        text = next((p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text"), "")
        with self.lock:
            nth = self.every_nth()
            fault = self.faults_on_create(model)
            if fault == "quota":
                return self.error(h, 429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check "
                                                                "your plan and billing details.")
            if fault == "429":
                return self.error(h, 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                                  {"Retry-After": "0.05"})
            if fault == "retired" or model not in MODELS:
                return self.error(h, 404, "NOT_FOUND", f"models/{model} is not found for API version v1beta.")
            seconds = float(re.search(r"shot of (\d+) seconds", text).group(1)) if "seconds" in text else 8.0
            size = "720x1280" if "9:16" in text else "1280x720"
            job = self.new_job(text, seconds, size, model, id=f"int_{next(self.ids):04d}",
                               image=any(p.get("type") == "image" for p in parts if isinstance(p, dict)),
                               task=(body.get("generation_config") or {}).get("video_config", {}).get("task"))
            after = self.after_create(nth)
        if after == "lost":
            return h.hang_up()
        if after == "500":
            return self.error(h, 500, "INTERNAL", "An internal error has occurred.")
        return h.reply(200, self.doc(job, "in_progress"))

    def get(self, h, m, raw):
        if not self.authorised(h):
            return None
        with self.lock:
            if self.every_nth():
                return self.error(h, 500, "INTERNAL", "An internal error has occurred.")
            job = self.jobs.get(m.group(1))
            if job is None:
                return self.error(h, 404, "NOT_FOUND", "Interaction not found.")
            state = self.advance(job)
        if state in ("queued", "running"):
            return h.reply(200, self.doc(job, "in_progress"))
        if state == "moderated":
            job["billed"] = False  # a blocked generation is not billed
            return h.reply(200, self.doc(job, "failed", errors=[{"code": "SAFETY", "message":
                                                                 "The generation was blocked by safety filters."}]))
        data = base64.b64encode(self.video(job)).decode()
        return h.reply(200, self.doc(job, "completed", steps=[
            {"type": "model_output", "content": [{"type": "video", "data": data, "mime_type": "video/mp4"}]}]))

    def models(self, h, m, raw):
        if not self.authorised(h):
            return None
        served = [x for x in MODELS if x not in self.faults.retired_models]
        return h.reply(200, {"models": [{"name": f"models/{x}", "displayName": x,
                                         "supportedGenerationMethods": ["createInteraction"]} for x in served]})
