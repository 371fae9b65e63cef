"""The one exception tree of storyboard; the CLI maps each class to an exit status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem (or warning) found in a storyboard, with where it is."""

    file: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        tag = "" if self.severity == "error" else "warning: "
        return f"{where}: {tag}{self.message}"

    @staticmethod
    def at(file: str | Path, pos: tuple[int, int] | None, message: str, severity: str = "error") -> "Diagnostic":
        line, col = pos or (1, 1)
        return Diagnostic(str(file), line, col, message, severity)


class StoryboardError(Exception):
    """Base of every error storyboard raises on purpose."""

    exit_code = 3


class UsageError(StoryboardError):
    """The command line is wrong. Nothing was spent."""

    exit_code = 2


class FormatError(StoryboardError):
    """The storyboard is wrong: one or more diagnostics. Nothing was spent."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class BudgetExceeded(StoryboardError):
    """Rendering more would spend past --max-cost."""

    exit_code = 4


class QuotaError(StoryboardError):
    """The provider refused for quota, billing or spend limits: not retried."""

    exit_code = 5


class RetriesExhausted(StoryboardError):
    """A transient failure outlived its retries."""

    exit_code = 6


class AmbiguousSubmission(StoryboardError):
    """A paid create may or may not have been accepted and could not be reconciled."""

    exit_code = 7


class BackendError(StoryboardError):
    """A backend failed in a way that is not the user's storyboard."""

    exit_code = 3


class ShotBlocked(StoryboardError):
    """The provider refused one shot (moderation, a bad reference). Others go on."""

    exit_code = 1

    def __init__(self, shot_id: str, code: str, message: str, input_name: str = "prompt", charged: bool = True,
                 job_id: str | None = None):
        self.shot_id, self.code, self.provider_message, self.input_name = shot_id, code, message, input_name
        self.charged, self.job_id = charged, job_id
        super().__init__(f"shot '{shot_id}' was refused by the provider ({code}): {message} [input: {input_name}]")


class MediaError(StoryboardError):
    """ffmpeg or a media file failed."""

    exit_code = 3


class Locked(StoryboardError):
    """Another storyboard process is writing the same output folder."""

    exit_code = 8
