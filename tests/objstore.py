"""A fake S3 on 127.0.0.1 (moto's ThreadedMotoServer) for the shared-cache tests, reached the
real way: s3fs and botocore, credentials and endpoint from the standard AWS environment.

Real S3 evaluates `If-None-Match: *` and `If-Match` atomically with the write. moto checks the
condition and then writes, in whichever request thread, so two racing conditional writes could
both pass there; this server runs writes one at a time, which gives them S3's guarantee."""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class SerialWritesMoto(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serial(environ, start_response):
            if environ.get("REQUEST_METHOD") in ("PUT", "POST", "DELETE"):
                with lock:
                    return list(app(environ, start_response))
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, serial, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


@pytest.fixture(scope="session")
def moto_url():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = SerialWritesMoto(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def use_bucket(moto_url: str, monkeypatch, tmp_path: Path) -> str:
    """A fresh bucket made the configured cache (STORYBOARD_CACHE=s3://...), with its own local
    read-through folder; the cache URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    name = f"team-{uuid.uuid4().hex[:12]}"
    import s3fs
    s3fs.S3FileSystem().call_s3("create_bucket", Bucket=name)  # the instance the cache will use (made once)
    url = f"s3://{name}/storyboard"
    monkeypatch.setenv("STORYBOARD_CACHE", url)
    monkeypatch.setenv("STORYBOARD_CACHE_LOCAL", str(tmp_path / "scratch"))
    return url


@pytest.fixture
def bucket(moto_url, monkeypatch, tmp_path):
    return use_bucket(moto_url, monkeypatch, tmp_path)
