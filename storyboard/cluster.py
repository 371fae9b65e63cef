"""A render on a Dask cluster: the client plans, confirms and holds the cap; workers render shots
against the shared cache; the client cuts.

- The client runs the same Renderer as a local run (dependencies, twins, cache checks, the cap):
  only the making of one shot (`_locked`) becomes a task. A task is submitted only after its
  shot's price was reserved on the client's budget, and the worker spends under a budget of
  exactly that reservation, so no worker can pass --max-cost.
- Each payment a worker's provider accepts is reported to the client as it happens (a Dask
  event), so money spent by a worker that is killed later still counts in this run.
- A worker killed mid-task leaves its claim on the request to go stale (at once for a dead
  process on the same machine, after the heartbeat timeout on another); Dask runs the task again
  on another worker, which takes the claim over, reads the journal and re-attaches to the jobs
  already paid for: nothing is paid twice.
- Workers send progress events the client folds into its one display.
- The cut runs on the client: the output folder, its lock and the user's disk are there, every
  clip is reached once through the client's read-through copy (on a local cluster the workers'
  copies are the same folder), and a cut made on a worker would have to be copied back whole.

Dask, not a scheduler of our own: it is pure Python, starts a LocalCluster of processes in tests,
and scales to a real cluster (`dask scheduler` + `dask worker tcp://...`) without a change here."""

from __future__ import annotations

import contextlib
import pickle
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from storyboard.errors import StoryboardError, UsageError
from storyboard.model.jobs import Entry, Outcome, Plan, RenderJob
from storyboard.renderer import Renderer
from storyboard.store.budget import Budget, Purse
from storyboard.store.cache import Cache
from storyboard.store.shared import ObjectCache

TOPIC = "storyboard"


@contextlib.contextmanager
def connect(address: str) -> Iterator[Any]:
    """A Dask client for `--cluster`: `local:N` starts a LocalCluster of N worker processes (one
    thread each) for this run; anything else is a scheduler's address (tcp://HOST:8786)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--cluster needs the optional extra: pip install 'storyboard[cluster]'") from None
    if address.startswith("local:"):
        try:
            n = int(address.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise UsageError(f"--cluster {address}: write local:N with N worker processes, at least 1")
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=50) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout="10s")
    except Exception as e:  # noqa: BLE001 - an unreachable or wrong address: say which
        raise UsageError(f"--cluster {address}: cannot reach a Dask scheduler there ({e})") from None
    with client:
        yield client


def slots(client: Any) -> int:
    """Shots at once: one per worker thread."""
    return max(1, sum(client.nthreads().values()))


def cache_spec(cache: Cache) -> dict:
    """How a worker opens the same cache: the bucket's URL, or the (shared) folder's path."""
    if isinstance(cache, ObjectCache):
        return {"url": cache.url}
    return {"root": str(cache.root)}


def _open(spec: dict) -> Cache:
    return ObjectCache(spec["url"]) if "url" in spec else Cache(Path(spec["root"]))


def shot_files(job: RenderJob, asset: Callable[[str], Path], key_extra) -> dict[str, bytes]:
    """The project files a shot's render reads (those its cache key covers), to ship with its task:
    a worker need not see the project folder."""
    from storyboard.stages.planner import key_fields, project_files
    fields = key_fields(job.shot, job.context, False, key_extra)
    return {rel: asset(rel).read_bytes() for rel in project_files(job.shot, fields)}


def _portable(e: BaseException | None) -> BaseException | None:
    """An error as the client can receive it: itself when it survives pickling, else the nearest
    StoryboardError class with its message."""
    if e is None:
        return None
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:  # noqa: BLE001 - a class with its own __init__ arguments
        for cls in type(e).__mro__:
            if issubclass(cls, StoryboardError) and cls.__init__ is StoryboardError.__init__:
                return cls(str(e))
        return StoryboardError(str(e))


class _ReportingPurse(Purse):
    """A worker's purse: every payment is sent to the client as it happens."""

    def __init__(self, budget: Budget, held: float, refuse_new: str, send: Callable[[dict], None]):
        super().__init__(budget, held, refuse_new)
        self._send = send

    def paid(self, amount: float, job_id: str, earlier: bool = False) -> None:
        new = job_id not in self._paid
        super().paid(amount, job_id, earlier)
        if new:
            self._send({"paid": [job_id, amount, earlier]})

    def not_charged(self, job_id: str) -> None:
        super().not_charged(job_id)
        self._send({"not_charged": job_id})


def render_task(payload: dict) -> dict:
    """One shot on a worker: its request's claim, the journal, the provider, the upload. Returns
    what the client needs to make the Outcome (no objects bound to this process)."""
    from distributed import get_worker

    from storyboard import catalog
    from storyboard.backends.base import create
    worker = get_worker()
    token = payload["token"]

    def send(msg: dict) -> None:
        worker.log_event(TOPIC, {"token": token, **msg})

    cache = _open(payload["cache"])
    backend = create(catalog.get(payload["backend"]), cache)
    folder = Path(tempfile.mkdtemp(prefix="storyboard-assets-"))
    done = threading.Event()
    from distributed import Event as DaskEvent
    from distributed import get_client
    stop = DaskEvent(payload["stop"], client=get_client())  # made in the task's thread, where its client is
    threading.Thread(target=_stop_when_asked, args=(stop, backend, done), daemon=True).start()
    try:
        for rel, data in payload["files"].items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        job: RenderJob = payload["job"]
        renderer = Renderer(Plan(payload["backend"], [job]), backend, cache, lambda rel: folder / rel, 1,
                            Budget(payload["held"] if payload["capped"] else None),
                            on_event=lambda e: send({"event": [e.shot, e.state, e.percent, e.message]}),
                            continued={job.shot.id} if payload["continued"] else set())
        renderer.budget.run = payload["run"]  # jobs this run's other attempts paid are spent in this run
        purse = _ReportingPurse(renderer.budget, payload["held"], payload["refuse_new"], send)
        renderer.budget.reserved = payload["held"]
        prev = cache.get(payload["prev"]) if payload["prev"] else None
        outcome = renderer._render_one(job, prev, purse, payload["damage"])
    finally:
        done.set()
        backend.close()
        shutil.rmtree(folder, ignore_errors=True)
    return {"status": outcome.status, "key": outcome.entry.key if outcome.entry else None,
            "reason": outcome.reason, "warnings": outcome.warnings, "error": _portable(outcome.error),
            "paid": [[j, a, e] for j, (a, e) in purse._paid.items()], "worker": worker.address}


def _stop_when_asked(stop, backend, done: threading.Event) -> None:
    """The client was stopped (Ctrl-C): the task leaves its waits at once, as a local run's threads
    do; its jobs stay in the journal for the next run. Only an explicit stop cancels: a scheduler
    that does not answer a poll is asked again."""
    while not done.wait(0.5):
        try:
            if stop.is_set():
                backend.cancel()
                return
        except Exception:  # noqa: BLE001 - no answer this time
            continue


class ClusterRenderer(Renderer):
    """The Renderer whose shots are made by Dask tasks; everything else stays on the client."""

    def __init__(self, *args, client: Any, key_extra=None, **kw):
        super().__init__(*args, **kw)
        self.client = client
        self.key_extra = key_extra
        self._purses: dict[str, Purse] = {}
        self._paying = threading.Lock()
        from distributed import Event as DaskEvent
        self.stop_name = f"storyboard-stop-{uuid.uuid4().hex}"
        self._stop_event = DaskEvent(self.stop_name, client=client)  # events and results report the same payments: one at a time
        client.subscribe_topic(TOPIC, self._on_message)

    def run(self) -> dict[str, Outcome]:
        try:
            return super().run()
        finally:
            self.client.unsubscribe_topic(TOPIC)

    def _on_message(self, event: tuple) -> None:
        _, msg = event
        if "event" in msg:
            shot, state, percent, message = msg["event"]
            self.emit(shot, state, percent, message)
            return
        with self._paying:
            purse = self._purses.get(msg.get("token", ""))
            if "paid" in msg and purse is not None:
                job_id, amount, earlier = msg["paid"]
                purse.paid(amount, job_id, earlier)
            elif "not_charged" in msg and purse is not None:
                purse.not_charged(msg["not_charged"])

    def _locked(self, job: RenderJob, prev: Entry | None, report, purse: Purse, damage: str | None) -> Outcome:
        token = uuid.uuid4().hex
        self._purses[token] = purse
        payload = {"token": token, "stop": self.stop_name, "run": self.budget.run, "job": job, "prev": prev.key if prev else None, "damage": damage,
                   "continued": job.shot.id in self._continued,
                   "held": purse.held, "capped": self.budget.max_cost is not None, "refuse_new": purse.refuse_new, "backend": self.backend.caps.name,
                   "cache": cache_spec(self.cache), "files": shot_files(job, self.asset, self.key_extra)}
        future = self.client.submit(render_task, payload, pure=False, key=f"shot-{job.shot.id}-{token[:8]}")
        finished = threading.Event()
        future.add_done_callback(lambda _: finished.set())
        try:
            # waited for by a callback, not result(timeout=...): under load, distributed's sync() can
            # lose the result of a wait that timed out on its loop (UnboundLocalError: 'result')
            while not finished.wait(0.2):
                if self._stop.is_set():
                    with contextlib.suppress(Exception):
                        self._stop_event.set()
                    future.cancel()
                    raise KeyboardInterrupt
            try:
                got = future.result()
            except Exception as e:  # noqa: BLE001 - the task died (KilledWorker after retries): this shot fails
                reason = f"its task failed on the cluster ({type(e).__name__}: {e}); run again to re-attach"
                self.emit(job.shot.id, "failed", message=reason)
                return Outcome(job, "failed", reason=reason)
            self._settle(purse, got)
        finally:
            with self._paying:
                self._purses.pop(token, None)
        error = got["error"]
        if error is not None and isinstance(error, Exception):
            from storyboard.renderer import FATAL
            if isinstance(error, FATAL):
                with self._lock:
                    self.fatal = self.fatal or error
        entry = self.cache.get(got["key"]) if got["key"] else None
        if got["key"] and entry is None:
            reason = "its clip was made on the cluster but is not in the shared cache"
            return Outcome(job, "failed", reason=reason)
        return Outcome(job, got["status"], entry, reason=got["reason"], error=error, warnings=got["warnings"])

    def _settle(self, purse: Purse, got: dict) -> None:
        """Every payment the task reports (events may have told some already). A job an attempt of
        this task paid for before its worker died is re-attached as this run's spend (the journal
        names the run that submitted it), so it is counted once, and as spent now."""
        with self._paying:
            for job_id, amount, earlier in got["paid"]:
                purse.paid(amount, job_id, earlier)
