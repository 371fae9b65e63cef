"""Did the character stay the same person? Each rendered clip's faces against the characters' references.

The faces of a clip and of a reference are found once (dlib, the optional extra `storyboard[identity]`)
and kept in the cache by the file's digest; verdicts are worked out from them each time (pure, in
verdict.py), so a changed reference or cast never makes a clip be scored again. Without the extra,
what the cache already holds is still read; nothing new is scored."""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from storyboard.model.identity import ClipScore
from storyboard.store.cache import Cache
from storyboard.store.files import sha256_file

if TYPE_CHECKING:
    from storyboard.model.context import ShotContext
    from storyboard.model.jobs import Entry
    from storyboard.model.storyboard import Storyboard

INSTALL = "pip install 'storyboard[identity]'"
CLIPS, REFS = "identity", "identity-refs"  # cache record kinds
NOT_SCORED_BACKENDS = ("animatic",)  # drawings, not faces


def unavailable() -> str | None:
    """Why faces cannot be found here (the extra is not installed), or None when they can."""
    try:
        import dlib  # noqa: F401
    except ImportError as e:
        return f"the identity check needs dlib, from the optional extra: {INSTALL} ({e})"
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return f"the identity check needs face-recognition-models, from the optional extra: {INSTALL}"
    return None


# -- who is checked -----------------------------------------------------------------------------

_NOT_HUMAN = re.compile(r"\b(dog|dogs|puppy|cat|kitten|horse|pony|bird|parrot|owl|crow|gull|fish|animal|creature|"
                        r"robot|android|drone|machine|ship|boat|trawler|vessel|yacht|car|truck|train|plane|vehicle|voice|radio|computer|"
                        r"ghost|shadow|collie|terrier|wolf|fox|bear)\b", re.I)
_HUMAN = re.compile(r"\b(man|men|woman|women|boy|girl|child|kid|person|lady|gentleman|guy|he|she|her|his|"
                    r"mother|father|son|daughter|grandson|granddaughter|keeper|teen|teenager|human)\b", re.I)


def inferred_human(description: str) -> bool:
    """From a description's first clause: a dog, a ship or a voice has no face to compare, unless a
    person is named there too ("a man and his dog")."""
    head = re.split(r"[,;.]| with | who | wearing ", description, maxsplit=1)[0]
    return not (_NOT_HUMAN.search(head) and not _HUMAN.search(head))


def checked(sb: "Storyboard", cid: str) -> bool:
    """Is this character's face checked? `identity: false` opts out; left out, it is inferred."""
    c = sb.characters.get(cid)
    if c is None:
        return False
    if c.identity is not None:
        return c.identity
    return inferred_human(c.description)


def checked_references(root: Path, sb: "Storyboard", ctx: "ShotContext") -> list[Path]:
    """The reference files (stills, cameos) of a shot's on-screen characters whose faces are checked:
    none means the shot's clips are not worth scoring."""
    return [root / rel for c in ctx.on_screen if checked(sb, c.id) for rel in reference_files(sb, c.id)]


def reference_files(sb: "Storyboard", cid: str) -> list[str]:
    c = sb.characters.get(cid)
    return [p for p in (c.reference, c.cameo) if p] if c else []


# -- records in the cache -----------------------------------------------------------------------

def _name(sha: str) -> str:
    from storyboard.identity.faces import RECORD_VERSION
    return f"{sha}-v{RECORD_VERSION}"


@dataclass(frozen=True)
class Reference:
    """A character's reference faces: descriptors, and the still of the first (for the review page)."""

    character: str
    files: list[str]
    descriptors: list[list[float]]
    still: str  # base64 JPEG of a face, or ""
    faceless: list[str]  # files in which no face was found


def reference(root: Path, sb: "Storyboard", cid: str, cache: Cache, compute: bool = True) -> Reference | None:
    """A character's reference faces, from the cache or found now (when `compute` and the extra is
    there); None when nothing is known yet."""
    descs, still, faceless, known = [], "", [], False
    files = reference_files(sb, cid)
    for rel in files:
        path = root / rel
        try:
            sha = sha256_file(path)
        except OSError:
            continue
        rec = cache.record(REFS, _name(sha))
        if rec is None and compute and unavailable() is None:
            from storyboard.identity.faces import reference_record
            try:
                rec = reference_record(path)
            except Exception:  # noqa: BLE001 - a file that does not decode: the format checks say so, not this
                continue
            cache.save_record(REFS, _name(sha), rec)
        if rec is None:
            continue
        known = True
        if not rec.get("faces"):
            faceless.append(rel)
        for f in rec.get("faces", []):
            descs.append(f["emb"])
            still = still or f.get("still", "")
    return Reference(cid, files, descs, still, faceless) if known else None


def clip_sha(entry: "Entry") -> str:
    return entry.meta.get("clip_sha256") or sha256_file(entry.clip)


def clip_record(entry: "Entry", cache: Cache, compute: bool = True) -> dict | None:
    """The faces of a cached clip: from the identity records by the clip's digest, else found now
    (when `compute` and the extra is installed), else None."""
    name = _name(clip_sha(entry))
    rec = cache.record(CLIPS, name)
    if rec is None and compute and unavailable() is None:
        from storyboard.identity.faces import clip_record as find
        try:
            rec = find(entry.clip)
        except Exception:  # noqa: BLE001 - a clip that does not decode here is not scored (verify_clip decoded it)
            return None
        cache.save_record(CLIPS, name, rec)
    return rec


def scorable(entry: "Entry | None") -> bool:
    """A made clip of a backend that films faces (the animatic draws them)."""
    return entry is not None and entry.meta.get("backend") not in NOT_SCORED_BACKENDS


# -- scores ---------------------------------------------------------------------------------------

class Judge:
    """Scores clips of one storyboard, reading each character's reference once."""

    def __init__(self, root: Path, sb: "Storyboard", cache: Cache, compute: bool = True):
        self.root, self.sb, self.cache, self.compute = root, sb, cache, compute and unavailable() is None
        self._refs: dict[str, Reference | None] = {}

    def reference(self, cid: str) -> Reference | None:
        if cid not in self._refs:
            self._refs[cid] = reference(self.root, self.sb, cid, self.cache, self.compute) if checked(self.sb, cid) \
                else None
        return self._refs[cid]

    def cast(self, ctx: "ShotContext") -> list[tuple[str, str]]:
        """The on-screen characters of a shot whose faces are checked and known."""
        out = []
        for c in ctx.on_screen:
            ref = self.reference(c.id)
            if ref is not None and ref.descriptors:
                out.append((c.id, c.name))
        return out

    def score(self, entry: "Entry | None", ctx: "ShotContext", shot: str, take: int) -> ClipScore | None:
        """One clip's score; None when it is not scored (animatic, no checked character, not found yet)."""
        from storyboard.identity.verdict import judge
        if not scorable(entry):
            return None
        cast = self.cast(ctx)
        if not cast:
            return None
        rec = clip_record(entry, self.cache, self.compute)
        if rec is None:
            return None
        refs = {cid: self.reference(cid).descriptors for cid, _ in cast}
        return ClipScore(shot, take, entry.key, judge(rec["frames"], cast, refs, ctx.shot.camera.framing))

    def face_still(self, score: ClipScore, face: int | None) -> str:
        """The base64 JPEG of face number `face` of a scored clip ("" when not kept)."""
        if face is None:
            return ""
        rec = self.cache.record(CLIPS, _name(self._sha_of(score.key)))
        i = 0
        for fr in (rec or {}).get("frames", []):
            for f in fr.get("faces", []):
                if i == face:
                    return f.get("still", "")
                i += 1
        return ""

    def _sha_of(self, key: str) -> str:
        entry = self.cache.get(key)
        return clip_sha(entry) if entry else ""


# -- scoring alongside the renders ------------------------------------------------------------------

def _worker_start() -> None:
    try:
        os.nice(10)  # below the renders and downloads
    except OSError:
        pass


def _score_file(path: str) -> dict:
    from storyboard.identity.faces import clip_record as find
    return find(Path(path))


def _score_reference(path: str) -> dict:
    from storyboard.identity.faces import reference_record
    return reference_record(Path(path))


class Scorer:
    """Finds the faces of clips as they are made, and of the references they are checked against, in one
    low-priority process of its own (dlib holds the interpreter while it works, so a thread would slow
    the downloads; and the render's own process never loads dlib's models, a second and 100 MB); the
    render never waits for it. `wait()` collects what was sent. A no-op without the extra."""

    def __init__(self, cache: Cache):
        self.cache = cache
        self.enabled = unavailable() is None
        self._pool = None
        self._pending: dict[tuple[str, str], object] = {}  # (record kind, name) -> future
        self._references: set[Path] = set()  # reference files already looked at

    def submit(self, entry: "Entry", references: "list[Path]" = ()) -> None:
        """A clip to score, with the references of the characters it is checked for (each found once)."""
        if not self.enabled or not scorable(entry):
            return
        for path in references:
            if path in self._references:
                continue
            self._references.add(path)
            try:
                self._send(REFS, _name(sha256_file(path)), _score_reference, path)
            except OSError:  # a missing reference: the checks say so, not the scorer
                continue
        try:
            self._send(CLIPS, _name(clip_sha(entry)), _score_file, entry.clip)
        except OSError:
            return

    def _send(self, kind: str, name: str, work: Callable[[str], dict], path: Path) -> None:
        if (kind, name) in self._pending or self.cache.record(kind, name) is not None:
            return
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_start)
        self._pending[(kind, name)] = self._pool.submit(work, str(path))

    def wait(self, on_error: Callable[[str], None] = lambda msg: None) -> None:
        """Every clip sent is scored and recorded (a clip that cannot be read is left unscored, said once;
        a reference that cannot be read is left to the checks, which say so where it is named)."""
        for (kind, name), fut in list(self._pending.items()):
            try:
                self.cache.save_record(kind, name, fut.result())
            except Exception as e:  # noqa: BLE001 - a clip that cannot be scored is not the run's failure
                if kind == CLIPS:
                    on_error(f"a clip could not be scored for identity: {type(e).__name__}: {e}")
            del self._pending[(kind, name)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "Scorer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
