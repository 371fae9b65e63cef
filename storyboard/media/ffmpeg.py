"""Run ffmpeg: commands are built as data (ffmpeg-python graphs) in media/ and run here, in one place.

A command never carries a filter graph or a list of files in its argv (the OS caps one argument at
128 KiB and all of them at a few MiB): graphs and concat lists travel as `Script`s, written to a
private temporary file just before ffmpeg starts and named on the command line instead."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import IO, Iterable

import ffmpeg as ffmpeg_python  # ffmpeg-python: graphs as data, with ffmpeg's two levels of escaping

from storyboard.catalog import child_env
from storyboard.errors import MediaError

SAFE = {"protocol_whitelist": "file,pipe"}  # input options: a crafted file may not make ffmpeg read elsewhere

# Timeouts are sized to the work: a fixed allowance for starting and probing, plus seconds per second
# of media handled, for the slowest kind of work in the step. Generous (a machine shared by many jobs),
# so a timeout means ffmpeg hung, not that it was slow.
START_SECONDS = 60.0
SECONDS_PER_SECOND = {"encode": 10.0, "audio": 1.0, "copy": 0.2}


def timeout_for(media_seconds: float, work: str) -> float:
    """Seconds a step may take: `work` is "encode" (pictures encoded), "audio" (sound decoded, mixed,
    measured or encoded) or "copy" (packets copied)."""
    return START_SECONDS + max(0.0, media_seconds) * SECONDS_PER_SECOND[work]


@lru_cache(maxsize=1)
def exe() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (IMAGEIO_FFMPEG_EXE overrides)."""
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def _env() -> dict[str, str]:
    """No provider key reaches ffmpeg: every name a backend table lists in `env` is left out."""
    return child_env()


def safe_path(p: Path | str) -> str:
    """An absolute name, which ffmpeg cannot mistake for an option ('-x') or a protocol ('concat:')."""
    return os.path.abspath(p)


class FfmpegFailed(MediaError):
    """An ffmpeg step failed: the message names the step; `argv` is the command it ran."""

    def __init__(self, message: str, argv: list[str]):
        super().__init__(message)
        self.argv = argv


@dataclass(frozen=True)
class Script:
    """Text ffmpeg reads from a file (a filter graph, a concat list), written just before it runs."""

    text: str
    name: str = "graph.txt"


@dataclass(frozen=True)
class Command:
    """One ffmpeg run as data: its arguments (after the global options), what it does in words
    (for messages), and how long it may take."""

    args: tuple[str | Script, ...]
    what: str
    timeout: float
    loglevel: str = "error"  # "info" when the log is the result (loudness measurements)

    def scripts(self) -> list[Script]:
        return [a for a in self.args if isinstance(a, Script)]

    def script(self, name: str = "graph.txt") -> str:
        """The text of the script called `name` (for tests and messages)."""
        return next(s.text for s in self.scripts() if s.name == name)

    def argv(self, folder: Path | None = None) -> list[str]:
        """The full command line; scripts are named as files in `folder`."""
        names = {id(s): str(folder / f"{k}-{s.name}") if folder else f"<{s.name}>" for k, s in enumerate(self.scripts())}
        return [exe(), "-hide_banner", "-nostdin", "-nostats", "-y", "-loglevel", self.loglevel,
                *(names[id(a)] if isinstance(a, Script) else a for a in self.args)]


def compile(stream_spec, what: str, timeout: float, loglevel: str = "error") -> Command:
    """An ffmpeg-python output (or merged outputs) as a Command; its filter graph goes by file."""
    args: list = list(ffmpeg_python.get_args(stream_spec))
    if "-filter_complex" in args:
        i = args.index("-filter_complex")
        args[i:i + 2] = ["-/filter_complex", Script(args[i + 1])]  # "-/opt file": the option's value is read from file
    return Command(tuple(args), what, timeout, loglevel)


# -- what ffmpeg-python cannot express: concat lists, loopback decoders ----------------------------

@dataclass(frozen=True)
class ConcatEntry:
    """One line of a concat demuxer list: a file, optionally cut at `inpoint`/`outpoint` and given a
    `duration` (all in microseconds, ffmpeg's unit for them: exact integers, no decimal rounding)."""

    path: Path
    inpoint: int | None = None
    outpoint: int | None = None
    duration: int | None = None


def concat_script(entries: Iterable[ConcatEntry], name: str = "list.txt") -> Script:
    """A concat demuxer list, escaped: each name in single quotes, a quote in it as '\\''."""
    lines = ["ffconcat version 1.0"]
    for e in entries:
        path = safe_path(e.path)
        if "\n" in path or "\r" in path:
            raise MediaError(f"{path!r}: ffmpeg cannot list a file whose name holds a line break; rename it")
        lines.append("file '" + path.replace("'", "'\\''") + "'")
        lines += [f"{k} {v}us" for k, v in (("inpoint", e.inpoint), ("outpoint", e.outpoint),
                                           ("duration", e.duration)) if v is not None]
    return Script("\n".join(lines) + "\n", name)


def with_loopback(cmd: Command, stream: str, chain: str) -> Command:
    """`cmd` plus a loopback decoder: `stream` ("0:1": output file 0, its stream 1) as encoded is
    decoded again in the same run and fed through `chain` (a filter chain of our own constants, no
    user text) to a null output. What it prints (a measurement) lands in the run's log."""
    graph = Script(f"[dec:0]{chain}[loopback]", "loopback.txt")
    return replace(cmd, args=(*cmd.args, "-dec", stream, "-/filter_complex", graph, "-map", "[loopback]",
                              "-f", "null", "-"))


def concat_input(listing: Script, **kwargs):
    """An ffmpeg-python input reading a concat list of our own files (absolute names, files only)."""
    return ffmpeg_python.input(listing, f="concat", safe=0, protocol_whitelist="file", **kwargs)


# -- running ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    argv: list[str]
    log: str


# ffmpeg's status when a SIGINT, SIGTERM or SIGQUIT made it stop (it catches them, ends its files and
# exits 255; an error exits 1): the user's Ctrl-C, which our process has too, so it is told as one
STOPPED_BY_SIGNAL = 255


class Running:
    """An ffmpeg started (its scripts written to a private folder first) and not yet waited for.
    Use as a context manager: leaving it early (an error elsewhere) kills the process."""

    def __init__(self, cmd: Command, what: str | None = None, stdin: int | None = None,
                 stdout: IO[bytes] | None = None):
        self.what = what or cmd.what
        self.timeout = cmd.timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="storyboard-ffmpeg-")
        folder = Path(self._tmp.name)
        try:
            self.argv = cmd.argv(folder)
        except Exception as e:  # imageio-ffmpeg found no binary for this machine
            self._tmp.cleanup()
            raise MediaError(f"{self.what}: no ffmpeg binary ({e}); reinstall imageio-ffmpeg or set "
                             "IMAGEIO_FFMPEG_EXE to an ffmpeg executable") from None
        for k, script in enumerate(cmd.scripts()):
            (folder / f"{k}-{script.name}").write_text(script.text, encoding="utf-8")
        self.expired = False
        self._log = open(folder / "log", "w+b")  # a file, not a pipe: a chatty ffmpeg can never block on it
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL if stdin is None else stdin,
                                         stdout=stdout if stdout is not None else subprocess.DEVNULL,
                                         stderr=self._log, env=_env())
        except OSError as e:
            self._close()
            raise FfmpegFailed(f"{self.what}: cannot start ffmpeg: {_start_words(e, self.argv)}", self.argv) from None

    def _expire(self) -> None:
        self.expired = True
        self.proc.kill()

    @property
    def stdin(self) -> IO[bytes] | None:
        return self.proc.stdin

    def finish(self) -> Result:
        """Wait for it (closing its stdin first); the result, or FfmpegFailed naming the step."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        # a blocking wait with a timer to kill it: Popen.wait(timeout) polls, up to 50 ms late per process
        timer = threading.Timer(max(0.0, self.started + self.timeout - time.monotonic()), self._expire)
        timer.start()
        try:
            code = self.proc.wait()
        finally:
            timer.cancel()
        if self.expired:
            raise FfmpegFailed(f"{self.what}: ffmpeg took longer than {self.timeout:.0f}s, the limit for this much "
                               "media, and was stopped", self.argv)
        if code == STOPPED_BY_SIGNAL:  # Ctrl-C reaches every process of the terminal's group, ffmpeg too
            raise KeyboardInterrupt(f"{self.what}: ffmpeg was interrupted")
        self._log.seek(0)
        log = self._log.read().decode("utf-8", "replace")
        if code != 0:
            raise FfmpegFailed(f"{self.what} failed ({_exit_words(code)})" + (f":\n{_tail(log)}" if log.strip() else ""),
                               self.argv)
        return Result(self.argv, log)

    def _close(self) -> None:
        self._log.close()
        self._tmp.cleanup()

    def __enter__(self) -> "Running":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:  # left early: stop it
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        self._close()


def run(cmd: Command, what: str | None = None, stdout: IO[bytes] | None = None) -> Result:
    """Run one command (no shell) to its end. `stdout` receives what ffmpeg writes to pipe:1.
    Raises FfmpegFailed naming the step, with the tail of the log and the command."""
    with Running(cmd, what, stdout=stdout) as r:
        return r.finish()


def start(cmd: Command, what: str | None = None) -> Running:
    """Start a command that reads pipe:0 from us (`.stdin`); `.finish()` closes it and waits."""
    return Running(cmd, what, stdin=subprocess.PIPE)


def _start_words(e: OSError, argv: list[str]) -> str:
    """Why the operating system would not start ffmpeg, and what to do about it."""
    binary = argv[0]
    if e.errno == errno.ENOENT:
        return f"{binary} does not exist; reinstall imageio-ffmpeg or set IMAGEIO_FFMPEG_EXE to an ffmpeg executable"
    if e.errno in (errno.EACCES, errno.EPERM, errno.ENOEXEC):
        return (f"{binary} is not an executable this system may run ({e.strerror}); `chmod +x` it, reinstall "
                "imageio-ffmpeg, or set IMAGEIO_FFMPEG_EXE")
    if e.errno == errno.E2BIG:
        size = sum(len(a) + 1 for a in argv)
        return f"its command line is too long ({size} bytes in {len(argv)} arguments); this is a bug in storyboard"
    if e.errno in (errno.ENOMEM, errno.EAGAIN, errno.EMFILE, errno.ENFILE):
        return f"{e.strerror}: the machine is out of memory, processes or open files; close some programs and retry"
    return e.strerror or str(e)


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
