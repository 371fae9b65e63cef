"""Render what is not cached: shots in dependency order, independent ones in parallel, each
verified before it enters the cache, failures recorded apart, spend bounded."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from storyboard.backends.base import Backend, RenderRequest, RenderResult
from storyboard.budget import Budget
from storyboard.cache import Cache, Entry
from storyboard.errors import (AmbiguousSubmission, BudgetExceeded, MediaError, QuotaError, RetriesExhausted,
                               ShotBlocked, StoryboardError)
from storyboard.media import clips
from storyboard.media.probe import decodes, probe
from storyboard.planner import Plan, RenderJob
from storyboard.timeline import frames as to_frames

FATAL = (QuotaError,)


@dataclass
class Event:
    """Progress of one shot, for whoever shows it."""

    shot: str
    state: str  # queued | cached | <backend states> | done | failed | blocked | skipped
    percent: float | None = None
    message: str = ""
    elapsed: float = 0.0
    spent: float = 0.0


@dataclass
class Outcome:
    job: RenderJob
    status: str  # cached | rendered | failed | blocked | skipped
    entry: Entry | None = None
    reason: str = ""
    error: StoryboardError | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def meta(self) -> dict:
        return self.entry.meta if self.entry else {}


def verify_clip(path: Path, job: RenderJob, exact: bool, last_frame: Path, makes_sound: bool = True) -> list[str]:
    """A clip enters the cache only if it decodes and has the length and picture asked for.
    The same decode leaves its last frame (for a continuous shot after it) in `last_frame`."""
    shot = job.shot
    info = probe(path)
    if not info.has_video:
        raise MediaError(f"shot '{shot.id}': the clip has no video stream")
    n = decodes(path, last_frame, shot.dimensions)
    want = to_frames(shot.duration, shot.fps)
    warnings = []
    if exact:
        if n != want:
            raise MediaError(f"shot '{shot.id}': the clip has {n} frames, not the {want} asked for")
    else:
        have = n / float(info.fps or shot.fps)
        if have + 1 / shot.fps < shot.duration:
            raise MediaError(f"shot '{shot.id}': the clip lasts {have:.2f}s; the shot needs {shot.duration:g}s")
    if info.size != shot.size:
        warnings.append(f"the clip is {info.size}, not {shot.size}; it is scaled to fit in the cut")
    if info.audio_streams == 0 and makes_sound:
        warnings.append("the clip has no sound; silence is used")
    return warnings


class Renderer:
    def __init__(self, plan: Plan, backend: Backend, cache: Cache, asset: Callable[[str], Path],
                 concurrency: int = 2, budget: Budget | None = None,
                 on_event: Callable[[Event], None] = lambda e: None, clock: Callable[[], float] = time.monotonic):
        self.plan, self.backend, self.cache, self.asset = plan, backend, cache, asset
        self.concurrency = max(1, concurrency)
        self.budget = budget or Budget()
        self.on_event, self.clock = on_event, clock
        self.t0 = clock()
        self.fatal: StoryboardError | None = None
        self._lock = threading.Lock()
        # `concurrency` bounds jobs at the provider; a job that is downloading or being verified
        # no longer holds a slot, so the next one is submitted while it finishes locally
        self._slots = 0

    def emit(self, shot: str, state: str, percent: float | None = None, message: str = "") -> None:
        self.on_event(Event(shot, state, percent, message, self.clock() - self.t0, self.budget.spent))

    def run(self) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        pending = list(self.plan.jobs)
        for job in pending:
            entry = self.cache.get(job.key) if job.cached else None
            if entry is not None:
                outcomes[job.shot.id] = Outcome(job, "cached", entry)
                self.emit(job.shot.id, "cached", 100)
            elif not job.selected:
                why = "not selected with --shot and not rendered before"
                if job.shot.depends_on and any(j.selected for j in pending if j.shot.id in job.shot.depends_on):
                    why = (f"it continues '{job.shot.depends_on[0]}', which changed; "
                           f"add --shot {job.shot.id} to render it from the new frame")
                outcomes[job.shot.id] = Outcome(job, "skipped", reason=why)
                self.emit(job.shot.id, "skipped", message="not selected")
            else:
                self.emit(job.shot.id, "queued", 0)
        todo = [j for j in pending if j.shot.id not in outcomes]
        running: dict[Future, RenderJob] = {}
        pool = ThreadPoolExecutor(max_workers=self.concurrency + 2, thread_name_prefix="render")
        try:
            while todo or running:
                for job in list(todo):
                    if self._slots >= self.concurrency or len(running) >= self.concurrency + 2:
                        break
                    deps = job.shot.depends_on
                    if any(d not in outcomes for d in deps):
                        continue
                    todo.remove(job)
                    bad = [d for d in deps if outcomes[d].entry is None]
                    if bad:
                        outcomes[job.shot.id] = Outcome(job, "skipped", reason=f"it continues shot '{bad[0]}', which has no clip")
                        self.emit(job.shot.id, "skipped", message=outcomes[job.shot.id].reason)
                        continue
                    if self.fatal is not None:
                        outcomes[job.shot.id] = Outcome(job, "skipped", reason=f"stopped: {self.fatal}")
                        self.emit(job.shot.id, "skipped", message="stopped")
                        continue
                    if not self.budget.try_reserve(job.cost):
                        outcomes[job.shot.id] = Outcome(job, "skipped", reason=(
                            f"${job.cost:.2f} would pass --max-cost ${self.budget.max_cost:.2f} "
                            f"(${self.budget.spent + self.budget.reserved:.2f} spent or reserved)"),
                            error=BudgetExceeded("--max-cost reached"))
                        self.emit(job.shot.id, "skipped", message="over budget")
                        continue
                    prev = outcomes[deps[0]].entry if deps else None
                    with self._lock:
                        self._slots += 1
                    running[pool.submit(self._render_one, job, prev)] = job
                if not running:
                    if todo:  # dependencies that can never be met (should not happen: order is topological)
                        for job in todo:
                            outcomes[job.shot.id] = Outcome(job, "skipped", reason="its dependencies were not rendered")
                        todo.clear()
                    break
                done, _ = wait(list(running), timeout=0.05 if todo else None, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = running.pop(fut)
                    outcomes[job.shot.id] = fut.result()
        except BaseException:
            self.backend.cancel()  # waiting threads leave; submitted jobs stay in the journal
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return {j.shot.id: outcomes[j.shot.id] for j in self.plan.jobs}

    def _input_image(self, job: RenderJob, prev: Entry | None, staging: Path) -> Path | None:
        ref = job.shot.input_reference
        if ref is None:
            return None
        w, h = job.shot.dimensions
        if ref.kind == "previous_last_frame":
            if prev is None or not prev.last_frame.exists():
                raise MediaError(f"shot '{job.shot.id}' continues '{ref.shot}', whose last frame is missing")
            return clips.fit_image(prev.last_frame, staging / "first_frame.png", w, h)
        return clips.fit_image(self.asset(ref.path), staging / "first_frame.png", w, h)

    def _release(self, held: list[bool]) -> None:
        with self._lock:
            if held[0]:
                held[0] = False
                self._slots -= 1

    def _render_one(self, job: RenderJob, prev: Entry | None) -> Outcome:
        sid = job.shot.id
        held = [True]

        def report(state: str, pct: float | None = None) -> None:
            if state in ("downloading", "verifying"):
                self._release(held)
            self.emit(sid, state, pct)
        try:
            return self._render_steps(job, prev, report)
        finally:
            self._release(held)

    def _render_steps(self, job: RenderJob, prev: Entry | None, report) -> Outcome:
        sid = job.shot.id
        staging = self.cache.staging()
        try:
            image = self._input_image(job, prev, staging)
            req = RenderRequest(job=job, workdir=staging, asset=self.asset, input_image=image, report=report)
            result: RenderResult = self.backend.render(req)
            charged = result.cost
            report("verifying", 95)
            caps = self.backend.caps
            warnings = verify_clip(result.clip, job, caps.exact_duration, staging / "last.png",
                                   caps.model(job.shot.model)[1].makes_sound) + list(result.warnings)
            if result.clip != staging / "clip.mp4":
                shutil.move(result.clip, staging / "clip.mp4")
            if image is not None:
                image.unlink(missing_ok=True)
            meta = {"key": job.key, "shot": sid, "backend": self.backend.caps.name, "model": job.shot.model,
                    "model_reported": result.model_reported, "job_id": result.job_id,
                    "seconds_billed": result.seconds_billed, "cost": charged, "take": job.take,
                    "prompt": job.shot.prompt, "duration": job.shot.duration, "seconds": job.shot.seconds,
                    "size": job.shot.size, "fps": job.shot.fps, "dialogue": result.dialogue,
                    "warnings": warnings, "created": time.time(), **result.extra}
            entry = self.cache.publish(job.key, staging, meta)
            self.cache.raise_take(job.base_key, job.take)
            self.cache.drop_record("failures", job.key)
            self.budget.commit(job.cost, charged)
            self.emit(sid, "done", 100)
            return Outcome(job, "rendered", entry, warnings=warnings)
        except ShotBlocked as e:
            self.budget.commit(job.cost, job.cost if e.charged else 0.0)
            self._record_failure(job, "blocked", str(e), code=e.code, input=e.input_name, job_id=e.job_id)
            self.emit(sid, "blocked", message=f"{e.code}: {e.provider_message}")
            return Outcome(job, "blocked", reason=str(e), error=e)
        except FATAL as e:
            self.budget.commit(job.cost, 0.0)
            with self._lock:
                self.fatal = self.fatal or e
            self.emit(sid, "failed", message=str(e))
            return Outcome(job, "failed", reason=str(e), error=e)
        except (StoryboardError, OSError) as e:
            # a job that may exist at the provider counts as spent; a local failure does not
            spent = job.cost if isinstance(e, (AmbiguousSubmission, RetriesExhausted)) else 0.0
            self.budget.commit(job.cost, spent)
            reason = str(e) if isinstance(e, StoryboardError) else (
                f"cannot read or write{' ' + str(e.filename) if e.filename else ''}: {e.strerror or e}")
            self._record_failure(job, "failed", reason)
            self.emit(sid, "failed", message=reason)
            return Outcome(job, "failed", reason=reason, error=e if isinstance(e, StoryboardError) else None)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already when published (renamed)

    def _record_failure(self, job: RenderJob, status: str, reason: str, **extra) -> None:
        self.cache.save_record("failures", job.key, {"shot": job.shot.id, "status": status, "reason": reason,
                                                      "backend": self.backend.caps.name, "time": time.time(), **extra})
