"""Render what is not cached: shots in dependency order, independent ones in parallel, each
verified before it enters the cache, failures recorded apart, spend bounded.

One request, one job: shots with identical requests share one render, and a lock per request in
the cache makes another process wait for the clip and reuse it. A cached clip is checked (size and
digest) before it is served; a damaged one is moved aside and fetched again without paying. One
shot's unexpected error is that shot's failure, never the run's."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable

from storyboard.backends.base import Backend, RenderRequest, RenderResult
from storyboard.errors import (AmbiguousSubmission, BackendUnusable, BudgetExceeded, MediaError, QuotaError,
                               ShotBlocked, StoryboardError)
from storyboard.media import clips, memory
from storyboard.media.ffmpeg import run as run_ffmpeg
from storyboard.media.probe import audio_samples, decodes, packets, probe
from storyboard.model.jobs import Entry, GroupRequest, Plan, RenderJob, Event, Outcome
from storyboard.stages.grouping import boundaries
from storyboard.stages.planner import part_key
from storyboard.redact import redact, scrub
from storyboard.stages.timeline import frames as to_frames
from storyboard.store.budget import Budget, Purse
from storyboard.store.cache import Cache

FATAL = (QuotaError, BackendUnusable)  # no other shot can work either: the run stops


def verify_clip(path: Path, job: RenderJob, exact: bool, last_frame: Path | None,
                makes_sound: bool = True, house_encoded: bool = False) -> tuple[list[str], dict]:
    """A clip enters the cache only if it decodes and has the length and picture asked for.
    The same decode leaves its last frame (for a continuous shot after it) in `last_frame`. A clip
    the house encoder made on this machine (`house_encoded`: the animatic's, which brings its own
    last frame) is not a download to distrust: its frames are counted by their packets.
    Returns warnings, and the verified frame and sample counts (recorded with the entry)."""
    shot = job.shot
    info = probe(path)
    if not info.has_video:
        raise MediaError(f"shot '{shot.id}': the clip has no video stream")
    n = packets(path) if house_encoded and last_frame is None else decodes(path, last_frame, shot.dimensions)
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
    return warnings, {"frames": n, "samples": audio_samples(path)}


def _lines_within(lines: list[dict], start: float, end: float) -> list[dict]:
    """The lines of a group's clip (as the backend placed them) that start in [start, end), timed from
    `start`: a shot's own lines once the clip is cut into shots."""
    return [{**line, "start": round(line["start"] - start, 4), "end": round(min(line["end"], end) - start, 4)}
            for line in lines if start <= float(line.get("start", -1)) < end]


class Renderer:
    def __init__(self, plan: Plan, backend: Backend, cache: Cache, asset: Callable[[str], Path],
                 concurrency: int = 2, budget: Budget | None = None,
                 on_event: Callable[[Event], None] = lambda e: None, clock: Callable[[], float] = time.monotonic,
                 on_clip: Callable[[Outcome], None] = lambda o: None, continued: set[str] | None = None):
        self.plan, self.backend, self.cache, self.asset = plan, backend, cache, asset
        self.on_clip = on_clip  # told of each clip as it is served or made (the identity check starts on it)
        self.concurrency = max(1, concurrency)
        self.budget = budget or Budget()
        self.on_event, self.clock = on_event, clock
        self.t0 = clock()
        self.fatal: StoryboardError | None = None
        self._stop = threading.Event()  # the run is being stopped (Ctrl-C): waits for a lock end
        self._lock = threading.Lock()
        # `concurrency` bounds jobs at the provider; a job that is downloading or being verified
        # no longer holds a slot, so the next one is submitted while it finishes locally
        self._slots = 0
        # the shots a later shot of this plan starts from: only their clips' last frames are saved as
        # the clips are verified (a PNG each: 12-50 ms and up to a few MB, for every clip of a feature);
        # another shot's is made from its clip the first time a shot continues it (_last_frame)
        # (`continued`: said by whoever holds the whole plan, for a renderer given one job of it)
        self._continued = continued if continued is not None else {
            j.shot.input_reference.shot for j in plan.jobs
            if j.shot.input_reference is not None and j.shot.input_reference.kind == "previous_last_frame"}

    def emit(self, shot: str, state: str, percent: float | None = None, message: str = "") -> None:
        if self._stop.is_set():  # interrupted: a shot that still ends is kept in the cache, not told after
            return
        self.on_event(Event(shot, state, percent, message, self.clock() - self.t0, self.budget.spent))

    def run(self) -> dict[str, Outcome]:
        memory.lean()  # the threads share two arenas, trimmed after each shot (media/memory.py)
        outcomes: dict[str, Outcome] = {}
        damaged: dict[str, str] = {}  # shot -> what was wrong with its cached clip (moved aside)
        pending = list(self.plan.jobs)
        cached = list(dict.fromkeys(j.key for j in pending if j.cached))
        found = dict(zip(cached, self.cache.each(self.cache.get, cached)))  # on a bucket, several reads at once
        for job in pending:
            sid = job.shot.id
            entry = found.get(job.key) if job.cached else None
            if job.cached and entry is None and job.group is not None:
                entry, problem = self._part_of_cached(job)
                if problem is not None:
                    damaged[sid] = problem
            if entry is not None:
                problem = self._problem(job, entry)
                if problem is None:
                    outcomes[sid] = self._cached(job, entry)
                    self._told(outcomes[sid])
                    continue
                self.cache.quarantine(job.key)
                damaged[sid] = problem
            if not (job.selected or job.twin_of or sid in damaged):
                why = "not selected with --shot and not rendered before"
                if job.shot.depends_on and any(j.selected for j in pending if j.shot.id in job.shot.depends_on):
                    why = (f"it continues '{job.shot.depends_on[0]}', which changed; "
                           f"add --shot {job.shot.id} to render it from the new frame")
                outcomes[sid] = Outcome(job, "skipped", reason=why)
                self.emit(sid, "skipped", message="not selected")
            else:
                self.emit(sid, "queued", 0)
        todo = [j for j in pending if j.shot.id not in outcomes]
        self.backend.ahead([j for j in todo if not (j.twin_of or j.follower)],
                           lambda sid, state: self.emit(sid, state, 0 if state == "queued" else None))
        running: dict[Future, RenderJob] = {}
        pool = ThreadPoolExecutor(max_workers=self.concurrency + 2, thread_name_prefix="render")
        try:
            while todo or running:
                for job in list(todo):
                    if self._slots >= self.concurrency or len(running) >= self.concurrency + 2:
                        break
                    sid, deps = job.shot.id, job.shot.depends_on
                    if job.group is not None:  # the group's first frame is its first shot's
                        deps = [d for d in job.group.members[0].depends_on if d not in job.group.shots]
                    leader = [job.group.name] if job.follower else []
                    if any(d not in outcomes for d in [*deps, *([job.twin_of] if job.twin_of else []), *leader]):
                        continue
                    todo.remove(job)
                    if job.twin_of:
                        outcomes[sid] = self._share(job, outcomes[job.twin_of])
                        continue
                    if job.follower:
                        outcomes[sid] = self._part(job, outcomes[job.group.name])
                        continue
                    bad = [d for d in deps if outcomes[d].entry is None]
                    if bad:
                        outcomes[sid] = Outcome(job, "skipped", reason=f"it continues shot '{bad[0]}', which has no clip")
                        self.emit(sid, "skipped", message=outcomes[sid].reason)
                        continue
                    if self.fatal is not None:
                        outcomes[sid] = Outcome(job, "skipped", reason=f"stopped: {self.fatal}")
                        self.emit(sid, "skipped", message="stopped")
                        continue
                    purse = self.budget.open(job.cost, self._refetch_only(job, damaged.get(sid)))
                    if purse is None:
                        outcomes[sid] = Outcome(job, "skipped", reason=self.budget.over(job.cost),
                                                error=BudgetExceeded("--max-cost reached"))
                        self.emit(sid, "skipped", message="over budget")
                        continue
                    prev = outcomes[deps[0]].entry if deps else None
                    with self._lock:
                        self._slots += 1
                    one = self._render_group if job.group is not None else self._render_one
                    running[pool.submit(one, job, prev, purse, damaged.get(sid))] = job
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
                    self._told(outcomes[job.shot.id])
        except BaseException:
            self._stop.set()
            self.backend.cancel()  # waiting threads leave; submitted jobs stay in the journal
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        memory.give_back(always=True)  # the cut starts from what the run holds, not from what its busiest moment left
        return {j.shot.id: outcomes[j.shot.id] for j in self.plan.jobs}

    def _told(self, outcome: Outcome) -> None:
        """on_clip of a shot that has a clip; whatever it does, the render goes on."""
        if outcome.entry is not None:
            with contextlib.suppress(Exception):
                self.on_clip(outcome)

    # -- what the cache serves ---------------------------------------------------------------------
    def _problem(self, job: RenderJob, entry: Entry) -> str | None:
        """What is wrong with a cached clip, or None. An entry from before digests were recorded is
        decoded once and then records them."""
        try:
            problem = self.cache.check(entry)
        except OSError as e:
            return f"it cannot be read ({e.strerror or e})"
        if problem is None and not entry.sealed:
            try:
                _, counts = verify_clip(entry.clip, job, self.backend.caps.exact_duration, None, False,
                                        self.backend.caps.house_encoded)
            except (MediaError, OSError) as e:
                return str(e)
            with contextlib.suppress(OSError):  # a read-only shared cache: served, checked again next time
                self.cache.seal(entry, **counts)
        return problem

    def _cached(self, job: RenderJob, entry: Entry) -> Outcome:
        self.emit(job.shot.id, "cached", 100)
        return Outcome(job, "cached", entry, spent_earlier=float(entry.meta.get("cost") or 0.0))

    @staticmethod
    def _refetch_only(job: RenderJob, damage: str | None) -> str:
        """For a damaged paid clip: why no new paid job may start (it is fetched again from the jobs
        already paid for, or reported); a free backend simply makes it again."""
        if damage is None or job.price_per_second <= 0:
            return ""
        return "the provider no longer has the job that made it, and a new job is paid"

    def _share(self, job: RenderJob, twin: Outcome) -> Outcome:
        """A shot whose request is identical to an earlier one's: served that one's clip, or its fate."""
        sid, other = job.shot.id, twin.job.shot.id
        if twin.entry is not None:
            self.emit(sid, "cached", 100, f"the same request as {other}")
            return Outcome(job, "cached", twin.entry, warnings=list(twin.warnings), same_as=other)
        reason = f"the same request as shot '{other}', which {twin.status}: {twin.reason}"
        self.emit(sid, twin.status, message=reason)
        return Outcome(job, twin.status, reason=reason, error=twin.error, same_as=other)

    # -- multi-shot groups: one job makes several shots, cut back into shots -----------------------
    @staticmethod
    def _group_job(job: RenderJob) -> RenderJob:
        """The one job of a group, as its first shot's job: the group's key and its whole length."""
        g = job.group
        shot = job.shot.model_copy(update={"duration": g.seconds, "seconds": g.seconds, "segments": [g.seconds]})
        return dataclasses.replace(job, key=g.key, base_key=g.base_key, shot=shot)

    def _render_group(self, job: RenderJob, prev: Entry | None, purse: Purse, damage: str | None) -> Outcome:
        """The group's request, exactly as one shot's (its lock, journal, claim and price), then its clip
        cut into its shots' parts."""
        made = self._render_one(self._group_job(job), prev, purse, damage)
        if made.entry is None:
            return dataclasses.replace(made, job=job)
        try:
            part = self._split(made.entry, job.group)[0]
        except (StoryboardError, OSError) as e:
            reason = f"its group's clip was made and kept, but could not be cut into shots: {e}; run again to retry"
            self.emit(job.shot.id, "failed", message=reason)
            return dataclasses.replace(made, job=job, status="failed", entry=None, reason=reason)
        return dataclasses.replace(made, job=job, entry=part)

    def _part_of_cached(self, job: RenderJob) -> tuple[Entry | None, str | None]:
        """A shot's part of its group's cached clip, cut now (free) if it was not yet."""
        whole = self.cache.get(job.group.key)
        if whole is None:
            return None, None
        problem = self._problem(self._group_job(job), whole)
        if problem is not None:
            self.cache.quarantine(job.group.key)
            return None, problem
        try:
            return self._split(whole, job.group)[job.group.position], None
        except (StoryboardError, OSError) as e:
            return None, f"it could not be cut from its group's clip ({e})"

    def _part(self, job: RenderJob, first: Outcome) -> Outcome:
        """A shot after the first of its group: its part of the clip the group's one job made, or that job's fate."""
        sid = job.shot.id
        entry = self.cache.get(job.key) if first.entry is not None else None
        if entry is None and first.entry is not None:  # its part was damaged and moved aside: cut again, free
            entry, _ = self._part_of_cached(job)
        if entry is not None:
            self.emit(sid, "cached" if first.status == "cached" else "done", 100)
            return Outcome(job, first.status, entry, warnings=list(first.warnings))
        reason = f"made in one request with shot '{first.job.shot.id}', which {first.status}: {first.reason}"
        self.emit(sid, first.status if first.status != "cached" else "failed", message=reason)
        return Outcome(job, first.status if first.status != "cached" else "failed", reason=reason, error=first.error)

    def _split(self, whole: Entry, g: GroupRequest) -> list[Entry]:
        """Cut a group's clip into its shots at exact frames (grouping.boundaries: the lengths asked,
        a difference spread in proportion), each published as the shot's own entry, recording where it
        came from. Parts already cut are kept. Nothing is paid: the group's entry holds the cost."""
        n = int(whole.meta.get("frames") or 0) or decodes(whole.clip)
        info = probe(whole.clip)
        fps = info.fps or g.members[0].fps
        spans = boundaries(n, g.sent)
        asked_frames = [round(s * fps) for s in g.sent]
        out: list[Entry] = []
        for k, (m, (a, b)) in enumerate(zip(g.members, spans)):
            key = part_key(g.key, k)
            have = self.cache.get(key)
            if have is not None and self.cache.check(have) is None:
                out.append(have)
                continue
            staging = self.cache.staging()
            try:
                run_ffmpeg(clips.part_cmd(whole.clip, staging / "clip.mp4", a, b, fps, info.audio_streams > 0,
                                          k > 0, k < len(spans) - 1))
                got = decodes(staging / "clip.mp4", staging / "last.png" if m.id in self._continued else None,
                              m.dimensions)
                if got != b - a:
                    raise MediaError(f"shot '{m.id}': its part of the group's clip has {got} frames, not {b - a}")
                meta = {"key": key, "shot": m.id, "backend": whole.meta.get("backend"), "model": m.model,
                        "model_reported": whole.meta.get("model_reported"), "job_id": whole.meta.get("job_id"),
                        "seconds_billed": whole.meta.get("seconds_billed", 0.0) if k == 0 else 0.0,
                        "cost": whole.meta.get("cost", 0.0) if k == 0 else 0.0, "take": g.take,
                        "prompt": m.prompt, "duration": m.duration, "seconds": float((b - a) / fps),
                        "size": m.size, "fps": m.fps, "dialogue": _lines_within(whole.meta.get("dialogue") or [],
                                                                             float(a / fps), float(b / fps)),
                        "warnings": list(whole.meta.get("warnings", [])),
                        "created": time.time(), "frames": got, "samples": audio_samples(staging / "clip.mp4"),
                        "group": {"key": g.key, "shots": list(g.shots), "position": k, "from_frame": a, "to_frame": b,
                                  "clip_frames": n, "asked_frames": asked_frames[k],
                                  "spread_frames": (b - a) - asked_frames[k]}}
                out.append(self.cache.publish(key, staging, meta))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return out

    # -- rendering one shot ------------------------------------------------------------------------
    def _input_image(self, job: RenderJob, prev: Entry | None, staging: Path) -> tuple[Path | None, list[str]]:
        """The shot's first frame fitted to its size, and warnings about it."""
        ref = job.shot.input_reference
        if ref is None:
            return None, []
        w, h = job.shot.dimensions
        if ref.kind == "previous_last_frame":
            if prev is None:
                raise MediaError(f"shot '{job.shot.id}' continues '{ref.shot}', which has no clip")
            last, notes = self._last_frame(prev, ref.shot or "", staging)
            return clips.fit_image(last, staging / "first_frame.png", w, h), notes
        return clips.fit_image(self.asset(ref.path), staging / "first_frame.png", w, h), []

    def _last_frame(self, prev: Entry, shot: str, staging: Path) -> tuple[Path, list[str]]:
        """The last frame the previous shot's entry keeps, checked against its recorded size and
        digest before it becomes a (paid) request's first frame. A damaged one is moved aside and
        made again from the verified clip, at no cost; in a read-only cache, for this request only."""
        try:
            problem = self.cache.check_last_frame(prev)
        except OSError as e:
            problem = f"it cannot be read ({e.strerror or e})"
        if problem is None:
            return prev.last_frame, []
        size = prev.meta.get("size")
        try:
            dims = tuple(int(x) for x in str(size).split("x")) if size else None
        except ValueError:
            dims = None

        def make(png: Path) -> None:
            decodes(prev.clip, png, dims)
        recorded = bool(prev.meta.get("last_sha256"))
        try:
            path = self.cache.remake_last_frame(prev, make, aside=recorded).last_frame
        except OSError:  # a read-only shared cache
            path = staging / "previous_last.png"
            make(path)
        if not recorded:
            return path, []
        return path, [f"the last frame cached with shot '{shot}' was damaged ({problem}); it was moved aside "
                      "and made again from its clip, at no cost"]

    def _release(self, held: list[bool]) -> None:
        with self._lock:
            if held[0]:
                held[0] = False
                self._slots -= 1

    def _render_one(self, job: RenderJob, prev: Entry | None, purse: Purse, damage: str | None) -> Outcome:
        """One shot, holding its request's lock: another process making the same request is waited
        for, and its clip reused."""
        sid = job.shot.id
        held = [True]

        def report(state: str, pct: float | None = None) -> None:
            if state in ("downloading", "verifying"):
                self._release(held)
            self.emit(sid, state, pct)
        outcome: Outcome | None = None
        try:
            outcome = self._locked(job, prev, report, purse, damage)
        except OSError as e:  # the cache cannot be written (read-only, full): this shot fails, others go on
            reason = f"cannot work in the cache{' ' + str(e.filename) if e.filename else ''}: {e.strerror or e}"
            self.emit(sid, "failed", message=reason)
            outcome = Outcome(job, "failed", reason=reason)
        finally:
            self._release(held)
            purse.close(unclear=outcome is not None and isinstance(outcome.error, AmbiguousSubmission))
            memory.give_back()  # what the shot's drawing and sound freed goes back to the system
        outcome.spent, outcome.unconfirmed = round(purse.spent, 4), round(purse.unconfirmed, 4)
        outcome.spent_earlier = round(outcome.spent_earlier + purse.earlier, 4)
        return outcome

    def _locked(self, job: RenderJob, prev: Entry | None, report, purse: Purse, damage: str | None) -> Outcome:
        sid = job.shot.id
        lock = self.cache.request_lock(job.key)
        lock.acquire(self._stop, waiting=lambda: self.emit(sid, "waiting", None,
                                                           "another process is rendering the same request"))
        try:
            entry = self.cache.get(job.key)  # made by another process while this one waited?
            if entry is not None and self._problem(job, entry) is None:
                return self._cached(job, entry)
            if entry is not None:
                self.cache.quarantine(job.key)
            return self._render_steps(job, prev, report, purse, damage)
        finally:
            lock.release()

    def _render_steps(self, job: RenderJob, prev: Entry | None, report, purse: Purse, damage: str | None) -> Outcome:
        sid = job.shot.id
        staging: Path | None = None
        try:
            staging = self.cache.staging()
            image, first_frame_notes = self._input_image(job, prev, staging)
            req = RenderRequest(job=job, workdir=staging, asset=self.asset, input_image=image, report=report,
                                purse=purse)
            result: RenderResult = self.backend.render(req)
            report("verifying", 95)
            caps = self.backend.caps
            own_last = result.last_frame is not None and result.last_frame.is_file()
            last = staging / "last.png" if sid in self._continued and not own_last else None
            warnings, counts = verify_clip(result.clip, job, caps.exact_duration, last,
                                           caps.model(job.shot.model)[1].makes_sound, caps.house_encoded)
            if own_last and result.last_frame != staging / "last.png":
                shutil.move(result.last_frame, staging / "last.png")
            warnings += list(result.warnings)
            warnings[:0] = first_frame_notes
            if damage:
                warnings.insert(0, f"its cached clip was damaged ({damage}); it was made again from what was "
                                   "paid for, at no cost")
            if result.clip != staging / "clip.mp4":
                shutil.move(result.clip, staging / "clip.mp4")
            if image is not None:
                image.unlink(missing_ok=True)
            meta = {"key": job.key, "shot": sid, "backend": self.backend.caps.name, "model": job.shot.model,
                    "model_reported": result.model_reported, "job_id": result.job_id,
                    "seconds_billed": result.seconds_billed, "cost": result.cost, "take": job.take,
                    "prompt": job.shot.prompt, "duration": job.shot.duration, "seconds": job.shot.seconds,
                    "size": job.shot.size, "fps": job.shot.fps, "dialogue": result.dialogue,
                    "warnings": warnings, "created": time.time(), **counts, **result.extra}
            if job.group is not None:
                meta["group"] = {"shots": list(job.group.shots), "sent": list(job.group.sent)}
            entry = self.cache.publish(job.key, staging, meta)
            self.cache.raise_take(job.base_key, job.take)
            self.cache.drop_record("failures", job.key)
            self.emit(sid, "done", 100)
            return Outcome(job, "rendered", entry, warnings=warnings)
        except ShotBlocked as e:
            scrub(e)
            self._record_failure(job, "blocked", str(e), code=e.code, input=e.input_name, job_id=e.job_id)
            self.emit(sid, "blocked", message=redact(f"{e.code}: {e.provider_message}"))
            return Outcome(job, "blocked", reason=str(e), error=e)
        except FATAL as e:
            scrub(e)
            with self._lock:
                self.fatal = self.fatal or e
            self.emit(sid, "failed", message=str(e))
            return Outcome(job, "failed", reason=str(e), error=e)
        except (StoryboardError, OSError) as e:
            reason = redact(str(e)) if isinstance(e, StoryboardError) else (
                f"cannot read or write{' ' + str(e.filename) if e.filename else ''}: {e.strerror or e}")
            if damage:
                reason = (f"its cached clip was damaged ({damage}) and moved aside; it cannot be fetched again "
                          f"({reason}); render it again with `--shot {sid} --new-take` (paid)")
            self._record_failure(job, "failed", reason)
            self.emit(sid, "failed", message=reason)
            return Outcome(job, "failed", reason=reason, error=scrub(e) if isinstance(e, StoryboardError) else None)
        except Exception as e:  # noqa: BLE001 - a bug in one shot must not sink the others
            reason = redact(f"an unexpected error ({type(e).__name__}: {e}); please report it with the failure "
                            f"record in {self.cache.root / 'failures'}")
            self._record_failure(job, "failed", reason, traceback=redact(traceback.format_exc()))
            self.emit(sid, "failed", message=reason)
            return Outcome(job, "failed", reason=reason)
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)  # gone already when published (renamed)

    def _record_failure(self, job: RenderJob, status: str, reason: str, **extra) -> None:
        self.cache.save_record("failures", job.key, {"shot": job.shot.id, "status": status, "reason": redact(reason),
                                                      "backend": self.backend.caps.name, "time": time.time(), **extra})
