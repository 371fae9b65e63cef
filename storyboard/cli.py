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
        if any(s.take is not None for s in sb.shots):  # a pinned take must exist in the cache
            from storyboard.pipeline import pinned_take_problems
            problems = pinned_take_problems(f, args.backend)
            if problems:
                for d in problems:
                    err.print(str(d), markup=False)
                err.print(f"{f}: {len(problems)} problem{'s' * (len(problems) != 1)}", markup=False)
                status = 2
                continue
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
                                      new_take=args.new_take, takes=args.takes, concurrency=args.concurrency,
                                      max_cost=args.max_cost, loudness=args.loudness,
                                      burn_subtitles=args.burn_subtitles, confirm=confirm, on_event=on_event,
                                      on_step=on_step, media_root=args.media_root)
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
    out.print(f"review: {result.files['review.html']}", markup=False)
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
    pl.add_argument("--takes", type=int, default=1, metavar="N", help="price N takes of each selected shot")
    pl.set_defaults(func=cmd_plan)

    mo = sub.add_parser("models", help="every backend's models: lengths, sizes, references, sound, price")
    mo.add_argument("--backend", "-b", metavar="B", help="only this backend")
    mo.add_argument("--json", action="store_true")
    mo.set_defaults(func=cmd_models)


    r = sub.add_parser("render", help="render what is not cached, then make the cut")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--backend", "-b", metavar="B")
    r.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it)")
    r.add_argument("--yes", "-y", action="store_true", help="spend without asking (paid backends)")
    r.add_argument("--max-cost", type=float, metavar="USD", help="never spend more than this")
    r.add_argument("--concurrency", type=int, metavar="N", help="shots rendered at once")
    r.add_argument("--shot", action="append", default=[], metavar="ID", help="render only these (and what they need)")
    r.add_argument("--new-take", action="store_true", help="a new take of the selected shots instead of the cache")
    r.add_argument("--takes", type=int, default=1, metavar="N",
                   help="make takes 1..N of the selected shots (the cut uses the latest, or the pinned `take:`)")
    r.add_argument("--loudness", type=float, default=-14.0, metavar="LUFS", help="integrated loudness target")
    r.add_argument("--burn-subtitles", action="store_true", help="burn the dialogue into the picture")
    r.add_argument("--media-root", metavar="DIR", help="exports name media as DIR/media/... (DIR: this out folder, as the editor sees it)")
    r.set_defaults(func=cmd_render)
    _look_commands(sub)

    im = sub.add_parser("import", help="turn a Fountain (.fountain) or Final Draft (.fdx) screenplay into a "
                                       "storyboard draft that validates, with comments marking what to fill in")
    im.add_argument("script", metavar="SCRIPT", help="the screenplay: .fountain or .fdx")
    im.add_argument("-o", "--out", metavar="FILE", help="the storyboard to write (default: SCRIPT with .yaml)")
    im.add_argument("--scene", action="extend", nargs="+", default=[], metavar="N",
                    help="import only these scenes: their numbers as written (#12#), else their place in the script")
    im.add_argument("--bible", metavar="FILE", help="a series bible: reuse its character and location ids, and include it")
    im.add_argument("--merge", metavar="FILE", help="update this storyboard from the changed script, keeping your "
                                                    "edits (camera, duration, prompt...); prints what changed")
    im.add_argument("--force", action="store_true", help="replace an existing output file")
    im.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from storyboard.importers import run
    done = run(Path(args.script), Path(args.out) if args.out else None, args.scene,
               Path(args.bible) if args.bible else None, Path(args.merge) if args.merge else None, args.force)
    scene = None
    for c in done.changes:
        if c.scene != scene:
            scene = c.scene
            out.print(f"[bold]{scene or 'definitions'}[/]")
        out.print(f"  {c}", markup=False)
    if args.merge and not done.changes:
        out.print("the script changed nothing in the storyboard", markup=False)
    out.print(f"wrote {done.path}: {done.shots} shots in {done.scenes} scenes; {done.characters} characters and "
              f"{done.locations} locations to describe" if not args.merge else f"updated {done.path}", markup=False)
    if done.backup:
        out.print(f"the previous version is {done.backup}", markup=False)
    out.print("fill in what its comments mark, then: storyboard render " + str(done.path), markup=False)
    return 0


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


def _spans(values: list[float]) -> str:
    """[3, 4, 5, 8, 10] -> "3-5, 8, 10s": a model's clip lengths, short."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] == 1:
            out[-1].append(v)
        else:
            out.append([v])
    return ", ".join(f"{r[0]:g}-{r[-1]:g}" if len(r) > 2 else ", ".join(f"{x:g}" for x in r) for r in out) + "s"


def cmd_models(args: argparse.Namespace) -> int:
    """The capability table (with the user's config on top) as the user will be billed by it."""
    from storyboard.backends import capabilities
    backends = [capabilities.get(args.backend)] if args.backend else list(capabilities.table().values())
    if args.json:
        doc = {b.name: {"description": b.description, "default_model": b.default_model, "env": b.env,
                        "models": {n: m.model_dump(exclude={"params"}) for n, m in b.models.items()}} for b in backends}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    for b in backends:
        t = Table(title=f"{b.name}: {b.description}" + (f" (needs {' or '.join(b.env)})" if b.env else ""),
                  title_justify="left")
        for col in ("model", "lengths", "sizes", "first frame", "references", "sound", "$/s"):
            t.add_column(col, justify="right" if col == "$/s" else "left", no_wrap=col in ("model", "sizes", "$/s"))
        for name, m in b.models.items():
            lengths = "any" if b.exact_duration or not m.durations else _spans(m.durations)
            if m.extension_durations:
                lengths += f" (+ extensions of {_spans(m.extension_durations)})"
            refs = [f"{m.max_characters} characters" if m.characters else "",
                    f"{m.reference_images} images" if m.reference_images else ""]
            sizes = ["*"] if b.any_size else m.sizes
            price = "\n".join(f"{m.price_per_second(size):.4g}" for size in sizes)  # one line per size
            t.add_row(name + (" *" if name == b.default_model else ""), lengths,
                      "any" if b.any_size else "\n".join(sizes), "yes" if m.image_reference else "no",
                      ", ".join(r for r in refs if r) or "-", "yes" if m.makes_sound else "no", price)
        out.print(t)
    cfg = capabilities.config_path()
    out.print(f"* the backend's default model. Prices are dollars per second asked; override them in {cfg}",
              markup=False)
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from storyboard.pipeline import make_plan, prepare
    prep = prepare(args.file, args.backend)
    p = make_plan(prep, select=args.shot, new_take=args.new_take, takes=args.takes)
    if args.json:
        owner = {j.base_key: j.shot.id for j in p.jobs}
        doc = {"backend": p.backend, "total": p.total, "total_text": f"${p.total:.2f}", "shots": [
            {"id": j.shot.id, "duration": j.shot.duration, "seconds": j.shot.seconds, "segments": j.shot.segments,
             "model": j.shot.model, "size": j.shot.size, "price_per_second": j.price_per_second,
             "cost": j.cost if j.selected else 0.0, "cache": "hit" if j.cached else "miss", "take": j.take,
             "selected": j.selected, "key": j.key, "pinned": j.pinned} for j in p.jobs],
            "other_takes": [{"shot": owner[j.base_key], "take": j.take, "cost": j.cost, "key": j.key}
                            for j in p.extra]}
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
    for j in p.jobs + p.extra:
        if not j.selected:
            continue
        t.add_row(j.shot.id, f"{j.shot.duration:g}s", f"{j.shot.seconds:g}s", j.shot.model, j.shot.size,
                  f"{j.price_per_second:.2f}", f"${j.cost:.2f}", "hit" if j.cached else "miss", str(j.take))
    out.print(t)
    n = len(p.to_render)
    secs = sum(j.shot.seconds for j in p.to_render)
    out.print(f"to render: {n} {'take' if p.extra else 'shot'}{'s' * (n != 1)}, {secs:g}s of video; "
              f"total [bold]${p.total:.2f}[/]")




# -- looking and choosing: the review page, takes, boards (from the cache; nothing rendered) ----------

def _look_commands(sub) -> None:
    rv = sub.add_parser("review", help="rebuild review.html from the cache; renders and spends nothing")
    rv.add_argument("file", metavar="FILE")
    rv.add_argument("--backend", "-b", metavar="B")
    rv.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it)")
    rv.set_defaults(func=cmd_review)

    tk = sub.add_parser("takes", help="every take of each shot's current request")
    tk.add_argument("file", metavar="FILE")
    tk.add_argument("shots", nargs="*", metavar="SHOT")
    tk.add_argument("--backend", "-b", metavar="B")
    tk.add_argument("--json", action="store_true")
    tk.set_defaults(func=cmd_takes)

    bd = sub.add_parser("boards", help="boards.pdf and shotlist.csv from the cache")
    bd.add_argument("file", metavar="FILE")
    bd.add_argument("--backend", "-b", metavar="B")
    bd.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it)")
    bd.add_argument("--grid", default="2x3", metavar="ROWSxCOLS", help="panels per page (default 2x3)")
    bd.add_argument("--paper", default="a4", choices=["a4", "letter", "a3", "legal"], help="paper size (landscape)")
    bd.set_defaults(func=cmd_boards)


def cmd_review(args: argparse.Namespace) -> int:
    from storyboard.pipeline import prepare, review
    prep = prepare(args.file, args.backend)
    files = review(prep, Path(args.out) if args.out else None)
    out.print(f"review: {files['review.html']}", markup=False)
    return 0


def cmd_boards(args: argparse.Namespace) -> int:
    from storyboard.pipeline import boards, prepare
    prep = prepare(args.file, args.backend)
    files = boards(prep, Path(args.out) if args.out else None, grid=args.grid, paper=args.paper)
    out.print(f"boards: {files['boards.pdf']}\nshot list: {files['shotlist.csv']}", markup=False)
    return 0


def cmd_takes(args: argparse.Namespace) -> int:
    import time

    from storyboard.cache import Cache
    from storyboard.model.vocab import unknown
    from dataclasses import replace

    from storyboard.pipeline import make_plan, prepare
    from storyboard.takes import list_takes, pin_problems
    prep = prepare(args.file, args.backend)
    ids = [s.id for s in prep.shots]
    for sid in args.shots:
        if sid not in ids:
            raise UsageError(unknown("shot", sid, ids))
    cache = Cache()
    p = make_plan(prep, cache, check_pins=False)  # the list is how to fix a pin that points nowhere
    _print_warnings(replace(d, severity="warning") for d in pin_problems(prep, p))
    rows = []
    for j in p.jobs:
        if args.shots and j.shot.id not in args.shots:
            continue
        for t in list_takes(cache, j.base_key):
            rows.append((j, t))
        if not any(r[0] is j for r in rows):
            rows.append((j, None))
    if args.json:
        doc = {"backend": p.backend, "shots": [
            {"id": j.shot.id, "in_cut": j.take if cache.get(j.key) else None, "pinned": j.pinned,
             "takes": [{"take": t.number, "status": t.status, "created": t.created, "model": t.model,
                        "seconds": t.seconds, "cost": t.cost, "reason": t.reason or None, "key": t.key}
                       for jj, t in rows if jj is j and t is not None]}
            for j in p.jobs if not args.shots or j.shot.id in args.shots]}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    out.print(f"takes of {prep.loaded.storyboard.title or args.file} on {p.backend}", markup=False)
    for j in p.jobs:
        if args.shots and j.shot.id not in args.shots:
            continue
        mine = [tk for jj, tk in rows if jj is j and tk is not None]
        if not mine:
            out.print(f"{j.shot.id}: no takes of its current request yet", markup=False)
            continue
        lines = []
        for tk in mine:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(tk.created)) if tk.created else "-"
            status = tk.status if tk.status == "made" else f"{tk.status}: {tk.reason}"
            mark = ("pinned, in the cut" if j.pinned else "in the cut") if tk.key == j.key else ""
            lines.append((f"take {tk.number}", when, tk.model or "-", f"{tk.seconds:g}s", f"${tk.cost:.2f}", status, mark))
        widths = [max(len(r[k]) for r in lines) for k in range(6)]
        out.print(f"{j.shot.id}:", markup=False)
        for r in lines:
            cells = "  ".join(c.rjust(w) if k in (3, 4) else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths)))
            out.print(f"  {cells}{'  <- ' + r[6] if r[6] else ''}".rstrip(), markup=False)
    return 0


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
