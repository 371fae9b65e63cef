"""Camera moves acted out over a still: zoompan expressions built from numbers only (pure)."""

from __future__ import annotations


def _num(x: float) -> str:
    return f"{x:.5f}".rstrip("0").rstrip(".") if "." in f"{x:.5f}" else str(x)


def move_expressions(move: str, frames: int) -> tuple[str, str, str]:
    """(z, x, y) for ffmpeg's zoompan over `frames` output frames.

    x and y centre the window on (cx, cy), fractions of the scene; zoompan clamps to the image.
    Eased moves (dolly, pan, tilt, crane) start and land softly; zooms and trucks are linear."""
    last = max(frames - 1, 1)
    p = f"(on/{last})"
    e = f"({p}*{p}*(3-2*{p}))"
    z, cx, cy = "1", "0.5", "0.5"
    m = move
    if m == "dolly in":
        z = f"1+0.22*{e}"
    elif m == "dolly out":
        z = f"1.22-0.22*{e}"
    elif m == "zoom in":
        z = f"1+0.3*{p}"
    elif m == "zoom out":
        z = f"1.3-0.3*{p}"
    elif m in ("pan left", "pan right"):
        z, cx = "1.18", (f"0.58-0.16*{e}" if m == "pan left" else f"0.42+0.16*{e}")
    elif m in ("truck left", "truck right"):
        z, cx = "1.15", (f"0.57-0.14*{p}" if m == "truck left" else f"0.43+0.14*{p}")
    elif m in ("tilt up", "tilt down"):
        z, cy = "1.18", (f"0.58-0.16*{e}" if m == "tilt up" else f"0.42+0.16*{e}")
    elif m == "crane up":
        z, cy = f"1.18-0.06*{e}", f"0.6-0.2*{e}"
    elif m == "crane down":
        z, cy = f"1.12+0.06*{e}", f"0.4+0.2*{e}"
    elif m == "handheld":
        z = "1.1"
        cx = "0.5+0.008*sin(on*0.37)+0.005*sin(on*0.91+1)"
        cy = "0.5+0.006*sin(on*0.53+2)+0.004*sin(on*1.3)"
    elif m == "orbit":
        z, cx, cy = "1.15", f"0.5-0.07*cos(PI*{p})", f"0.5-0.03*sin(PI*{p})"
    elif m == "tracking":
        z, cx, cy = "1.15", f"0.43+0.14*{p}", "0.5+0.004*sin(on*0.6)"
    x = f"({cx})*iw-iw/zoom/2"
    y = f"({cy})*ih-ih/zoom/2"
    return z, x, y
