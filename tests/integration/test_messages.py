"""What the exports and messages say matches what the picture and the user said (issue 22, item 16)."""

from __future__ import annotations

from storyboard.cli import main

VO = """
version: 1
characters:
  ana: {name: Ana, description: a woman}
  ben: {name: Ben, description: a man}
shots:
  - id: one
    duration: 5
    characters: [ben]
    action: Ben reads a letter.
    dialogue:
      - ana: "(V.O.) I remember the sea."
      - ben: "So do I."
"""


def test_srt_keeps_the_voice_over_mark_the_burnt_in_line_shows(project):
    (project / "film.yaml").write_text(VO)
    assert main(["render", str(project / "film.yaml")]) == 0
    srt = (project / "film" / "final.srt").read_text()
    assert "ANA (V.O.): I remember the sea." in srt and "BEN: So do I." in srt
    assert "<v Ana (V.O.)>I remember the sea." in (project / "film" / "final.vtt").read_text()
