"""The storyboard command: the only code that prints or exits."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from storyboard import __version__
from storyboard.errors import FormatError, StoryboardError, UsageError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fmt_time(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}" if m else f"{s:.1f}s"


def cmd_validate(args: argparse.Namespace) -> int:
    from storyboard.loader import load
    status = 0
    for f in args.files:
        try:
            loaded = load(f)
        except FormatError as e:
            for d in e.diagnostics:
                err.print(str(d), markup=False)
            err.print(f"{f}: {len(e.diagnostics)} problem{'s' * (len(e.diagnostics) != 1)}", markup=False)
            status = 2
            continue
        sb = loaded.storyboard
        out.print(f"[bold]{f}[/]: valid", end="")
        out.print(f" - {sb.title!r}" if sb.title else "", markup=False)
        out.print(f"  {len(sb.shots)} shots, running time {_fmt_time(sb.running_time)} "
                  f"at {sb.defaults.size}, {sb.defaults.model}", markup=False)
        for cid in sb.characters:
            shots = [s.id for s in sb.shots if cid in s.characters or any(d.speaker == cid for d in s.dialogue)]
            out.print(f"  character {sb.character_name(cid)} ({cid}): {', '.join(shots) or 'in no shot'}", markup=False)
        for lid, loc in sb.locations.items():
            shots = [s.id for s in sb.shots if s.location == lid]
            when = ", ".join(x for x in (loc.time, loc.weather) if x)
            out.print(f"  location {lid}{f' ({when})' if when else ''}: {', '.join(shots) or 'in no shot'}", markup=False)
        if sb.music:
            out.print(f"  music: {sb.music}", markup=False)
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    from storyboard.schema import json_schema
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyboard", description="Turn a YAML storyboard into a finished cut.")
    p.add_argument("--version", action="version", version=f"storyboard {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("validate", help="check storyboards; exit 0, or 2 with FILE:LINE:COL messages")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("schema", help="print the JSON Schema of the format")
    s.set_defaults(func=cmd_schema)
    _more_commands(sub)
    return p


def _more_commands(sub) -> None:
    """Commands that need the pipeline; registered here so the parser is one place."""




def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except FormatError as e:
        for d in e.diagnostics:
            err.print(str(d), markup=False)
        return e.exit_code
    except StoryboardError as e:
        err.print(f"storyboard: {e}", markup=False)
        return e.exit_code
    except KeyboardInterrupt:
        err.print("storyboard: interrupted; run the same command again to resume", markup=False)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
