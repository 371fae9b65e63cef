"""What the compiler and planner derive from a storyboard: requests a backend can render."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from storyboard.model.storyboard import dimensions


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputReference(_Frozen):
    """The image a shot starts from: a file of the project, or the previous shot's last frame."""

    kind: Literal["file", "previous_last_frame"]
    path: str | None = None  # project-root-relative, for kind == "file"
    shot: str | None = None  # the shot whose last frame, for kind == "previous_last_frame"


class CharacterUse(_Frozen):
    """How a character's identity reaches the backend: a native character, a reference image, or words."""

    id: str
    name: str
    identity: Literal["native", "reference", "words"]
    source: str | None = None  # the cameo video or reference image


class Line(_Frozen):
    speaker: str  # the character id
    name: str  # as said in prompts and subtitles
    text: str
    delivery: str = ""
    heard_not_seen: bool = False


class CompiledShot(_Frozen):
    """One shot, compiled: its prompt and every parameter a backend needs to render it."""

    id: str
    index: int
    prompt: str
    duration: float  # seconds in the cut
    seconds: float  # seconds asked of the backend (rounded up to what it makes)
    segments: list[float]  # the first job, then extensions
    size: str  # what the backend is asked to make (its size nearest the film's frame)
    model: str
    backend: str
    fps: int
    input_reference: InputReference | None = None
    reference_images: list[str] = []  # for backends that take subject references
    keyframes: list[str] = []  # images the clip passes through, for models that take them
    characters: list[CharacterUse] = []
    depends_on: list[str] = []
    dialogue: list[Line] = []
    warnings: list[str] = []
    delivery: str = ""  # the film's size, which the cut conforms the clip to ("" : the same as `size`)

    @property
    def delivered(self) -> str:
        return self.delivery or self.size

    @property
    def dimensions(self) -> tuple[int, int]:
        return dimensions(self.size)

    def request(self) -> dict:
        """Every input that shapes the rendered clip (for the cache key), and nothing else."""
        return self.model_dump(include={"prompt", "seconds", "segments", "size", "model", "backend",
                                        "input_reference", "reference_images", "characters", "fps"}
                               | ({"keyframes"} if self.keyframes else set()))
