"""A fake of Vertex AI's Veo endpoints on 127.0.0.1 for the real google-genai SDK (3.x, vertexai=True):
predictLongRunning makes an operation, fetchPredictOperation polls it and answers the video inline
(bytesBase64Encoded), the publisher's model list answers what is served; a token endpoint stands in
for Google's OAuth server, named by the application-default-credentials file the tests write."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.fakes.base import FakeServer

TOKEN = "fake-access-token"
MODELS = ("veo-3.1-generate-001", "veo-3.1-fast-generate-001")


class FakeVertex(FakeServer):
    tone = 550.0
    routes = [("POST", r"/token", "token"),
              ("POST", r"/[\w.]+/projects/([\w-]+)/locations/([\w-]+)/publishers/google/models/([\w.-]+):predictLongRunning", "create"),
              ("POST", r"/[\w.]+/projects/([\w-]+)/locations/([\w-]+)/publishers/google/models/([\w.-]+):fetchPredictOperation", "fetch"),
              ("GET", r"/[\w.]+/publishers/google/models", "models"),
              ("GET", r"/[\w.]+/projects/([\w-]+)/locations/([\w-]+)/publishers/google/models", "models")]

    def adc_file(self, folder: Path) -> Path:
        """Application default credentials whose token comes from this fake (an external_account_authorized_user
        file: google-auth takes its `token_url` as written, where an authorized_user file's is fixed)."""
        path = folder / "adc.json"
        path.write_text(json.dumps({"type": "external_account_authorized_user",
                                    "audience": "//iam.googleapis.com/locations/global/workforcePools/fake/providers/fake",
                                    "client_id": "fake-client", "client_secret": "fake-secret",
                                    "refresh_token": "fake-refresh", "token_url": f"{self.url}/token",
                                    "quota_project_id": "proj"}))
        return path

    def authorised(self, h) -> bool:
        if self.faults.bad_key or h.headers.get("Authorization") != f"Bearer {TOKEN}":
            h.reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                    "message": "Request had invalid authentication credentials."}})
            return False
        return True

    def error(self, h, code: int, status: str, message: str):
        h.reply(code, {"error": {"code": code, "status": status, "message": message}})

    def token(self, h, m, raw):
        if self.faults.bad_key:
            return h.reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        return h.reply(200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def create(self, h, m, raw):
        if not self.authorised(h):
            return None
        body = json.loads(raw or b"{}")
        project, location, model = m.groups()
        inst, params = body["instances"][0], body.get("parameters", {})
        with self.lock:
            nth = self.every_nth()
            fault = self.faults_on_create(model)
            if fault == "quota":
                return self.error(h, 429, "RESOURCE_EXHAUSTED", "Quota exceeded; check your billing account.")
            if fault == "429":
                return self.error(h, 429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later.")
            if fault == "retired" or model not in MODELS:
                return self.error(h, 404, "NOT_FOUND", f"Publisher Model `{model}` is not found.")
            size = "1280x720" if params.get("aspectRatio", "16:9") == "16:9" else "720x1280"
            if params.get("resolution") == "1080p":
                size = "1920x1080" if size == "1280x720" else "1080x1920"
            extends = "video" in inst
            seconds = float(params.get("durationSeconds", 8))
            job = self.new_job(inst.get("prompt", ""), seconds, size, model, extends=extends,
                               image="image" in inst, references=len(inst.get("referenceImages", [])),
                               total=seconds + (8 if extends else 0))
            job["name"] = f"projects/{project}/locations/{location}/publishers/google/models/{model}/operations/{job['id']}"
            after = self.after_create(nth)
        if after == "lost":
            return h.hang_up()
        if after == "500":
            return self.error(h, 500, "INTERNAL", "Internal error encountered.")
        return h.reply(200, {"name": job["name"]})

    def fetch(self, h, m, raw):
        if not self.authorised(h):
            return None
        name = json.loads(raw or b"{}").get("operationName", "")
        with self.lock:
            if self.every_nth():
                return self.error(h, 500, "INTERNAL", "Internal error encountered.")
            job = next((j for j in self.jobs.values() if j.get("name") == name), None)
            if job is None:
                return self.error(h, 404, "NOT_FOUND", "Operation not found.")
            state = self.advance(job)
        if state in ("queued", "running"):
            return h.reply(200, {"name": name, "done": False})
        if state == "moderated":
            job["billed"] = False  # a filtered take is not charged
            resp = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["The take was filtered by Responsible AI."]}
        else:
            data = self.clips.get(job["total"], job["size"]).read_bytes()
            resp = {"videos": [{"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": "video/mp4"}]}
        return h.reply(200, {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse", **resp}})

    def models(self, h, m, raw):
        if not self.authorised(h):
            return None
        served = [x for x in MODELS if x not in self.faults.retired_models]
        return h.reply(200, {"publisherModels": [{"name": f"publishers/google/models/{x}"} for x in served]})
