"""The ffmpeg runner against real processes: a hang is stopped at its time limit, a binary that
cannot start is named for what it is, and a failure carries the command it ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.media import assemble
from storyboard.media import ffmpeg as media_ffmpeg
from storyboard.media.ffmpeg import Command, FfmpegFailed, Script

pytestmark = pytest.mark.integration


def fake_ffmpeg(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(media_ffmpeg, "exe", lambda: str(path))


def test_a_hung_ffmpeg_is_stopped_at_its_time_limit(tmp_path, monkeypatch):
    hang = tmp_path / "ffmpeg"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")
    hang.chmod(0o755)
    fake_ffmpeg(monkeypatch, hang)
    cmd = Command(("-i", "x"), "a hanging step", timeout=0.3)
    with pytest.raises(FfmpegFailed, match="a hanging step: ffmpeg took longer than 0s"):
        media_ffmpeg.run(cmd)


@pytest.mark.parametrize("make,words", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_text("not a program"), "not an executable"),
])
def test_a_binary_that_cannot_start_is_named(tmp_path, monkeypatch, make, words):
    binary = tmp_path / "ffmpeg"
    make(binary)
    fake_ffmpeg(monkeypatch, binary)
    with pytest.raises(FfmpegFailed, match=f"conforming a.mp4: cannot start ffmpeg: {binary}.*{words}"):
        media_ffmpeg.run(assemble.conform_cmd(tmp_path / "a.mp4", tmp_path / "b.mp4", 32, 18, 24, 24, True))


def test_a_failure_carries_its_command_and_the_end_of_the_log(tmp_path):
    cmd = assemble.conform_cmd(tmp_path / "missing.mp4", tmp_path / "out.mp4", 32, 18, 24, 24, True)
    with pytest.raises(FfmpegFailed) as e:
        media_ffmpeg.run(cmd)
    assert str(e.value).startswith("conforming missing.mp4 failed (ffmpeg exit") and "No such file" in str(e.value)
    assert e.value.argv[0] == media_ffmpeg.exe() and str(tmp_path / "missing.mp4") in e.value.argv
    assert e.value.argv[e.value.argv.index("-/filter_complex") + 1].endswith("graph.txt")


def test_scripts_are_written_for_the_run_and_removed_after(tmp_path):
    seen = []
    real = media_ffmpeg.Running.__init__

    def spy(self, cmd, *a, **k):
        real(self, cmd, *a, **k)
        seen.append(Path(self.argv[self.argv.index("-/filter_complex") + 1]))
        assert seen[-1].read_text() == cmd.script()
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(media_ffmpeg.Running, "__init__", spy)
    try:
        cmd = media_ffmpeg.compile(__import__("ffmpeg").input("color=c=red:s=32x18:d=0.1", f="lavfi").video
                                   .filter("hflip").output(str(tmp_path / "o.png"), **{"frames:v": 1}), "a still", 60)
        media_ffmpeg.run(cmd)
    finally:
        monkeypatch.undo()
    assert (tmp_path / "o.png").exists() and not seen[0].exists()
    assert isinstance(cmd.args[cmd.args.index("-/filter_complex") + 1], Script)
