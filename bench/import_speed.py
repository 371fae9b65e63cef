"""Import a feature-length screenplay (the example repeated to about 120 pages) and print the time of
each step, the draft's size and the peak memory.

    python bench/import_speed.py [--pages 120]

Rows: reading the Fountain text (fountain-py), grouping it into scenes and beats, making the draft,
writing its YAML, and checking it with the loader (what `storyboard import` does before writing).
The same script as Final Draft XML is read too, for comparison."""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storyboard.importers import draft, fdx, fountain  # noqa: E402
from storyboard.stages.loader import load  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "screenplay" / "ferry.fountain"
WORDS_PER_PAGE = 180  # a screenplay page, roughly: a minute of screen time


def feature(pages: int) -> str:
    head, body = EXAMPLE.read_text().split("\n\n", 1)
    one = body.replace("#1#", "").replace("#2#", "").replace("#3#", "")
    copies = max(1, pages * WORDS_PER_PAGE // len(one.split()))
    return head + "\n\n" + "\n\n".join(one for _ in range(copies))


def as_fdx(sp) -> bytes:
    paras = []
    for sc in sp.scenes:
        paras.append(("Scene Heading", sc.heading))
        for b in sc.beats:
            if b.action:
                paras.append(("Action", b.action))
            for s in b.speeches:
                paras += [("Character", s.character), ("Dialogue", s.text)]
    body = "".join(f'<Paragraph Type="{t}"><Text>{escape(x)}</Text></Paragraph>\n' for t, x in paras)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<FinalDraft Version="5"><Content>\n{body}</Content></FinalDraft>\n'.encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=120)
    args = ap.parse_args()
    text = feature(args.pages)
    t0 = time.perf_counter()
    sp = fountain.parse(text, "feature.fountain")
    t1 = time.perf_counter()
    d = draft.build(sp, "feature.fountain")
    t2 = time.perf_counter()
    yaml_text = draft.render(d)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "feature.yaml").write_text(yaml_text)
        load(Path(tmp) / "feature.yaml")
    t4 = time.perf_counter()
    xml = as_fdx(sp)
    t5 = time.perf_counter()
    fdx.parse(xml, "feature.fdx")
    t6 = time.perf_counter()
    words = len(text.split())
    print(f"script: ~{words // WORDS_PER_PAGE} pages, {len(text) / 1024:.0f} KB Fountain, {len(xml) / 1024:.0f} KB FDX; "
          f"{len(sp.scenes)} scenes -> {len(d.shots)} shots, draft {len(yaml_text.encode()) / 1024:.0f} KB")
    print(f"read Fountain (fountain-py + beats) {t1 - t0:6.2f} s")
    print(f"make the draft                      {t2 - t1:6.2f} s")
    print(f"write YAML text                     {t3 - t2:6.2f} s")
    print(f"check it with the loader            {t4 - t3:6.2f} s")
    print(f"read the same script as FDX         {t6 - t5:6.2f} s")
    print(f"peak memory                         {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:6.0f} MB")


if __name__ == "__main__":
    main()
