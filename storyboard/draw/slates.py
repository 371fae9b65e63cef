"""Cards that stand in for a picture: a slate for a shot with no clip."""

from __future__ import annotations

from PIL import Image, ImageDraw

from storyboard.draw.fonts import Type, fitted


def draw_slate(number: int, shot_id: str, reason: str, width: int, height: int) -> Image.Image:
    """A card standing in for a shot with no clip: which shot, and why."""
    im = Image.new("RGB", (width, height), (22, 22, 26))
    d = ImageDraw.Draw(im)
    u = min(width, height) / 720
    title = f"SHOT {number}  {shot_id.upper()}"
    t_big, title = fitted(title, width * 0.9, 64 * u, 28 * u, bold=True)
    t_big.draw(d, (width / 2 - t_big.length(title) / 2, height * 0.3), title, (255, 255, 255))
    t = Type(28 * u)
    t.draw(d, (width / 2 - t.length("NO CLIP") / 2, height * 0.3 + t_big.line_height * 1.3), "NO CLIP", (255, 120, 100))
    for k, line in enumerate(t.wrap(reason, width * 0.8, 4)):
        t.draw(d, (width / 2 - t.length(line) / 2, height * 0.55 + k * t.line_height), line, (220, 220, 220))
    return im
