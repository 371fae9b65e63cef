"""The review room's web app (Starlette): the page, its files, server-sent events, and four writes.

Safety, in the order a request meets it:
- on loopback (the default) a request must name this server as its Host (no DNS rebinding);
- a write is a POST of JSON whose Origin is this server's and which carries the room's token
  (a header no other site can set or read): another site in the same browser cannot pin, note or
  spend; with --host the page does not carry the token, the printed address does;
- files come only from the output folder, by their real path (no `..`, no dotfiles, no symbolic
  link out); the page cannot be framed by another site (clicks cannot be stolen)."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from storyboard.errors import StoryboardError
from storyboard.serve.room import Room

HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
TOKEN_HEADER = "x-storyboard-token"


class Hub:
    """The pages listening for events: each a queue on the server's loop; `publish` may be called from
    any thread (the room's worker)."""

    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: set[asyncio.Queue] = set()

    def publish(self, event: dict) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        for q in list(self.queues):
            loop.call_soon_threadsafe(q.put_nowait, event)


def create_app(room: Room, hub: Hub, token: str, hosts: set[str] | None,
               stopping: Callable[[], bool] = lambda: False) -> Starlette:
    """`hosts`: the Host values accepted (None: any, when listening beyond loopback)."""

    def refused(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=HEADERS)

    def host_ok(request: Request) -> bool:
        return hosts is None or request.headers.get("host", "") in hosts

    def write_refusal(request: Request) -> JSONResponse | None:
        host = request.headers.get("host", "")
        origin = request.headers.get("origin")
        if origin is None or origin != f"http://{host}":
            return refused(403, "refused: a write must come from the review room's own page (Origin)")
        if not hmac.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            return refused(403, "refused: a write needs the room's token (open the address `storyboard serve` printed)")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return refused(415, "refused: a write is JSON")
        return None

    async def page(request: Request) -> Response:
        if not host_ok(request):
            return PlainTextResponse("unknown host", status_code=421)
        return HTMLResponse(room.html, headers=HEADERS)

    async def state(request: Request) -> Response:
        if not host_ok(request):
            return PlainTextResponse("unknown host", status_code=421)
        return JSONResponse(room.state(), headers=HEADERS)

    async def events(request: Request) -> Response:
        if not host_ok(request):
            return PlainTextResponse("unknown host", status_code=421)
        hub.loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()
        hub.queues.add(q)

        async def stream():
            try:
                yield f"event: status\ndata: {json.dumps({'kind': 'status', **room.state()})}\n\n"
                quiet = 0.0
                while not stopping():  # looked at twice a second, so Ctrl-C never waits on a page
                    try:
                        event = await asyncio.wait_for(q.get(), timeout=0.5)
                    except TimeoutError:
                        quiet += 0.5
                        if quiet >= 15:
                            quiet = 0.0
                            yield ": \n\n"  # a comment: keeps proxies and the connection awake
                        continue
                    quiet = 0.0
                    yield f"event: {event.get('kind', 'status')}\ndata: {json.dumps(event)}\n\n"
            finally:
                hub.queues.discard(q)
        return StreamingResponse(stream(), media_type="text/event-stream", headers=HEADERS)

    async def files(request: Request) -> Response:
        if not host_ok(request):
            return PlainTextResponse("unknown host", status_code=421)
        path = served_file(room.out, request.path_params["path"])
        if path is None:
            return PlainTextResponse("not found", status_code=404, headers=HEADERS)
        return FileResponse(path, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    async def write(request: Request, act) -> Response:
        if not host_ok(request):
            return PlainTextResponse("unknown host", status_code=421)
        if (no := write_refusal(request)) is not None:
            return no
        try:
            body = await request.json()
        except ValueError:
            return refused(400, "the body is not JSON")
        if not isinstance(body, dict):
            return refused(400, "the body is a JSON object")
        try:
            said = await asyncio.to_thread(act, body)
        except StoryboardError as e:
            from storyboard.pinning import Changed
            return refused(409 if isinstance(e, Changed) else 400, str(e))
        except (KeyError, TypeError, ValueError) as e:
            return refused(400, f"a field is missing or of the wrong kind: {e}")
        said, version = said if isinstance(said, tuple) else (said, None)
        return JSONResponse({"ok": True, "said": said or "", "version": version}, headers=HEADERS)

    def pin(body: dict) -> str:
        take = body["take"]
        if take is not None and (isinstance(take, bool) or not isinstance(take, int)):
            raise TypeError("take is a number or null")
        name, version = room.pin(str(body["shot"]), take, str(body["version"]))
        said = f"{body['shot']}: " + (f"take {take} pinned in {name}" if take else f"unpinned in {name}") + "; cutting"
        return said, version  # the page's version moves with its own write

    def note(body: dict) -> str:
        room.note(str(body["shot"]), str(body["text"]), str(body.get("author") or ""))
        return "note saved"

    def status(body: dict) -> str:
        room.set_status(str(body["shot"]), str(body["status"]))
        return "status saved"

    def render(body: dict) -> str:
        room.render_paid(float(body["price"]))
        return "rendering"

    async def on_pin(request: Request) -> Response:
        return await write(request, pin)

    async def on_note(request: Request) -> Response:
        return await write(request, note)

    async def on_status(request: Request) -> Response:
        return await write(request, status)

    async def on_render(request: Request) -> Response:
        return await write(request, render)

    return Starlette(routes=[
        Route("/", page), Route("/state", state), Route("/events", events),
        Route("/api/pin", on_pin, methods=["POST"]), Route("/api/note", on_note, methods=["POST"]),
        Route("/api/status", on_status, methods=["POST"]), Route("/api/render", on_render, methods=["POST"]),
        Route("/{path:path}", files),
    ])


def served_file(root: Path, rel: str) -> Path | None:
    """`rel` under `root` when it is a plain file there by its real path: no `..`, no hidden names
    (locks, markers, work folders), no symbolic link anywhere on the way."""
    parts = Path(rel).parts
    if not parts or any(p in ("", ".", "..") or p.startswith(".") or "\\" in p for p in parts):
        return None
    base = root.resolve()
    target = (base / rel)
    try:
        real = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real != target or not real.is_relative_to(base) or not real.is_file():
        return None
    return real
