"""The command line's edges: a bug of ours is one line, a log file and a status of its own."""

from __future__ import annotations

from pathlib import Path

from storyboard import cli


def test_an_unexpected_error_is_one_line_and_a_log_file(monkeypatch, capsys, tmp_path):
    def broken(args):
        raise ZeroDivisionError("a bug in an export reading https://gw.example/v1?api-key=sk-secret")
    monkeypatch.setattr(cli, "cmd_models", broken)
    status = cli.main(["models"])
    captured = capsys.readouterr()
    assert status == 70 == cli.exit_code(ZeroDivisionError()) and status not in (0, 1, 2)
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("storyboard: unexpected error (ZeroDivisionError); details in ")
    assert line.endswith("; please report it") and "Traceback" not in captured.err
    log = Path(line.split("details in ")[1].split("; please")[0])
    assert log.is_file() and log.is_relative_to(tmp_path.parent.parent)  # the test's own state folder
    text = log.read_text()
    assert "Traceback" in text and "a bug in an export" in text and "command: storyboard models" in text
    assert "in broken" in text  # where it happened
    assert "sk-secret" not in text and "api-key=***" in text  # a key inside a message is not written


def test_two_crashes_keep_two_logs(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("again")
    monkeypatch.setattr(cli, "cmd_models", broken)
    logs = set()
    for _ in range(2):
        assert cli.main(["models"]) == 70
        logs.add(capsys.readouterr().err.split("details in ")[1].split("; please")[0])
    assert len(logs) == 2 and all(Path(p).is_file() for p in logs)  # the same second, still two files


def test_storyboard_errors_are_not_crashes(monkeypatch, capsys):
    from storyboard.errors import MediaError

    def failing(args):
        raise MediaError("ffmpeg failed on shot a")
    monkeypatch.setattr(cli, "cmd_models", failing)
    assert cli.main(["models"]) == 3
    assert "unexpected" not in capsys.readouterr().err


def test_serve_without_its_extra_says_how_to_install_it(monkeypatch, capsys, tmp_path):
    """`storyboard serve` without the serve extra gave 'unexpected error (ModuleNotFoundError)' and a
    crash log: a missing optional extra is the user's to install, named, as `identity` names its own."""
    import sys
    (tmp_path / "film.yaml").write_text("version: 1\nshots:\n  - {id: a, duration: 2, action: A pier.}\n")
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert cli.main(["serve", str(tmp_path / "film.yaml"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "uvicorn is not installed" in err and "pip install 'storyboard[serve]'" in err and "unexpected" not in err
