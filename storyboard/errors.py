"""The one exception tree of storyboard; the CLI maps each class to an exit status.

    StoryboardError
      UsageError            the command line or a call is wrong; nothing spent
        SpendNotConfirmed   a paid render was not confirmed; nothing spent
      FormatError           the storyboard is wrong (diagnostics with file:line:col)
      Stop                  the run stopped for a reason of its own; shots after it were not rendered
        BudgetExceeded, QuotaError, RetriesExhausted, AmbiguousSubmission,
        BackendUnusable     (also a BackendError: credentials refused, no API at the URL)
        BackendUnusable     (also a BackendError) bad credentials, no API at the URL: no shot can work
      BackendError, MediaError, ShotBlocked, Locked
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem (or warning) found in a storyboard, with where it is."""

    file: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" | "warning"
    shot: str | None = field(default=None, compare=False)  # the shot it is about, if one: to group and file it

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        tag = "" if self.severity == "error" else "warning: "
        return f"{where}: {tag}{self.message}"

    @staticmethod
    def at(file: str | Path, pos: tuple[int, int] | None, message: str, severity: str = "error",
           shot: str | None = None) -> "Diagnostic":
        line, col = pos or (1, 1)
        return Diagnostic(str(file), line, col, message, severity, shot)


class StoryboardError(Exception):
    """Base of every error storyboard raises on purpose."""


class UsageError(StoryboardError):
    """The command line is wrong. Nothing was spent."""


class FormatError(StoryboardError):
    """The storyboard is wrong: one or more diagnostics. Nothing was spent."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class SpendNotConfirmed(UsageError):
    """A paid render needs a yes before anything is spent."""

    def __init__(self, backend: str, total: float):
        self.backend, self.total = backend, total
        super().__init__(f"rendering on {backend} costs ${total:.2f}; nothing was spent without a confirmation")


class Stop(StoryboardError):
    """The run stopped for a reason that has its own exit status; what was done is kept."""


class BudgetExceeded(Stop):
    """Rendering more would spend past --max-cost."""


class QuotaError(Stop):
    """The provider refused for quota, billing or spend limits: not retried."""


class RetriesExhausted(Stop):
    """A transient failure outlived its retries."""


class AmbiguousSubmission(Stop):
    """A paid create may or may not have been accepted and could not be reconciled."""


class BackendError(StoryboardError):
    """A backend failed in a way that is not the user's storyboard."""


class BackendUnusable(BackendError, Stop):
    """The backend cannot work for any shot (credentials refused, no API at the configured URL):
    the run stops rather than fail every shot alike."""


class ShotBlocked(StoryboardError):
    """The provider refused one shot (moderation, a bad reference). Others go on."""

    def __init__(self, shot_id: str, code: str, message: str, input_name: str = "prompt", charged: bool = True,
                 job_id: str | None = None):
        self.shot_id, self.code, self.provider_message, self.input_name = shot_id, code, message, input_name
        self.charged, self.job_id = charged, job_id
        super().__init__(f"shot '{shot_id}' was refused by the provider ({code}): {message} [input: {input_name}]")


class MediaError(StoryboardError):
    """ffmpeg or a media file failed."""


class Locked(StoryboardError):
    """Another storyboard process is writing the same output folder."""
