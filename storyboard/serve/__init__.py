"""`storyboard serve FILE`: the review room, a local web app over the pipeline (see room.py for what
it does, app.py for how it is guarded). Needs the `serve` extra: starlette, uvicorn, watchfiles."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from storyboard.errors import UsageError

LOOPBACK = "127.0.0.1"


def serve(file: str | Path, port: int = 8765, host: str | None = None, backend: str | None = None,
          say: Callable[[str], None] = print, ready: Callable[[str], None] = lambda url: None) -> int:
    """Serve the review room until Ctrl-C. One room per storyboard: a second is refused, naming the first."""
    try:
        import starlette  # noqa: F401 - the extra, asked for before anything else is done
        import uvicorn
        import watchfiles  # noqa: F401
    except ImportError as e:
        raise UsageError(f"the review room needs its extra ({e.name} is not installed): "
                         "pip install 'storyboard[serve]'") from None

    from storyboard import pipeline
    from storyboard.serve.app import Hub, create_app
    from storyboard.serve.room import Room
    from storyboard.serve.watch import Watcher
    from storyboard.store.files import folder_lock

    file = Path(file)
    pipeline.prepare(file, backend)  # a storyboard with errors says so here, as `validate` does, before anything
    out = pipeline.default_out(file.resolve())
    sock = _bind(host or LOOPBACK, port)
    bound_port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    shown_host = host or LOOPBACK
    url = f"http://{'[' + shown_host + ']' if ':' in shown_host else shown_host}:{bound_port}/"
    hosts = None if host else {f"{h}:{bound_port}" for h in ("127.0.0.1", "localhost", "[::1]")}
    busy = (f"a review room is already open for {file.name} (another `storyboard serve` holds "
            f"{out / '.storyboard-serve.lock'}); use its page, or stop it first")
    with folder_lock(out, ".storyboard-serve.lock", busy):
        hub = Hub()
        room = Room(file, backend, publish=hub.publish, log=lambda m: say(m.rstrip()))
        room.token, room.embed_token = token, host is None
        config = uvicorn.Config(None, log_level="warning", timeout_graceful_shutdown=2, lifespan="off")
        server = uvicorn.Server(config)
        config.app = create_app(room, hub, token, hosts, stopping=lambda: server.should_exit)
        watcher = Watcher(room)
        room.start()
        watcher.start()
        say(f"review room for {file.name}: {url}" + (f"?token={token}" if host else ""))
        if host:
            say(f"listening on {host}: writes (pins, notes, renders) need the token above; share that address only "
                "with the people reviewing")
        say("Ctrl-C stops it (a running render stops and resumes where it was on the next start)")
        ready(url)
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn stops serving, then raises the Ctrl-C again: stopping is the point
            pass
        finally:
            watcher.stop()
            room.stop(wait=2.0)  # a render still running is left to the cache: the next start resumes it
            sock.close()
    say("review room closed")
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port (0: any free one)") from None
    sock.listen(64)
    sock.setblocking(False)
    return sock

