"""The hand-off folder: media named by shot, placed beside the exports (linked from the cache, else copied).

Naming and paths are pure; `place` and `prune` are the only file operations."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from storyboard.errors import UsageError
from storyboard.store.files import fsync_dir, temp_name

MEDIA = "media"  # the folder inside the output folder
REEL_LENGTH = 8  # CMX 3600 reel names


@dataclass(frozen=True)
class ShotFiles:
    """One shot's media, as paths relative to the output folder (always with forward slashes)."""

    stem: str  # 001_arrival_t2, or 001_arrival_slate for a shot that stands as a slate
    video: str  # media/<stem>.mp4
    sound: str  # media/<stem>.wav: the shot's sound as the cut uses it


def shot_files(number: int, shot_id: str, take: int | None) -> ShotFiles:
    """`number` counts from 1 in cut order; `take` is None for a slate."""
    stem = f"{number:03d}_{shot_id}_" + (f"t{take}" if take is not None else "slate")
    return ShotFiles(stem, f"{MEDIA}/{stem}.mp4", f"{MEDIA}/{stem}.wav")


def music_file(asset: str | Path) -> str:
    """The bed as used in the cut, named after the storyboard's music file."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", PurePosixPath(str(asset).replace("\\", "/")).stem).strip("-")
    return f"{MEDIA}/music_{name or 'bed'}.wav"


def reel_names(shot_ids: list[str]) -> list[str]:
    """One CMX reel name per shot (letters and digits, at most 8), from its id: the id itself
    when it fits and is unique, else its start followed by the shot's number."""
    clean = [re.sub(r"[^A-Za-z0-9]", "", s).upper() for s in shot_ids]
    fits = [c for c in clean if 0 < len(c) <= REEL_LENGTH]
    out: list[str] = []
    for n, c in enumerate(clean, start=1):
        if 0 < len(c) <= REEL_LENGTH and fits.count(c) == 1:
            out.append(c)
            continue
        num = str(n)
        name = c[:REEL_LENGTH - len(num)] + num
        while name in out or name in fits:
            num = "0" + num
            name = c[:REEL_LENGTH - len(num)] + num
        out.append(name)
    return out


_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\]+\\[^\\]+)")


def check_media_root(root: str | None) -> str | None:
    """--media-root must be an absolute folder on the editing machine (POSIX or Windows style)."""
    if root is None:
        return None
    if not (root.startswith("/") or _WINDOWS.match(root)):
        raise UsageError(f"--media-root {root!r} is not an absolute path; name the folder this output folder "
                         "will be in on the editing machine, e.g. --media-root /Volumes/Edit/keeper "
                         "or --media-root 'D:\\Edit\\keeper'")
    return root


def url(rel: str, media_root: str | None = None) -> str:
    """How an export names a file of the output folder: relative to that folder, or with
    `media_root` as an absolute file URL on the machine where the folder will be."""
    if media_root is None:
        return rel
    base = PureWindowsPath(media_root) if _WINDOWS.match(media_root) else PurePosixPath(media_root)
    return base.joinpath(*rel.split("/")).as_uri()


def place(src: Path, dst: Path) -> str:
    """Put `src` at `dst` as a hard link (same file system: no copy, the cache stays the source of
    truth), else as a copy. Atomic: `dst` never exists half-written. Says which it did."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        if dst.exists() and os.path.samefile(src, dst):
            return "linked"
    except OSError:
        pass
    tmp = temp_name(dst)
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
        how = "linked"
    except OSError:  # another file system, or one without hard links
        try:
            shutil.copyfile(src, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        except OSError as e:  # a full disk or a quota here: this file's problem, not the cache's it is read from
            tmp.unlink(missing_ok=True)
            raise OSError(e.errno, e.strerror or str(e), str(dst)) from None
        how = "copied"
    os.replace(tmp, dst)
    fsync_dir(dst.parent)
    return how


# what `place` and the stems write into media/, and the temporary names they use on the way
_OURS = re.compile(r"^(?:\d{3,}_.+_(?:t\d+|slate)\.(?:mp4|wav)|music_.+\.wav|\..+\.\d+\.part\.(?:mp4|wav))$")


def prune(media_dir: Path, keep: set[str]) -> list[str]:
    """Remove files we made for an earlier cut (an old take, a slate since rendered) so the
    folder holds what the exports name; anything else in it is left alone."""
    gone = []
    if not media_dir.is_dir():
        return gone
    for f in sorted(media_dir.iterdir()):
        if f.is_file() and f.name not in keep and _OURS.match(f.name):
            f.unlink(missing_ok=True)
            gone.append(f.name)
    return gone
