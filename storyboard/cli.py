"""The storyboard command: the only code that prints or exits."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table

from storyboard import __version__
from storyboard.errors import (AmbiguousSubmission, BackendError, BackendUnusable, BudgetExceeded, FormatError, Locked,
                               MediaError, QuotaError, RetriesExhausted, ShotBlocked, SpendNotConfirmed,
                               StoryboardError, UsageError)

# Exit statuses, one table (README "Exit statuses"): the first class that matches wins.
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (FormatError, 2), (UsageError, 2),  # SpendNotConfirmed is a UsageError: nothing was spent
    (BudgetExceeded, 4), (QuotaError, 5), (RetriesExhausted, 6), (AmbiguousSubmission, 7), (Locked, 8),
    (ShotBlocked, 1), (BackendUnusable, 3), (BackendError, 3), (MediaError, 3), (StoryboardError, 3),
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
    from storyboard.stages.loader import load
    from storyboard.pipeline import check, pinned_take_problems
    status = 0
    for f in args.files:
        try:
            loaded = load(f)
            diags = check(loaded, args.backend)
            errors = [d for d in diags if d.severity == "error"]
            if not errors and any(s.take is not None for s in loaded.storyboard.shots):
                diags = diags + pinned_take_problems(loaded, args.backend)  # warnings: pins the cache lacks
            if errors:
                raise FormatError(errors)
        except FormatError as e:
            for d in e.diagnostics:
                err.print(str(d), markup=False)
            err.print(f"{f}: {len(e.diagnostics)} problem{'s' * (len(e.diagnostics) != 1)}", markup=False)
            status = 2
            continue
        _print_diagnostics(diags, args.verbose)
        sb = loaded.storyboard
        out.print(f"[bold]{f}[/]: valid", end="")
        out.print(f" - {sb.title!r}" if sb.title else "", markup=False)
        out.print(f"  {len(sb.shots)} shots, running time {_fmt_time(sb.running_time)}; "
                  f"on {_backend_of(args.backend).name}, "
                  f"{_made_as(_backend_of(args.backend), sb.defaults.model, sb.defaults.size)}", markup=False)
        for cid in sb.characters:
            shots = [s.id for s in sb.shots if cid in s.characters or any(d.speaker == cid for d in s.dialogue)]
            out.print(f"  character {sb.character_name(cid)} ({cid}): {_shot_list(shots)}", markup=False)
        for lid, loc in sb.locations.items():
            shots = [s.id for s in sb.shots if s.location == lid]
            when = ", ".join(x for x in (loc.time, loc.weather) if x)
            out.print(f"  location {lid}{f' ({when})' if when else ''}: {_shot_list(shots)}", markup=False)
        if sb.music:
            out.print(f"  music: {sb.music}", markup=False)
    return status


def _shot_list(ids: list[str]) -> str:
    """A few shot ids, and how many there are: a long film's summary stays one short line each."""
    from storyboard.progress import some
    if not ids:
        return "in no shot"
    return ", ".join(ids) if len(ids) <= 8 else f"{len(ids)} shots: {some(ids, 6)}"


def cmd_schema(args: argparse.Namespace) -> int:
    from storyboard.model.schema import bible_schema, json_schema
    sys.stdout.write(json.dumps(bible_schema() if args.bible else json_schema(), indent=2) + "\n")
    return 0


BAR_FROM = 30  # above this many shots, progress is a bar with counts instead of a row per shot
QUIET_EVERY = 30.0  # seconds between progress lines in a log (no terminal), at most


def _clock(seconds: float) -> str:
    """A duration as a clock shows it: 42s, 20:52, 1:02:03."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def cmd_render(args: argparse.Namespace) -> int:
    import time

    from storyboard.pipeline import default_out, plan_batch, render_batch
    if args.max_cost is not None and args.max_cost < 0:
        raise UsageError("--max-cost must be zero or more dollars")
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    t0 = time.monotonic()
    preps = _prepare_all(args.files, args.backend)
    outs = _out_folders(args, preps, default_out)
    batch = plan_batch(preps, select=args.shot, new_take=args.new_take, takes=args.takes)  # a wrong --shot stops here
    names = _names(args.files)
    _print_plan_warnings(batch, names, args.verbose)

    def confirm(b) -> bool:
        if args.yes:
            return True
        if not sys.stdin.isatty():
            return False
        _show_batch(b, names, args.verbose)
        cap = f" (never more than ${args.max_cost:.2f})" if args.max_cost is not None else ""
        return out.input(f"spend up to ${b.total:.2f}{cap}? [y/N] ", markup=False).strip().lower() in ("y", "yes")

    display = _Progress(batch, names)
    try:
        with _cluster(args.cluster) as cluster, display:
            results = render_batch(batch, outs, concurrency=args.concurrency, max_cost=args.max_cost,
                                   loudness=args.loudness, burn_subtitles=args.burn_subtitles, confirm=confirm,
                                   on_event=display.event, on_step=display.step, on_cut=display.cut_done,
                                   media_root=args.media_root, force=args.force, cluster=cluster)
    except SpendNotConfirmed as e:
        raise UsageError(f"{e}; pass --yes to spend it (see it first with `storyboard plan`)") from None
    return _report(batch, names, results, display, time.monotonic() - t0, args.verbose)


def _cluster(address: str | None):
    """--cluster: a Dask client for the run (storyboard.cluster), or none."""
    import contextlib
    if not address:
        return contextlib.nullcontext()
    from storyboard.cluster import connect
    return connect(address)


def _prepare_all(files: list[str], backend: str | None) -> list:
    """Every storyboard checked and compiled; the problems of all of them reported together."""
    from storyboard.pipeline import prepare
    preps, problems = [], []
    for f in files:
        try:
            preps.append(prepare(f, backend))
        except FormatError as e:
            problems += e.diagnostics
    if problems:
        raise FormatError(problems)
    return preps


def _names(files: list[str]) -> list[str]:
    """How each storyboard is called in tables and messages: its file's stem, or its path when stems clash."""
    stems = [Path(f).stem for f in files]
    return [s if stems.count(s) == 1 else str(Path(f).with_suffix("")) for s, f in zip(stems, files)]


def _out_folders(args: argparse.Namespace, preps, default_out) -> list[Path]:
    """--out is the output folder of one storyboard; with several it is their parent: DIR/<name> each."""
    if not args.out:
        return [default_out(p.loaded.path) for p in preps]
    if len(preps) == 1:
        return [Path(args.out)]
    stems = [p.loaded.path.stem for p in preps]
    if len(set(stems)) != len(stems):
        raise UsageError("with several storyboards, --out DIR holds a folder per storyboard named after its file; "
                         "two files have the same name: rename one, or render them in separate runs")
    return [Path(args.out) / stem for stem in stems]


class _Progress:
    """A render's progress. On a terminal: a live table up to BAR_FROM shots, above that a bar with
    counts by state, elapsed time, ETA and money spent. Elsewhere (a log, a pipe): plain lines.
    An event costs O(1); the picture is drawn four times a second, never once per event."""

    def __init__(self, batch, names: list[str]):
        from storyboard.progress import Tally
        self.names = names
        self.several = len(batch.items) > 1
        total = sum(len(p.jobs) for _, p in batch.items)
        self.tally = Tally(total)
        self.bar = total > BAR_FROM
        self.rows: dict[str, tuple] = {}  # label -> (state, pct, message, elapsed, spent): the table mode's rows
        self.steps: dict[int, str] = {}  # storyboard index -> the cut's current step
        self.live = None
        self.quiet = not out.is_terminal
        self.next_line = 0.1  # quiet and large: a line at each tenth of the shots, and every QUIET_EVERY s
        self.last_line = 0.0
        self._starting = threading.Lock()
        self._lock = threading.Lock()  # events come from the render threads, pictures from the live display's

    def label(self, i: int, shot: str) -> str:
        return f"{self.names[i]}/{shot}" if self.several else shot

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.stop()
        return False

    def _start(self) -> None:
        """The live display starts with the first event: after the plan, its confirmation and the
        folder locks, so nothing is drawn before an error that stops the run first."""
        if self.live is None and not self.quiet:
            with self._starting:
                if self.live is None:
                    from rich.live import Live
                    live = Live(console=out, refresh_per_second=4, transient=False, get_renderable=self.picture)
                    live.start()
                    self.live = live

    def event(self, i: int, e) -> None:
        self._start()
        label = self.label(i, e.shot)
        with self._lock:
            self.tally.update(label, e.state, e.spent)
            if not self.bar:
                self.rows[label] = (e.state, e.percent, e.message, e.elapsed, e.spent)
            if self.quiet:
                self._line(label, e)

    def step(self, i: int, s: str) -> None:
        self._start()
        self.steps[i] = s
        if self.quiet:
            err.print(f"{self.names[i] + ': ' if self.several else ''}cut: {s}", markup=False)

    def cut_done(self, i: int, rendered, result) -> None:
        self.steps[i] = "done"

    def _line(self, label: str, e) -> None:
        from storyboard.progress import bucket
        if not self.bar:
            if bucket(e.state) in ("done", "cached", "failed", "skipped"):
                err.print(f"{label}: {e.state} {e.message} ({e.elapsed:.1f}s, ${e.spent:.2f} spent)".rstrip(),
                          markup=False)
            return
        t = self.tally
        if t.finished >= self.next_line * t.total or t.elapsed - self.last_line >= QUIET_EVERY:
            while self.next_line * t.total <= t.finished and self.next_line <= 1:
                self.next_line += 0.1
            self.last_line = t.elapsed
            err.print(f"render: {self._counts()}; {_clock(t.elapsed)} elapsed{self._eta()}, "
                      f"${t.spent:.2f} spent", markup=False)

    def _counts(self) -> str:
        t = self.tally
        parts = [f"{t.finished}/{t.total} shots finished"]
        parts += [f"{t.counts[b]} {b}" for b in ("done", "cached", "working", "queued", "failed", "skipped") if t.counts[b]]
        return ", ".join(parts)

    def _eta(self) -> str:
        left = self.tally.eta()
        return f", about {_clock(left)} left" if left is not None and self.tally.finished < self.tally.total else ""

    def picture(self):
        """What the terminal shows now (drawn by the live display's refresh, not by events)."""
        with self._lock:
            return self._picture()

    def _picture(self):
        if self.bar:
            from rich.console import Group
            from rich.progress_bar import ProgressBar
            from rich.text import Text
            t = self.tally
            colours = {"done": "green", "cached": "cyan", "working": "white", "queued": "dim", "failed": "red",
                       "skipped": "yellow"}
            counts = Text("  ")
            for b in ("done", "cached", "working", "queued", "failed", "skipped"):
                if t.counts[b] or b in ("done", "queued"):
                    counts.append(f"{t.counts[b]} {b}", style=colours[b]).append("  ")
            head = Table.grid(padding=(0, 1))
            head.add_row(ProgressBar(total=max(t.total, 1), completed=t.finished, width=40),
                         Text(f"{t.finished}/{t.total} shots"),
                         Text(f"{_clock(t.elapsed)} elapsed{self._eta()}  ${t.spent:.2f} spent"))
            lines = [head, counts]
            for i, s in list(self.steps.items()):
                lines.append(Text(f"  {self.names[i] + ': ' if self.several else ''}cut: {s}"))
            return Group(*lines)
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for col in ("shot", "state", "", "elapsed", "spent"):
            table.add_column(col)
        colour = {"done": "green", "cached": "cyan", "failed": "red", "blocked": "red", "skipped": "yellow"}
        for label, (state, pct, msg, elapsed, spent) in self.rows.items():
            shown = f"{pct:.0f}%" if pct is not None and state not in ("done", "cached") else (msg[:60] if msg else "")
            table.add_row(label, f"[{colour.get(state, 'white')}]{state}[/]", shown, f"{elapsed:.1f}s", f"${spent:.2f}")
        for i, s in list(self.steps.items()):
            table.add_row(f"[bold]{self.names[i] + ' ' if self.several else ''}cut[/]",
                          f"[green]{s}[/]" if s == "done" else s, "", f"{self.tally.elapsed:.1f}s", "")
        return table


def _report(batch, names: list[str], results, display: _Progress, elapsed: float, verbose: bool) -> int:
    """After the run: warnings by kind, what is not done and why, a summary line per storyboard."""
    several = len(batch.items) > 1
    _print_by_kind([(display.label(i, sid), w, "") for i, (rendered, _) in enumerate(results)
                    for sid, o in rendered.outcomes.items() for w in o.warnings], verbose)
    for i, (rendered, _) in enumerate(results):
        for sid, o in rendered.outcomes.items():
            if o.entry is None:
                err.print(f"{display.label(i, sid)}: {o.status}: {o.reason}", markup=False, style="red")
    if verbose and (display.bar or display.quiet):  # else the live table on the terminal showed every shot
        _final_table(results, display)
    spent = 0.0
    for i, (rendered, result) in enumerate(results):
        n = {b: 0 for b in ("rendered", "cached", "failed", "blocked", "skipped")}
        for o in rendered.outcomes.values():
            n[o.status] = n.get(o.status, 0) + 1
        spent += rendered.spent
        missing = ", ".join(f"{n[k]} {k}" for k in ("failed", "blocked", "skipped") if n[k])
        out.print(f"{names[i] + ': ' if several else ''}{n['rendered']} rendered, {n['cached']} from the cache"
                  f"{', ' + missing if missing else ''}, ${rendered.spent:.2f} spent"
                  f"{'' if several else f', {elapsed:.1f}s'}. The cut: {result.files['final.mp4']}; "
                  f"review: {result.files['review.html']}", markup=False)
    if several:
        out.print(f"{len(results)} of {len(batch.items)} storyboards cut, ${spent:.2f} spent, "
                  f"{_clock(elapsed)}", markup=False)
    stop = next((r.stop for r, _ in results if r.stop is not None), None)
    if stop is not None:  # a stop with its own status outranks "incomplete"
        left = [names[i] for i in range(len(results), len(batch.items))]
        err.print(f"storyboard: {stop}" + (f"; not rendered: {', '.join(left)}" if left else ""), markup=False)
        return exit_code(stop)
    if not all(r.complete for r, _ in results):
        err.print("incomplete: some shots stand as slates in the cut", markup=False)
        return INCOMPLETE
    return DONE


def _final_table(results, display: _Progress) -> None:
    """--verbose after a bar, or without a terminal: every shot and how it ended."""
    t = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for col in ("shot", "status", "take", "cost", "why"):
        t.add_column(col)
    for i, (rendered, _) in enumerate(results):
        for sid, o in rendered.outcomes.items():
            t.add_row(display.label(i, sid), o.status, str(o.job.take), f"${o.meta.get('cost', 0.0):.2f}"
                      if o.status == "rendered" else "$0.00", o.reason or "")
    out.print(t)


def _command(sub, name: str, what: str, func) -> argparse.ArgumentParser:
    """A subcommand whose --help opens with what it does."""
    c = sub.add_parser(name, help=what.split(". ")[0].rstrip("."), description=what)
    c.set_defaults(func=func)
    return c


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyboard", description="Turn a YAML storyboard into a finished cut.")
    p.add_argument("--version", action="version", version=f"storyboard {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    v = _command(sub, "validate", "Check storyboards without rendering anything. Errors come as FILE:LINE:COL "
                 "messages and exit 2; warnings (a line too long for its shot, what the backend cannot make) are "
                 "shown too; a valid storyboard gets a short summary.", cmd_validate)
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--backend", "-b", metavar="B", help="check against this backend (default: the configured one)")
    v.add_argument("--verbose", "-v", action="store_true", help="every warning on its own line, never summed up")

    s = _command(sub, "schema", "Print the JSON Schema of the storyboard format, for editors' YAML language "
                 "servers (completion and checks as you type).", cmd_schema)
    s.add_argument("--bible", action="store_true", help="the schema of a series bible (the file `include:` names)")
    _more_commands(sub)
    return p


def _more_commands(sub) -> None:
    """Commands that need the pipeline."""
    c = _command(sub, "compile", "Show the prompt and parameters each shot is sent with, after continuity (who is "
                 "on screen, wearing what, where) is applied. Spends nothing.", cmd_compile)
    c.add_argument("file", metavar="FILE")
    c.add_argument("--backend", "-b", metavar="B")
    c.add_argument("--json", action="store_true", help="machine-readable output")

    pl = _command(sub, "plan", "Show what a render would do: per shot the seconds asked, the price and whether the "
                  "cache has it, and the total in dollars. Spends nothing and touches no network. Several files: "
                  "one combined plan, each shared request counted once.", cmd_plan)
    pl.add_argument("files", nargs="+", metavar="FILE")
    pl.add_argument("--backend", "-b", metavar="B")
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    pl.add_argument("--shot", action="append", default=[], metavar="ID", help="plan only these (and what they need)")
    pl.add_argument("--new-take", action="store_true", help="a new take of the selected shots")
    pl.add_argument("--takes", type=int, default=1, metavar="N", help="price takes 1..N of each selected shot")

    mo = _command(sub, "models", "List every backend's models: lengths, sizes, first frame and references, "
                  "sound and price per second, from the capability table and your config.", cmd_models)
    mo.add_argument("--backend", "-b", metavar="B", help="only this backend")
    mo.add_argument("--json", action="store_true", help="machine-readable output")

    r = _command(sub, "render", "Render the shots the cache does not have, then make the cut and its exports in "
                 "the output folder. Several files render in one run: one plan, one confirmation, and "
                 "--concurrency and --max-cost hold for the whole run; each gets its own folder.", cmd_render)
    r.add_argument("files", nargs="+", metavar="FILE")
    r.add_argument("--backend", "-b", metavar="B")
    r.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it); "
                                                "with several files, the folder that holds one per storyboard")
    r.add_argument("--yes", "-y", action="store_true", help="spend without asking (paid backends)")
    r.add_argument("--max-cost", type=float, metavar="USD", help="never spend more than this in the whole run")
    r.add_argument("--concurrency", type=int, metavar="N", help="shots rendered at once, in the whole run")
    r.add_argument("--shot", action="append", default=[], metavar="ID", help="render only these (and what they need)")
    r.add_argument("--new-take", action="store_true", help="a new take of the selected shots instead of the cache")
    r.add_argument("--takes", type=int, default=1, metavar="N",
                   help="make takes 1..N of the selected shots (the cut uses the latest, or the pinned `take:`)")
    r.add_argument("--loudness", type=float, default=-14.0, metavar="LUFS", help="integrated loudness target")
    r.add_argument("--burn-subtitles", action="store_true", help="burn the dialogue into the picture")
    r.add_argument("--verbose", "-v", action="store_true", help="every shot and every warning, never summed up")
    r.add_argument("--media-root", metavar="DIR", help="exports name media as DIR/media/... (DIR: this out folder, as the editor sees it)")
    r.add_argument("--force", action="store_true", help="write into an --out folder holding files storyboard did not write")
    r.add_argument("--cluster", metavar="ADDRESS", help="make the shots on a Dask cluster: tcp://HOST:8786, or local:N "
                                                        "for N worker processes here (pip install 'storyboard[cluster]')")
    _look_commands(sub)

    im = _command(sub, "import", "Turn a Fountain (.fountain) or Final Draft (.fdx) screenplay into a storyboard "
                  "draft that validates, with comments marking what to fill in.", cmd_import)
    im.add_argument("script", metavar="SCRIPT", help="the screenplay: .fountain or .fdx")
    im.add_argument("-o", "--out", metavar="FILE", help="the storyboard to write (default: SCRIPT with .yaml)")
    im.add_argument("--scene", action="extend", nargs="+", default=[], metavar="N",
                    help="import only these scenes: their numbers as written (#12#), else their place in the script")
    im.add_argument("--bible", metavar="FILE", help="a series bible: reuse its character and location ids, and include it")
    im.add_argument("--merge", metavar="FILE", help="update this storyboard from the changed script, keeping your "
                                                    "edits (camera, duration, prompt...); prints what changed")
    im.add_argument("--force", action="store_true", help="replace an existing output file")


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


def _print_by_kind(items: list[tuple[str, str, str]], verbose: bool) -> None:
    """(shot, message, place) warnings, `place` being FILE:LINE:COL for a storyboard's or '' for a
    render's: one line per kind when many shots share it ("37 shots: ..."), else one per shot."""
    from storyboard.progress import NAMED, group, kind_of, some
    groups, singles = group(items, least=len(items) + 1 if verbose else 4)
    for g in groups:
        place = next(p for _, m, p in items if kind_of(m) == g.gist)
        what = g.gist if g.gist in NAMED else f"like {g.shots[0]}: {g.first}"
        err.print(f"{place + ': ' if place else ''}warning: {len(g.shots)} shots: {what}: {some(g.shots)}",
                  markup=False, style="yellow")
    for shot, message, place in singles:
        err.print(f"{place}: warning: {message}" if place else f"{shot}: warning: {message}", markup=False,
                  style="yellow")


def _print_diagnostics(diags, verbose: bool, label=lambda sid: sid) -> None:
    """A storyboard's warnings: those about the whole as they are, those about shots by kind."""
    _print_warnings([d for d in diags if d.shot is None])
    _print_by_kind([(label(d.shot), d.message, f"{d.file}:{d.line}:{d.col}") for d in diags if d.shot is not None],
                   verbose)


def _print_plan_warnings(batch, names: list[str], verbose: bool) -> None:
    """What the checks and the compiler say before anything is rendered, grouped by kind."""
    from storyboard.takes import pin_problems
    several = len(batch.items) > 1
    for i, (prep, p) in enumerate(batch.items):
        label = (lambda sid, i=i: f"{names[i]}/{sid}") if several else (lambda sid: sid)
        _print_diagnostics(prep.warnings + pin_problems(prep, p), verbose, label)
        said = {d.message for d in prep.warnings}
        _print_by_kind([(label(s.id), w, "") for s in prep.shots for w in s.warnings if w not in said], verbose)


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
    _print_diagnostics(prep.warnings, verbose=False)
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
    from storyboard import catalog as capabilities
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
    from storyboard.pipeline import plan_batch
    batch = plan_batch(_prepare_all(args.files, args.backend), select=args.shot, new_take=args.new_take,
                       takes=args.takes)
    names = _names(args.files)
    if args.json:
        def shots(i, p):
            return [{"id": j.shot.id, "duration": j.shot.duration, "seconds": j.shot.seconds,
                     "segments": j.shot.segments, "model": j.shot.model, "size": j.shot.size,
                     "price_per_second": j.price_per_second,
                     "cost": j.cost if j.selected and not _shared(batch, i, j) else 0.0,
                     "cache": "hit" if j.cached else "miss", "take": j.take, "selected": j.selected, "key": j.key,
                     "pinned": j.pinned, "shared_with": names[batch.first_with(j.key)] if _shared(batch, i, j) else None}
                    for j in p.jobs]

        def other_takes(p):
            owner = {j.base_key: j.shot.id for j in p.jobs}
            return [{"shot": owner[j.base_key], "take": j.take, "cost": j.cost, "key": j.key} for j in p.extra]
        doc: dict = {"backend": batch.backend, "total": batch.total, "total_text": f"${batch.total:.2f}"}
        if len(batch.items) == 1:
            doc["shots"] = shots(0, batch.items[0][1])
            doc["other_takes"] = other_takes(batch.items[0][1])
        else:
            doc["storyboards"] = [{"file": f, "total": round(sum(j.cost for k, j in batch.to_render if k == i), 4),
                                   "shots": shots(i, p), "other_takes": other_takes(p)} for i, (f, (_, p)) in enumerate(zip(args.files, batch.items))]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    _print_plan_warnings(batch, names, verbose=False)
    _show_batch(batch, names, verbose=True)
    return 0


def _shared(batch, i: int, job) -> bool:
    """The job is rendered by an earlier storyboard of the batch (so it costs nothing here)."""
    return job.selected and not job.cached and batch.first_with(job.key) < i


def _backend_of(name: str | None):
    from storyboard import catalog
    from storyboard.pipeline import default_backend
    return catalog.get(name or default_backend())


def _made_as(caps, model: str, size: str) -> str:
    """What a backend makes of a storyboard's model and size: the animatic draws panels, whatever
    model the storyboard names for a paid backend."""
    if caps.any_model:
        return f"drawn panels at {size} ({model} is for a paid backend)"
    return f"{model} at {size}"


def _show_batch(batch, names: list[str], verbose: bool) -> None:
    """The plan as a table: per shot (up to BAR_FROM shots, or with `verbose`), else per storyboard."""
    several = len(batch.items) > 1
    title = ", ".join(names) if several else (batch.items[0][0].loaded.storyboard.title or names[0])
    jobs = [(i, j) for i, (_, p) in enumerate(batch.items) for j in p.jobs + p.extra if j.selected]
    if verbose or len(jobs) <= BAR_FROM:
        # a model and size every shot shares are said once, in the title: the table fits 80 columns
        same = {(j.shot.model, j.shot.size) for _, j in jobs}
        (model, size), = same if len(same) == 1 else [("", "")]
        caps = batch.items[0][0].caps
        t = Table(title=f"plan: {title} on {batch.backend}" + (f", {_made_as(caps, model, size)}" if model else ""),
                  title_justify="left")
        cols = (("storyboard",) if several else ()) + ("shot", "in cut", "asked") + (() if model else (
            "model", "size")) + ("$/s", "cost", "cache", "take")
        for col in cols:
            t.add_column(col, justify="right" if col in ("in cut", "asked", "$/s", "cost", "take") else "left")
        for i, j in jobs:
            shared = _shared(batch, i, j)
            cache = f"in {names[batch.first_with(j.key)]}" if shared else ("hit" if j.cached else "miss")
            t.add_row(*((names[i],) if several else ()), j.shot.id, f"{j.shot.duration:g}s", f"{j.shot.seconds:g}s",
                      *(() if model else (j.shot.model, j.shot.size)), f"{j.price_per_second:.2f}",
                      f"${0 if shared else j.cost:.2f}", cache, str(j.take))
    else:
        t = Table(title=f"plan: {title} on {batch.backend} ({len(jobs)} shots; --verbose lists each)",
                  title_justify="left")
        for col in ("storyboard", "shots", "cached") + (("shared",) if several else ()) + ("to render", "seconds",
                                                                                          "cost"):
            t.add_column(col, justify="left" if col == "storyboard" else "right")
        mine = {}
        for i, j in batch.to_render:
            n, secs, cost = mine.get(i, (0, 0.0, 0.0))
            mine[i] = (n + 1, secs + j.shot.seconds, cost + j.cost)
        for i, (_, p) in enumerate(batch.items):
            sel = [j for j in p.jobs if j.selected]
            shared = sum(1 for j in sel if _shared(batch, i, j))
            n, secs, cost = mine.get(i, (0, 0.0, 0.0))
            t.add_row(names[i], str(len(sel)), str(sum(1 for j in sel if j.cached)),
                      *((str(shared),) if several else ()), str(n), f"{secs:g}s", f"${cost:.2f}")
    out.print(t)
    todo = batch.to_render
    secs = sum(j.shot.seconds for _, j in todo)
    out.print(f"to render: {len(todo)} shot{'s' * (len(todo) != 1)}, {secs:g}s of video; "
              f"total [bold]${batch.total:.2f}[/]")


# -- looking and choosing: the review page, takes, boards (from the cache; nothing rendered) ----------

def _look_commands(sub) -> None:
    rv = _command(sub, "review", "Rebuild review.html and review/ from the cache: every shot's frames, takes, "
                  "status, cost and prompt. Renders and spends nothing.", cmd_review)
    rv.add_argument("file", metavar="FILE")
    rv.add_argument("--backend", "-b", metavar="B")
    rv.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it)")
    rv.add_argument("--force", action="store_true", help="write into an --out folder holding files storyboard did not write")

    tk = _command(sub, "takes", "List every take of each shot's current request: number, date, model, seconds, "
                  "cost and status; the one the cut uses is marked.", cmd_takes)
    tk.add_argument("file", metavar="FILE")
    tk.add_argument("shots", nargs="*", metavar="SHOT")
    tk.add_argument("--backend", "-b", metavar="B")
    tk.add_argument("--json", action="store_true")

    bd = _command(sub, "boards", "Write boards.pdf (printable panels in a grid) and shotlist.csv from the cache; "
                  "a shot never rendered gets its drawn panel.", cmd_boards)
    bd.add_argument("file", metavar="FILE")
    bd.add_argument("--backend", "-b", metavar="B")
    bd.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it)")
    bd.add_argument("--grid", default="2x3", metavar="ROWSxCOLS", help="panels per page (default 2x3)")
    bd.add_argument("--paper", default="a4", choices=["a4", "letter", "a3", "legal"], help="paper size (landscape)")
    bd.add_argument("--force", action="store_true", help="write into an --out folder holding files storyboard did not write")


def cmd_review(args: argparse.Namespace) -> int:
    from storyboard.pipeline import prepare, review
    prep = prepare(args.file, args.backend)
    files = review(prep, Path(args.out) if args.out else None, force=args.force)
    out.print(f"review: {files['review.html']}", markup=False)
    return 0


def cmd_boards(args: argparse.Namespace) -> int:
    from storyboard.pipeline import boards, prepare
    prep = prepare(args.file, args.backend)
    files = boards(prep, Path(args.out) if args.out else None, grid=args.grid, paper=args.paper, force=args.force)
    out.print(f"boards: {files['boards.pdf']}\nshot list: {files['shotlist.csv']}", markup=False)
    return 0


def cmd_takes(args: argparse.Namespace) -> int:
    import time

    from storyboard.store.cache import Cache
    from storyboard.model.vocab import unknown
    from storyboard.pipeline import make_plan, prepare
    from storyboard.takes import list_takes, pin_problems
    prep = prepare(args.file, args.backend)
    ids = [s.id for s in prep.shots]
    for sid in args.shots:
        if sid not in ids:
            raise UsageError(unknown("shot", sid, ids))
    cache = Cache()
    p = make_plan(prep, cache)
    _print_warnings(pin_problems(prep, p))  # the list is how to fix a pin that points nowhere
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
