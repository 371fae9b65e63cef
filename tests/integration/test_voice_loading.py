"""The scratch voice (piper and onnxruntime, about 100 MB) is loaded once per process, lazily, and
only when a line is voiced: importing storyboard, planning, and rendering a film without dialogue
never load it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SILENT = """
version: 1
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
