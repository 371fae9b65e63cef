"""Run ffmpeg: commands are built as argv lists (data) elsewhere and run here, in one place."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from storyboard.errors import MediaError

SECRET_ENV = ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "ANTHROPIC_API_KEY")
SAFE_INPUT = ["-protocol_whitelist", "file,pipe"]  # a crafted file may not make ffmpeg read elsewhere


@lru_cache(maxsize=1)
def exe() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (IMAGEIO_FFMPEG_EXE overrides)."""
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SECRET_ENV and not k.endswith("_API_KEY")}


def safe_path(p: Path | str) -> str:
    """An absolute name, which ffmpeg cannot mistake for an option ('-x') or a protocol ('concat:')."""
    return os.path.abspath(p)


@dataclass(frozen=True)
class Result:
    argv: list[str]
    stderr: str


def run(args: list[str], what: str = "ffmpeg", timeout: float | None = None) -> Result:
    """Run ffmpeg with `args` (no shell). Raises MediaError with the tail of its log."""
    argv = [exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
    try:
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(),
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise MediaError(f"{what}: ffmpeg took longer than {timeout:.0f}s") from None
    log = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise MediaError(f"{what} failed ({_exit_words(proc.returncode)})" + (f":\n{_tail(log)}" if log.strip() else ""))
    return Result(argv, log)


def _tail(log: str) -> str:
    return "\n".join(log.strip().splitlines()[-6:])


def _exit_words(code: int) -> str:
    """ffmpeg's exit status in words; a negative one is the signal that stopped it."""
    if code >= 0:
        return f"ffmpeg exit {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    hint = {"SIGXFSZ": ": a file-size limit or a full disk", "SIGKILL": ": killed (out of memory?)"}.get(name, "")
    return f"ffmpeg stopped by {name}{hint}"


def run_capture(args: list[str], what: str = "ffmpeg") -> str:
    """Run ffmpeg for its log (e.g. ebur128 / loudnorm measurements) at info level."""
    argv = [exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "info", *args]
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), check=False)
    log = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise MediaError(f"{what} failed ({_exit_words(proc.returncode)}):\n{_tail(log)}")
    return log
