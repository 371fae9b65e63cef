"""A loaded storyboard and where each of its parts was written (file, line, column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import Diagnostic
from storyboard.model.storyboard import Storyboard

if TYPE_CHECKING:  # a type only: the reader (stages.yamlsrc) produces it
    from storyboard.stages.yamlsrc import Source


@dataclass
class Positions:
    """Where each value and key of the merged storyboard was written: (file, line, col)."""

    values: dict[tuple, tuple[str, int, int]] = field(default_factory=dict)
    keys: dict[tuple, tuple[str, int, int]] = field(default_factory=dict)
    top: str = ""
    bare: dict[tuple, tuple[str, str]] = field(default_factory=dict)  # Source.bare, merged

    def add(self, src: Source, prefix: tuple = (), only: tuple = ()) -> None:
        for table, mine in ((src.values, self.values), (src.keys, self.keys)):
            for path, (line, col) in table.items():
                if only and (not path or path[0] not in only):
                    continue
                mine[prefix + path] = (src.file, line, col)
        self.bare.update({prefix + p: v for p, v in src.bare.items() if not only or p[0] in only})

    def of(self, path: tuple, key: bool = False) -> tuple[str, int, int]:
        p = tuple(path)
        while p:
            if key and p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (self.top, 1, 1))

    def diag(self, path: tuple, message: str, key: bool = False, severity: str = "error",
             shot: str | None = None) -> Diagnostic:
        f, line, col = self.of(path, key)
        return Diagnostic(f, line, col, message, severity, shot)


@dataclass(frozen=True)
class Loaded:
    """A storyboard with where it came from: its file, project root and the positions of its parts."""

    storyboard: Storyboard
    path: Path
    root: Path
    positions: Positions

    def asset(self, rel: str) -> Path:
        """A path from the storyboard (made root-relative by the loader) as a real file path."""
        return self.root / rel
