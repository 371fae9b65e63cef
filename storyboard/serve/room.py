"""The review room's state over the pipeline: the page as it stands, the version of the files it was
made from, and one worker that prepares, renders (the animatic, or a paid backend once confirmed)
and cuts, one step at a time. Every decision is the pipeline's; this only sequences the calls and
tells the pages (`publish`) what changed."""

from __future__ import annotations

import hashlib
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from storyboard import notes, pipeline
from storyboard.errors import FormatError, Locked, StoryboardError, UsageError
from storyboard.progress import Callbacks
from storyboard.store.cache import Cache

TEMPLATE = "serve.html.j2"


@dataclass
class Status:
    """What the page's header says: what the room is doing, and what went wrong last."""

    busy: str = ""
    error: str = ""
    warning: str = ""  # what is not wrong enough to stop anything (a pin to a take that is gone)
    price: float = 0.0  # what rendering the missing shots costs on a paid backend (0: nothing to confirm)
    to_render: list[str] = field(default_factory=list)  # shots waiting for a render
    page: int = 0  # increments with each new page
    cut: int = 0  # increments with each new final.mp4


class Room:
    def __init__(self, file: str | Path, backend: str | None = None, cache: Cache | None = None,
                 publish: Callable[[dict], None] = lambda event: None, log: Callable[[str], None] = lambda m: None):
        self.file = Path(file).resolve()
        self.backend = backend
        self.cache = cache or Cache()
        self.out = pipeline.default_out(self.file)
        self.publish = publish
        self.log = log
        self.status = Status()
        self.html = ('<!doctype html><meta http-equiv="refresh" content="1"><title>storyboard</title>'
                     "<p>Preparing the review room…</p>")  # until the first page is made
        self.version = ""  # the storyboard files' digest the page was made from
        self.yaml_files: list[Path] = [self.file]
        self.references: list[Path] = []
        self.prep = None
        self.token = ""
        self.embed_token = True
        self._write = threading.Lock()  # the storyboard and the sidecar: one write at a time
        self._wake = threading.Condition()
        self._wanted: set[str] = set()  # "refresh" (prepare, render what is missing, cut), "cut"
        self._paid: float | None = None  # a confirmed paid render, capped at this price
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the files --------------------------------------------------------------------------------
    def files_version(self) -> str:
        """A digest of the storyboard and every file it includes, as they are on disk now."""
        h = hashlib.sha256()
        for f in self.yaml_files:
            try:
                h.update(f.read_bytes())
            except OSError:
                h.update(b"\0missing\0" + str(f).encode())
        return h.hexdigest()

    def watched(self) -> set[Path]:
        """What an edit of re-renders: the storyboard, its includes and its references; and the review
        sidecar, so notes edited by hand show too."""
        return {self.file, *self.yaml_files, *self.references, notes.sidecar(self.file)}

    def _note_files(self, prep) -> None:
        loaded = prep.loaded
        found = []
        for f, _, _ in list(loaded.positions.values.values()) + list(loaded.positions.keys.values()):
            p = Path(f)
            p = (p if p.is_absolute() else Path.cwd() / p).resolve()
            if p not in found:
                found.append(p)
        self.yaml_files = [self.file] + sorted(p for p in found if p != self.file)
        sb = loaded.storyboard
        refs = [c.reference for c in sb.characters.values()] + [c.cameo for c in sb.characters.values()]
        refs += [loc.reference for loc in sb.locations.values()] + [sb.music]
        self.references = sorted({loaded.asset(r).resolve() for r in refs if r})

    # -- the worker -------------------------------------------------------------------------------
    def claim(self) -> None:
        """Claim the output folder as `render` does: refused if it holds files storyboard did not write."""
        from storyboard.exports import review
        from storyboard.store.files import check_output_folder, mark_output_folder
        check_output_folder(self.out, False, {review.FOLDER: review.NAMES})
        mark_output_folder(self.out, pipeline.OUTPUTS)

    def start(self) -> None:
        """Claim the output folder, then prepare, render what is missing and cut, in the background."""
        self.claim()
        self._thread = threading.Thread(target=self._run, name="storyboard-room", daemon=True)
        self._thread.start()
        self.want("refresh")

    def stop(self, wait: float = 5.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(wait)

    def want(self, what: str) -> None:
        with self._wake:
            self._wanted.add(what)
            self._wake.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                while not self._wanted and not self._stop.is_set():
                    self._wake.wait(1.0)
                wanted, self._wanted = self._wanted, set()
            if self._stop.is_set():
                return
            try:
                if "refresh" in wanted or "paid" in wanted:
                    self._refresh(paid="paid" in wanted)
                elif "cut" in wanted:
                    self._cut_only()
            except BaseException as e:  # the room stays up and says what broke
                if self._stop.is_set():  # closing: the render stopped as on Ctrl-C; the cache resumes it
                    return
                if isinstance(e, StoryboardError):  # the output folder locked by a `render`, a disk full
                    self._say(busy="", error=f"{e}; the room tries again on the next change")
                elif isinstance(e, Exception):
                    self.log("".join(traceback.format_exception(e)))
                    self._say(busy="", error=f"{type(e).__name__}: {e}")
                elif isinstance(e, KeyboardInterrupt):  # an ffmpeg of ours stopped by a signal: the Ctrl-C
                    # closing the room reaches it first, or someone stopped that one process
                    self._say(busy="", error="the render was interrupted; the room tries again on the next change")
                else:
                    raise

    def _say(self, **changes) -> None:
        for k, v in changes.items():
            setattr(self.status, k, v)
        self.publish({"kind": "status", **self.state()})

    def state(self) -> dict:
        s = self.status
        return {"busy": s.busy, "error": s.error, "warning": s.warning, "price": s.price, "to_render": s.to_render, "page": s.page,
                "cut": s.cut, "version": self.version}

    def _prepare(self):
        try:
            prep = pipeline.prepare(self.file, self.backend)
        except FormatError as e:
            self._say(busy="", error="\n".join(str(d) for d in e.diagnostics))
            return None
        self._note_files(prep)
        return prep

    def _refresh(self, paid: bool = False) -> None:
        """Prepare; show the page at once (changed words, shots waiting); render what is missing when
        that costs nothing (or was confirmed, capped at the price confirmed); show the new pictures
        as soon as the shots are made; then cut and tell the player."""
        version = self.files_version()
        prep = self._prepare()
        if prep is None:
            return
        self.prep = prep
        plan = pipeline.make_plan(prep, self.cache)
        waiting = [j.shot.id for j in plan.to_render]
        price = plan.total
        self.status.error = ""
        # a pin to a take the shot no longer has: the cut uses its latest take; the page says so (and
        # its card offers to unpin)
        from storyboard.takes import pin_problems
        self.status.warning = "\n".join(str(d) for d in pin_problems(prep, plan))
        self.status.to_render, self.status.price = waiting, price
        self._page(prep, version, busy=f"rendering {len(waiting)} shot{'s' * (len(waiting) != 1)}" if waiting and (
            price == 0 or paid) else "")
        if price > 0 and not paid:  # a paid render waits for the page's confirmation; the cut holds what exists
            if self._cut_stale(prep, plan):
                self._cut_only(prep)
            return
        if not waiting and not self._cut_stale(prep, plan):
            self._say(busy="")
            return
        cap = self._paid if paid else None
        shown = {"done": False}

        def step(i: int, s: str) -> None:
            self._closing()
            if not shown["done"]:  # the shots are made: the cards show them before the cut is done
                shown["done"] = True
                self.status.to_render = []
                self._page(prep, version, busy="cutting", lock=False)
            self._say(busy=f"cutting: {s}")
        batch = pipeline.plan_batch([prep], cache=self.cache)
        if batch.total > 0 and (cap is None or batch.total > cap + 1e-9):
            self._say(busy="", error=f"the price changed to ${batch.total:.2f} since it was confirmed; "
                                     "nothing was spent: look again, then confirm")
            return
        try:
            (rendered, _), = pipeline.render_batch(
                batch, [self.out], cache=self.cache, max_cost=cap,
                confirm=(lambda b: cap is not None and b.total <= cap + 1e-9),
                progress=Callbacks(event=lambda i, e: self._event(e), step=step))
        except (Locked, StoryboardError) as e:
            self._say(busy="", error=str(e))
            return
        self._stamp(version)
        left = pipeline.make_plan(prep, self.cache)  # what a stopped render left to do
        self.status.to_render, self.status.price = [j.shot.id for j in left.to_render], left.total
        self.status.cut += 1
        stop = f"the render stopped: {rendered.stop}" if rendered.stop else ""
        self._page(prep, version, busy="", error=stop, spent=rendered.spent)
        self.publish({"kind": "cut", **self.state()})

    def _closing(self) -> None:
        """Raised into a render or a cut when the room closes: the renderer's own Ctrl-C path (jobs
        stop, submitted ones stay in the journal, the next start resumes them)."""
        if self._stop.is_set():
            raise KeyboardInterrupt

    def _event(self, e) -> None:
        self._closing()
        if e.state in ("done", "failed", "blocked"):
            self._say(busy=f"{e.shot}: {e.state}" + (f" ({e.message})" if e.message and e.state != "done" else ""))

    def _cut_stale(self, prep, plan) -> bool:
        """Whether final.mp4 is missing, or was cut from other clips or another storyboard text."""
        from storyboard import takes as takes_
        last = takes_.last_cut(self.out)
        if not (self.out / "final.mp4").exists() or not last:
            return True
        _, outcomes = pipeline.from_cache(prep, self.out, self.cache)
        keys = {sid: (o.entry.key if o.entry else None) for sid, o in outcomes.items()}
        made = {sid: (s.get("key") if s.get("clip") else None) for sid, s in last.items()}
        return keys != made or self._cut_version() != self.files_version() + self._notes_version()

    def _notes_version(self) -> str:
        try:
            return hashlib.sha256(notes.sidecar(self.file).read_bytes()).hexdigest()
        except OSError:
            return ""

    def _cut_version(self) -> str:
        try:
            return (self.out / ".storyboard-serve-cut").read_text().strip()
        except OSError:
            return ""

    def _stamp(self, version: str, notes_version: str | None = None) -> None:
        """What the cut in the output folder was made from (the files and the notes), so a restart or a
        watcher event that changes nothing cuts nothing."""
        from storyboard.store.files import atomic_write_text
        nv = self._notes_version() if notes_version is None else notes_version
        atomic_write_text(self.out / ".storyboard-serve-cut", version + nv + "\n")

    def _cut_only(self, prep=None) -> None:
        """The cut again from the cache (a pin, a note): nothing rendered or spent."""
        prep = prep or self._prepare()
        if prep is None:
            return
        self.prep = prep
        version, notes_version = self.files_version(), self._notes_version()
        self._say(busy="cutting", error="")
        try:
            pipeline.recut(prep, self.out, self.cache, on_step=lambda s: (self._closing(), self._say(busy=f"cutting: {s}")))
        except StoryboardError as e:
            self._say(busy="", error=str(e))
            return
        self._stamp(version, notes_version)
        self.status.cut += 1
        self._page(prep, version, busy="", error="")  # it prepared, planned and cut: nothing is wrong now
        self.publish({"kind": "cut", **self.state()})

    # -- the page ---------------------------------------------------------------------------------
    def _page(self, prep, version: str, busy: str = "", error: str | None = None, spent: float | None = None,
              lock: bool = True) -> None:
        import contextlib

        from storyboard.exports import review
        from storyboard.store.files import folder_lock
        with folder_lock(self.out) if lock else contextlib.nullcontext():
            plan, outcomes = pipeline.from_cache(prep, self.out, self.cache)
            ctx = review.gather(prep, plan, outcomes, self.out, self.cache, spent)
        reviews = notes.load(self.file)
        sheet = ctx["sheet"]
        ctx.update(
            fps=sheet.fps, version=version, token=self.token if self.embed_token else "",
            reviews={s.id: reviews.of(s.id) for s in sheet.shots}, statuses=notes.STATUSES,
            waiting=set(self.status.to_render), price=self.status.price, paid=self.status.price > 0,
            cut_gen=self.status.cut, file=self.file.name, pins={s.id: s.take for s in prep.loaded.storyboard.shots}, has_cut=(self.out / "final.mp4").exists(),
            strip=[{"id": v["s"].id, "number": v["s"].number, "start": v["s"].start_frame / sheet.fps,
                    "end": (v["s"].start_frame + v["s"].frames) / sheet.fps,
                    "pic": (v["strip"][1] if v["strip"] else v["panel"]), "take": v["s"].take,
                    "review": reviews.of(v["s"].id).status} for v in ctx["shots"]])
        self.status.page += 1
        ctx["page_gen"] = self.status.page
        self.html = review.render(TEMPLATE, ctx)
        self.version = version
        if error is not None:
            self.status.error = error
        self._say(busy=busy)

    # -- writes from the page -------------------------------------------------------------------------
    def _check_version(self, seen: str) -> None:
        if seen != self.files_version():
            from storyboard.pinning import Changed
            raise Changed(f"{self.file.name} (or a file it includes) changed on disk since this page was loaded; "
                          "nothing was written. The page now shows the file as it is: look again, then pin")

    def pin(self, shot: str, take: int | None, seen: str) -> tuple[str, str]:
        """Pin (None: unpin) a take in the file defining the shot, if the files are still the ones the
        page was made from; then a cut. Returns the file's name and the files' new version."""
        with self._write:
            self._check_version(seen)
            prep = self._prepare()
            if prep is None:
                raise UsageError(f"{self.file.name} has problems (shown at the top); fix them first")
            path = pipeline.pin_take(prep, shot, take, self.cache)
            version = self.files_version()
        self.want("cut")
        return path.name, version

    def note(self, shot: str, text: str, author: str) -> None:
        self._review(shot, lambda r: r.with_note(shot, text, author))

    def set_status(self, shot: str, status: str) -> None:
        self._review(shot, lambda r: r.with_status(shot, status))

    def _review(self, shot: str, change) -> None:
        prep = self.prep
        ids = [s.id for s in prep.shots] if prep else []
        if shot not in ids:
            from storyboard.model.vocab import unknown
            raise UsageError(unknown("shot", shot, ids))
        with self._write:
            reviews = change(notes.load(self.file))
            notes.save(reviews, self.file, ids)
        self.want("cut")  # the markers of the exports, the boards and the shot list say it

    def render_paid(self, price_seen: float) -> None:
        """Render what is missing on the paid backend, capped at the price the page showed."""
        if self.status.price <= 0:
            raise UsageError("nothing here costs money to render")
        if abs(price_seen - self.status.price) > 0.005:
            raise UsageError(f"the price is now ${self.status.price:.2f}, not ${price_seen:.2f}; nothing was spent: "
                             "look again, then confirm")
        self._paid = price_seen
        self.want("paid")

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """For tests and benches: until nothing is wanted and nothing runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._wake:
                idle = not self._wanted
            if idle and not self.status.busy:
                return True
            time.sleep(0.05)
        return False
