"""Nothing listening at the configured URL: the connection is refused, so nothing was sent and nothing
can have been paid; that is "no API at that URL" (exit 3), not "outcome unknown" (exit 7)
(issue 22, item 4)."""

from __future__ import annotations

import socket

from storyboard.cli import main


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_no_api_at_that_url(project, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    (project / "film.yaml").write_text("version: 1\nshots:\n  - {id: a, duration: 4, action: A door opens.}\n")
    assert main(["render", str(project / "film.yaml"), "--backend", "openai", "--yes"]) == 3
    said = capsys.readouterr().err
    assert "nothing was sent" in said and "OPENAI_BASE_URL" in said and "unknown" not in said
