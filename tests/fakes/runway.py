"""A fake of Runway's API on 127.0.0.1 for the real runwayml SDK: POST /v1/image_to_video and
/v1/text_to_video make a task, GET /v1/tasks/{id} polls it, GET /v1/organization answers the credit
balance and the tier's models; a finished task's output is a signed URL on the same server."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from tests.fakes.base import FakeServer

KEY = "test-key"
MODELS = ("gen4.5", "gen4_turbo", "veo3.1", "veo3.1_fast")


class FakeRunway(FakeServer):
    tone = 770.0
    routes = [("POST", r"/v1/(image_to_video|text_to_video)", "create"),
              ("GET", r"/v1/tasks/([\w-]+)", "task"),
              ("GET", r"/v1/organization", "organization"),
              ("GET", r"/files/([\w-]+)\.mp4", "file")]

    def authorised(self, h) -> bool:
        if self.faults.bad_key or h.headers.get("Authorization") != f"Bearer {KEY}":
            h.reply(401, {"error": "Invalid API secret"})
            return False
        if not h.headers.get("X-Runway-Version"):
            h.reply(400, {"error": "X-Runway-Version header is required"})
            return False
        return True

    def create(self, h, m, raw):
        if not self.authorised(h):
            return None
        body = json.loads(raw or b"{}")
        model = str(body.get("model", ""))
        with self.lock:
            nth = self.every_nth()
            fault = self.faults_on_create(model)
            if fault == "quota":
                return h.reply(400, {"error": "You do not have enough credits to run this task."})
            if fault == "429":
                return h.reply(429, {"error": "Too many requests"}, {"Retry-After": "0.05"})
            if fault == "retired":
                return h.reply(400, {"error": f"Model {model} is not available."})
            if m.group(1) == "image_to_video" and not body.get("promptImage"):
                return h.reply(400, {"error": "promptImage is required"})
            if m.group(1) == "text_to_video" and model == "gen4_turbo":
                return h.reply(400, {"error": "gen4_turbo does not support text to video"})
            size = str(body.get("ratio", "1280:720")).replace(":", "x")
            job = self.new_job(str(body.get("promptText", "")), float(body.get("duration", 5)), size, model,
                               endpoint=m.group(1), image="promptImage" in body, body=body)
            after = self.after_create(nth)
        if after == "lost":
            return h.hang_up()
        if after == "500":
            return h.reply(500, {"error": "Internal server error"})
        return h.reply(200, {"id": job["id"]})

    def task(self, h, m, raw):
        if not self.authorised(h):
            return None
        with self.lock:
            if self.every_nth():
                return h.reply(500, {"error": "Internal server error"})
            job = self.jobs.get(m.group(1))
            if job is None:
                return h.reply(404, {"error": "Task not found"})
            state = self.advance(job)
        doc = {"id": job["id"], "createdAt": datetime.fromtimestamp(job["created_at"], timezone.utc).isoformat()}
        credits = int(job["seconds"] * 12)
        if state == "succeeded":
            doc.update(status="SUCCEEDED", cost={"credits": credits},
                       output=[f"{self.url}/files/{job['id']}.mp4?_jwt=signed"])
        elif state == "moderated":
            job["billed"] = False  # Runway refunds a task its moderation stopped
            doc.update(status="FAILED", cost={"credits": 0}, failure="The prompt was flagged by content moderation.",
                       failureCode="SAFETY.INPUT.TEXT")
        elif state == "queued":
            doc.update(status="PENDING", estimatedCost={"credits": credits})
        else:
            doc.update(status="RUNNING", progress=0.5, estimatedCost={"credits": credits})
        return h.reply(200, doc)

    def organization(self, h, m, raw):
        if not self.authorised(h):
            return None
        served = [x for x in MODELS if x not in self.faults.retired_models]
        return h.reply(200, {"creditBalance": 12345,
                             "tier": {"maxMonthlyCreditSpend": 100000,
                                      "models": {x: {"maxConcurrentGenerations": 2, "maxDailyGenerations": 100}
                                                 for x in served}},
                             "usage": {"models": {}}})

    def file(self, h, m, raw):
        self.ledger.downloads.append({"path": h.path, "authorization": h.headers.get("Authorization")})
        job = self.jobs.get(m.group(1))
        if self.faults.expire_downloads or job is None:
            return h.reply(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                           ctype="application/xml")
        return h.reply(200, self.video(job), ctype="video/mp4")
