"""The storyboard command: the only code that prints or exits."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from storyboard import __version__
from storyboard.errors import (AmbiguousSubmission, BackendError, BudgetExceeded, FormatError, Locked, MediaError,
                               QuotaError, RetriesExhausted, ShotBlocked, SpendNotConfirmed, StoryboardError,
                               UsageError)

# Exit statuses, one table (README "Exit statuses"): the first class that matches wins.
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (FormatError, 2), (UsageError, 2),  # SpendNotConfirmed is a UsageError: nothing was spent
    (BudgetExceeded, 4), (QuotaError, 5), (RetriesExhausted, 6), (AmbiguousSubmission, 7), (Locked, 8),
    (ShotBlocked, 1), (BackendError, 3), (MediaError, 3), (StoryboardError, 3),
    (KeyboardInterrupt, 130), (OSError, 3),
]
DONE, INCOMPLETE = 0, 1


def exit_code(e: BaseException) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(e, cls))

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fmt_time(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}" if m else f"{s:.1f}s"


def cmd_validate(args: argparse.Namespace) -> int:
    from storyboard.loader import load
    from storyboard.pipeline import check
    status = 0
    for f in args.files:
        try:
            loaded = load(f)
            diags = check(loaded, args.backend)
            errors = [d for d in diags if d.severity == "error"]
            if errors:
                raise FormatError(errors)
        except FormatError as e:
            for d in e.diagnostics:
                err.print(str(d), markup=False)
            err.print(f"{f}: {len(e.diagnostics)} problem{'s' * (len(e.diagnostics) != 1)}", markup=False)
            status = 2
            continue
        _print_warnings(diags)
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


def cmd_render(args: argparse.Namespace) -> int:
    import time

    from rich.live import Live

    from storyboard.pipeline import prepare, render
    if args.max_cost is not None and args.max_cost < 0:
        raise UsageError("--max-cost must be zero or more dollars")
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    prep = prepare(args.file, args.backend)
    _print_warnings(prep.warnings)
    states: dict[str, tuple] = {}
    t0 = time.monotonic()
    steps: list[str] = []

    def table() -> Table:
        t = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for col in ("shot", "state", "", "elapsed", "spent"):
            t.add_column(col)
        for sid, (state, pct, msg, elapsed, spent) in states.items():
            colour = {"done": "green", "cached": "cyan", "failed": "red", "blocked": "red", "skipped": "yellow"}.get(state, "white")
            t.add_row(sid, f"[{colour}]{state}[/]", f"{pct:.0f}%" if pct is not None and state not in ("done", "cached") else (msg[:60] if msg else ""),
                      f"{elapsed:.1f}s", f"${spent:.2f}")
        if steps:
            t.add_row("[bold]cut[/]", steps[-1], "", f"{time.monotonic() - t0:.1f}s", "")
        return t

    def confirm(plan) -> bool:
        if args.yes:
            return True
        if not sys.stdin.isatty():
            return False
        _show_plan(plan, prep.loaded.storyboard.title or args.file)
        cap = f" (never more than ${args.max_cost:.2f})" if args.max_cost is not None else ""
        return out.input(f"spend up to ${plan.total:.2f}{cap}? [y/N] ").strip().lower() in ("y", "yes")

    quiet = not out.is_terminal
    with Live(table(), console=out, refresh_per_second=4, transient=False, auto_refresh=not quiet) as live:
        def on_event(e):
            states[e.shot] = (e.state, e.percent, e.message, e.elapsed, e.spent)
            if quiet and e.state in ("done", "cached", "failed", "blocked", "skipped"):
                err.print(f"{e.shot}: {e.state} {e.message} ({e.elapsed:.1f}s, ${e.spent:.2f} spent)".rstrip(), markup=False)
            live.update(table())

        def on_step(s):
            steps.append(s)
            if quiet:
                err.print(f"cut: {s}", markup=False)
            live.update(table())
        try:
            rendered, result = render(prep, Path(args.out) if args.out else None, select=args.shot,
                                      new_take=args.new_take, concurrency=args.concurrency, max_cost=args.max_cost,
                                      loudness=args.loudness, burn_subtitles=args.burn_subtitles, confirm=confirm,
                                      on_event=on_event, on_step=on_step, force=args.force)
        except SpendNotConfirmed as e:
            raise UsageError(f"{e}; pass --yes to spend it (see it first with `storyboard plan`)") from None
    for sid, o in rendered.outcomes.items():
        for w in o.warnings:
            err.print(f"{sid}: warning: {w}", markup=False, style="yellow")
        if o.entry is None:
            err.print(f"{sid}: {o.status}: {o.reason}", markup=False, style="red")
    made = sum(1 for o in rendered.outcomes.values() if o.status == "rendered")
    cached = sum(1 for o in rendered.outcomes.values() if o.status == "cached")
    out.print(f"{made} rendered, {cached} from the cache, ${rendered.spent:.2f} spent, "
              f"{time.monotonic() - t0:.1f}s. The cut: {result.files['final.mp4']}", markup=False)
    if rendered.stop is not None:  # a stop with its own status outranks "incomplete"
        err.print(f"storyboard: {rendered.stop}", markup=False)
        return exit_code(rendered.stop)
    if not rendered.complete:
        err.print("incomplete: some shots stand as slates in the cut", markup=False)
        return INCOMPLETE
    return DONE


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyboard", description="Turn a YAML storyboard into a finished cut.")
    p.add_argument("--version", action="version", version=f"storyboard {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("validate", help="check storyboards; exit 0, or 2 with FILE:LINE:COL messages")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--backend", "-b", metavar="B", help="check against this backend (default: the configured one)")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("schema", help="print the JSON Schema of the format")
    s.set_defaults(func=cmd_schema)
    _more_commands(sub)
    return p


def _more_commands(sub) -> None:
    """Commands that need the pipeline."""
    c = sub.add_parser("compile", help="the prompt and parameters of every shot")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--backend", "-b", metavar="B")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=cmd_compile)

    pl = sub.add_parser("plan", help="per shot: seconds asked, price, cache hit; spends nothing")
    pl.add_argument("file", metavar="FILE")
    pl.add_argument("--backend", "-b", metavar="B")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--shot", action="append", default=[], metavar="ID")
    pl.add_argument("--new-take", action="store_true")
    pl.set_defaults(func=cmd_plan)


    r = sub.add_parser("render", help="render what is not cached, then make the cut")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--backend", "-b", metavar="B")
    r.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it)")
    r.add_argument("--yes", "-y", action="store_true", help="spend without asking (paid backends)")
    r.add_argument("--max-cost", type=float, metavar="USD", help="never spend more than this")
    r.add_argument("--concurrency", type=int, metavar="N", help="shots rendered at once")
    r.add_argument("--shot", action="append", default=[], metavar="ID", help="render only these (and what they need)")
    r.add_argument("--new-take", action="store_true", help="a new take of the selected shots instead of the cache")
    r.add_argument("--loudness", type=float, default=-14.0, metavar="LUFS", help="integrated loudness target")
    r.add_argument("--burn-subtitles", action="store_true", help="burn the dialogue into the picture")
    r.add_argument("--force", action="store_true", help="write into an --out folder holding files storyboard did not write")
    r.set_defaults(func=cmd_render)


def _print_warnings(diags) -> None:
    for d in diags:
        err.print(str(d), markup=False, style="yellow")


def cmd_compile(args: argparse.Namespace) -> int:
    from storyboard.pipeline import prepare
    prep = prepare(args.file, args.backend)
    if args.json:
        shots = []
        for s in prep.shots:
            d = s.model_dump(exclude={"index", "segments", "backend", "fps", "dialogue"})
            d["segments"] = s.segments
            d["identity"] = {u.id: u.identity for u in s.characters}
            shots.append(d)
        doc = {"backend": prep.caps.name, "shots": shots,
               "warnings": [str(d) for d in prep.warnings]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    _print_warnings(prep.warnings)
    for s in prep.shots:
        out.rule(f"[bold]{s.index + 1}. {s.id}[/]  {s.duration:g}s in the cut, {s.seconds:g}s asked"
                 f"{' (' + ' + '.join(f'{x:g}' for x in s.segments) + ')' if len(s.segments) > 1 else ''}"
                 f"  {s.model} {s.size}", align="left")
        out.print(s.prompt.rstrip(), markup=False)
        facts = []
        if s.input_reference:
            ref = s.input_reference
            facts.append("starts from " + (f"the last frame of '{ref.shot}'" if ref.kind == "previous_last_frame" else ref.path))
        for u in s.characters:
            facts.append(f"{u.name}: " + {"native": f"native character from {u.source}",
                                          "reference": f"reference image {u.source}",
                                          "words": "described in words"}[u.identity])
        if s.reference_images:
            facts.append("subject references: " + ", ".join(s.reference_images))
        for f in facts:
            out.print(f"  [dim]-[/] {f}", markup=True, highlight=False)
        for w in s.warnings:
            out.print(f"  [yellow]warning:[/] {w}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from storyboard.pipeline import make_plan, prepare
    prep = prepare(args.file, args.backend)
    p = make_plan(prep, select=args.shot, new_take=args.new_take)
    if args.json:
        doc = {"backend": p.backend, "total": p.total, "total_text": f"${p.total:.2f}", "shots": [
            {"id": j.shot.id, "duration": j.shot.duration, "seconds": j.shot.seconds, "segments": j.shot.segments,
             "model": j.shot.model, "size": j.shot.size, "price_per_second": j.price_per_second,
             "cost": j.cost if j.selected else 0.0, "cache": "hit" if j.cached else "miss", "take": j.take,
             "selected": j.selected, "key": j.key} for j in p.jobs]}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    _print_warnings(prep.warnings)
    _show_plan(p, prep.loaded.storyboard.title or args.file)
    return 0


def _show_plan(p, title: str) -> None:
    """The plan as a table: what each shot asks for, costs, and whether the cache has it."""
    t = Table(title=f"plan: {title} on {p.backend}", title_justify="left")
    for col in ("shot", "in cut", "asked", "model", "size", "$/s", "cost", "cache", "take"):
        t.add_column(col, justify="right" if col in ("in cut", "asked", "$/s", "cost", "take") else "left")
    for j in p.jobs:
        if not j.selected:
            continue
        t.add_row(j.shot.id, f"{j.shot.duration:g}s", f"{j.shot.seconds:g}s", j.shot.model, j.shot.size,
                  f"{j.price_per_second:.2f}", f"${j.cost:.2f}", "hit" if j.cached else "miss", str(j.take))
    out.print(t)
    n = len(p.to_render)
    secs = sum(j.shot.seconds for j in p.to_render)
    out.print(f"to render: {n} shot{'s' * (n != 1)}, {secs:g}s of video; total [bold]${p.total:.2f}[/]")




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
        return exit_code(e)
    except StoryboardError as e:
        err.print(f"storyboard: {e}", markup=False)
        return exit_code(e)
    except KeyboardInterrupt as e:
        err.print("storyboard: interrupted; run the same command again to resume", markup=False)
        return exit_code(e)
    except BrokenPipeError:  # the reader of our output went away (`| head`): not an error of ours
        return DONE
    except OSError as e:  # disk full, a file-size limit, permissions: the machine's, not the storyboard's
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        err.print(f"storyboard: cannot read or write{where}: {e.strerror or e}; nothing under a final name "
                  "was left half-written; free the space or fix the permissions and run again", markup=False)
        return exit_code(e)


if __name__ == "__main__":
    raise SystemExit(main())
