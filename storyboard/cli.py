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
from storyboard.progress import Progress
from storyboard.errors import (AmbiguousSubmission, BackendError, BackendUnusable, BudgetExceeded, FormatError, Locked,
                               MediaError, QuotaError, RetriesExhausted, ShotBlocked, SpendNotConfirmed,
                               StoryboardError, UsageError)

# Exit statuses, one table (README "Exit statuses"): the first class that matches wins.
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (FormatError, 2), (UsageError, 2),  # SpendNotConfirmed is a UsageError: nothing was spent
    (BudgetExceeded, 4), (QuotaError, 5), (RetriesExhausted, 6), (AmbiguousSubmission, 7), (Locked, 8),
    (ShotBlocked, 1), (BackendUnusable, 3), (BackendError, 3), (MediaError, 3), (StoryboardError, 3),
    (KeyboardInterrupt, 130), (BrokenPipeError, 141), (OSError, 3),
    (Exception, 70),  # a bug of ours: one line, the traceback in a log file (sysexits' EX_SOFTWARE)
]
DONE, INCOMPLETE = 0, 1
CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a program that a closed pipe stopped (`| head`)


def exit_code(e: BaseException) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(e, cls))

class _Console(Console):
    def on_broken_pipe(self) -> None:
        """rich would exit 1 (our "done but incomplete"); main() says what a closed pipe means instead."""
        self.quiet = True
        raise BrokenPipeError


out = _Console(highlight=False, soft_wrap=True)
err = _Console(stderr=True, highlight=False, soft_wrap=True)


def _fmt_time(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}" if m else f"{s:.1f}s"


def cmd_validate(args: argparse.Namespace) -> int:
    from storyboard.stages.loader import load
    from storyboard.pipeline import check, pinned_take_problems, reference_warnings
    status = 0
    for f in args.files:
        try:
            loaded = load(f)
            diags = check(loaded, args.backend)
            if not any(d.severity == "error" for d in diags):
                diags += reference_warnings(loaded)  # a reference with no face (with the identity extra)
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

    from storyboard.model.options import RenderOptions
    from storyboard.pipeline import check_identity_options, default_out, plan_batch, render_batch, retake_reserve
    opts = RenderOptions(select=tuple(args.shot), new_take=args.new_take, takes=args.takes,
                         concurrency=args.concurrency, max_cost=args.max_cost, pick=args.pick,
                         retake_drift=args.retake_drift, loudness=args.loudness,
                         burn_subtitles=args.burn_subtitles, media_root=args.media_root, force=args.force)
    t0 = time.monotonic()
    preps = _prepare_all(args.files, args.backend)
    outs = _out_folders(args, preps, default_out)
    if args.approved and args.status not in (None, "approved"):
        raise UsageError(f"--approved means --status approved; give one of them, not also --status {args.status}")
    if args.approved or args.status:  # the review room's marks (NAME.review.yaml), with any --shot
        from storyboard.pipeline import select_by_review
        opts = RenderOptions.of(opts, select=tuple(dict.fromkeys(
            [*opts.select, *select_by_review(preps, args.status or "approved")])))
    batch = plan_batch(preps, opts)  # a wrong --shot stops here
    check_identity_options(opts.pick, opts.retake_drift, batch.backend)
    reserve = retake_reserve(batch, opts.retake_drift)
    names = _names(args.files)
    _print_plan_warnings(batch, names, args.verbose)

    def confirm(b) -> bool:
        if args.yes:
            return True
        if not sys.stdin.isatty():
            return False
        _show_batch(b, names, args.verbose)
        most = b.total + reserve
        if reserve:
            out.print(f"--retake-drift {args.retake_drift}: up to ${reserve:.2f} more if every shot drifts "
                      f"(at most ${most:.2f} in all)", markup=False)
        cap = f" (never more than ${args.max_cost:.2f})" if args.max_cost is not None else ""
        return out.input(f"spend up to ${most:.2f}{cap}? [y/N] ", markup=False).strip().lower() in ("y", "yes")

    display = _Progress(batch, names)
    try:
        with _cluster(args.cluster) as cluster, display:
            results = render_batch(batch, outs, opts, confirm=confirm, progress=display, cluster=cluster)
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


class _Progress(Progress):
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
        self.close()
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

    def cut(self, i: int, rendered, result) -> None:
        self.steps[i] = "done"

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _line(self, label: str, e) -> None:
        from storyboard.progress import bucket
        if not self.bar:
            if bucket(e.state) in ("done", "cached", "failed", "skipped"):
                said = f": {e.message}" if e.message else ""
                err.print(f"{label}: {e.state}{said} ({e.elapsed:.1f}s, ${e.spent:.2f} spent)", markup=False)
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
    for i, (_, result) in enumerate(results):
        for w in result.warnings:  # the cut's own (a loudness miss): one line each, never hidden
            err.print(f"{names[i] + ': ' if several else ''}warning: {w}", markup=False, style="yellow")
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

    dr = _command(sub, "doctor", "Check your own provider keys against each provider's free endpoints (list "
                  "models, account balance): whether the key works, whether every model id in the table is still "
                  "served, and which ids are retired. Spends nothing. Exit 0 when all is well, 3 when a key or "
                  "model is wrong.", cmd_doctor)
    dr.add_argument("--backend", "-b", metavar="B", help="only this backend")
    dr.add_argument("--json", action="store_true", help="machine-readable output")

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
    r.add_argument("--pick", choices=["identity"], help="put each shot's take whose characters look most like their "
                   "references in the cut (needs storyboard[identity]; a pinned `take:` still wins)")
    r.add_argument("--retake-drift", type=int, default=0, metavar="K", help="up to K more takes of each shot whose "
                   "characters drift or are missing, within --max-cost; then pick by identity")
    r.add_argument("--loudness", type=float, default=-14.0, metavar="LUFS", help="integrated loudness target")
    r.add_argument("--burn-subtitles", action="store_true", help="burn the dialogue into the picture")
    r.add_argument("--verbose", "-v", action="store_true", help="every shot and every warning, never summed up")
    r.add_argument("--media-root", metavar="DIR", help="exports name media as DIR/media/... (DIR: this out folder, as the editor sees it)")
    r.add_argument("--force", action="store_true", help="write into an --out folder holding files storyboard did not write")
    r.add_argument("--approved", action="store_true", help="render only the shots approved in the review room")
    r.add_argument("--status", choices=["todo", "approved", "retake"],
                   help="render only the shots with this review status (NAME.review.yaml, set in `storyboard serve`)")
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
                        "aliases": b.aliases,
                        "models": {n: m.model_dump(exclude={"params"}) for n, m in b.models.items()},
                        "retired": {n: r.model_dump() for n, r in b.retired.items()}} for b in backends}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    for b in backends:
        t = Table(title=f"{b.name}: {b.description}" + (f" (needs {' or '.join(b.env)})" if b.env else ""),
                  title_justify="left")
        for col in ("model", "lengths", "sizes", "first frame", "references", "sound", "$/s", "read"):
            t.add_column(col, justify="right" if col == "$/s" else "left",
                         no_wrap=col in ("model", "sizes", "$/s", "read"))
        for name, m in b.models.items():
            lengths = "any" if b.exact_duration or not m.durations else _spans(m.durations)
            if m.extension_durations:
                lengths += f" (+ extensions of {_spans(m.extension_durations)})"
            refs = [f"{m.max_characters} characters" if m.characters else "",
                    f"{m.reference_images} images" if m.reference_images else ""]
            sizes = ["*"] if b.any_size else m.sizes
            price = "\n".join(f"{m.price_per_second(size):.4g}" for size in sizes)  # one line per size
            first = "needed" if m.needs_first_frame else "yes" if m.image_reference else "no"
            t.add_row(name + (" *" if name == b.default_model else ""), lengths,
                      "any" if b.any_size else "\n".join(sizes), first,
                      ", ".join(r for r in refs if r) or "-", "yes" if m.makes_sound else "no", price,
                      m.read or "?")
        out.print(t)
        for name, m in b.models.items():  # where each row's facts come from
            out.print(f"  {name}: {m.source or 'no source given'}" + (f" (read {m.read})" if m.read else "")
                      + ("; refuses a face in a first frame" if m.refuses_faces else ""), markup=False)
        for old, gone in b.retired.items():
            out.print(f"  retired: {old} (since {gone.since or '?'}) -> {gone.successor}", markup=False)
    cfg = capabilities.config_path()
    out.print(f"* the backend's default model. Prices are dollars per second asked; override them in {cfg}",
              markup=False)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """storyboard doctor: free endpoints only, with the user's own keys."""
    from storyboard import catalog as capabilities
    from storyboard.backends import doctor
    findings = doctor.run(args.backend)
    if args.json:
        sys.stdout.write(json.dumps([f.as_dict() for f in findings], indent=2) + "\n")
    else:
        for f in findings:
            head = {"works": "key works", "refused": "KEY REFUSED", "not set": "no key set", "cannot check":
                    "could not check", "not needed": "no key needed"}[f.key]
            out.print(f"{f.backend}: {head}" + (f" ({f.detail})" if f.detail else "")
                      + (f"; balance {f.balance}" if f.balance else ""), markup=False)
            for model, ok in f.served.items():
                out.print(f"  {model}: " + ("served" if ok else "cannot tell" if ok is None else "NOT SERVED"),
                          markup=False)
            for line in doctor.missing(f, capabilities.get(f.backend)):
                err.print(f"  {f.backend}: {line}", markup=False)
            for old, new in f.retired.items():
                out.print(f"  retired: {old} -> {new} (a storyboard naming it renders with {new})", markup=False)
    return 3 if any(f.wrong for f in findings) else 0


def cmd_plan(args: argparse.Namespace) -> int:
    from storyboard.pipeline import plan_batch
    batch = plan_batch(_prepare_all(args.files, args.backend), select=tuple(args.shot), new_take=args.new_take,
                       takes=args.takes)
    names = _names(args.files)
    if args.json:
        def shots(i, p):
            return [{"id": j.shot.id, "duration": j.shot.duration, "seconds": j.shot.seconds,
                     "segments": j.shot.segments, "model": j.shot.model, "size": j.shot.size,
                     "delivered": j.shot.delivered,
                     "price_per_second": j.price_per_second,
                     "cost": j.cost if j.selected and not _shared(batch, i, j) else 0.0,
                     "cache": "hit" if j.cached else "miss", "take": j.take, "selected": j.selected, "key": j.key,
                     "pinned": j.pinned, "shared_with": names[batch.first_with(j.key)] if _shared(batch, i, j) else None,
                     "group": list(j.group.shots) if j.group else None}
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


def _asked_delivered(shot) -> str:
    """"1920x1080 → 1280x720" where the model makes a size nearest the film's and the cut conforms it."""
    return shot.size if shot.delivered == shot.size else f"{shot.size} → {shot.delivered}"


def _shared(batch, i: int, job) -> bool:
    """The job is rendered by an earlier storyboard of the batch (so it costs nothing here)."""
    return job.selected and not job.cached and not job.follower and batch.first_with(job.key) < i


def _backend_of(name: str | None):
    from storyboard import catalog
    from storyboard.pipeline import default_backend
    return catalog.get(name or default_backend())


def _made_as(caps, model: str, size: str, delivered: str = "") -> str:
    """What a backend makes of a storyboard's model and size: the animatic draws panels, whatever
    model the storyboard names for a paid backend; a paid one is asked `size` and the cut delivers
    `delivered` ("kling-4 at 1920x1080 → 1280x720")."""
    if caps.any_model:
        return f"drawn panels at {delivered or size} ({model} is for a paid backend)"
    return f"{model} at {size}" + (f" → {delivered}" if delivered else "")


def _show_batch(batch, names: list[str], verbose: bool) -> None:
    """The plan as a table: per shot (up to BAR_FROM shots, or with `verbose`), else per storyboard."""
    several = len(batch.items) > 1
    title = ", ".join(names) if several else (batch.items[0][0].loaded.storyboard.title or names[0])
    jobs = [(i, j) for i, (_, p) in enumerate(batch.items) for j in p.jobs + p.extra if j.selected]
    if verbose or len(jobs) <= BAR_FROM:
        # a model and size every shot shares are said once, in the title: the table fits 80 columns
        same = {(j.shot.model, (j.shot.size, j.shot.delivered)) for _, j in jobs}
        (model, size), = same if len(same) == 1 else [("", ("", ""))]
        caps = batch.items[0][0].caps
        # what the model is asked, and what the cut delivers: "kling-4 at 1920x1080 → 1280x720"
        t = Table(title=f"plan: {title} on {batch.backend}" + (f", {_made_as(caps, model, *size)}" if model else ""),
                  title_justify="left")
        cols = (("storyboard",) if several else ()) + ("shot", "in cut", "asked") + (() if model else (
            "model", "size")) + ("$/s", "cost", "cache", "take")
        for col in cols:
            t.add_column(col, justify="right" if col in ("in cut", "asked", "$/s", "cost", "take") else "left")
        missed = {(i, j.shot.id) for i, j in jobs if not j.cached}
        for i, j in jobs:
            shared = _shared(batch, i, j)
            after = next((d for d in j.shot.depends_on if (i, d) in missed), None)  # its first frame is that shot's last
            cache = (f"in {names[batch.first_with(j.key)]}" if shared else "hit" if j.cached else
                     f"miss (after {after})" if after else "miss")
            asked = j.group.sent[j.group.position] if j.group else j.shot.seconds
            t.add_row(*((names[i],) if several else ()), j.shot.id, f"{j.shot.duration:g}s", f"{asked:g}s",
                      *(() if model else (j.shot.model, _asked_delivered(j.shot))), f"{j.price_per_second:.2f}",
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
            mine[i] = (n + 1, secs + _request_seconds(j), cost + j.cost)
        for i, (_, p) in enumerate(batch.items):
            sel = [j for j in p.jobs if j.selected]
            shared = sum(1 for j in sel if _shared(batch, i, j))
            n, secs, cost = mine.get(i, (0, 0.0, 0.0))
            t.add_row(names[i], str(len(sel)), str(sum(1 for j in sel if j.cached)),
                      *((str(shared),) if several else ()), str(n), f"{secs:g}s", f"${cost:.2f}")
    out.print(t)
    _show_groups(batch, names)
    todo = batch.to_render
    secs = sum(_request_seconds(j) for _, j in todo)
    out.print(f"to render: {len(todo)} {'request' if any(j.group for _, j in todo) else 'shot'}"
              f"{'s' * (len(todo) != 1)}, {secs:g}s of video; total [bold]${batch.total:.2f}[/]")


def _request_seconds(job) -> float:
    """Seconds a job asks of the backend: a multi-shot group's whole length on its first shot's job."""
    return job.group.seconds if job.group else job.shot.seconds


def _show_groups(batch, names: list[str]) -> None:
    """Multi-shot groups (issue 25): which shots one request makes, its one price, and that a change
    to any of them makes the whole request again."""
    for i, (_, p) in enumerate(batch.items):
        for g in p.groups:
            lead = p.job(g.name)
            state = "cached" if lead.cached else f"${lead.cost:.2f}"
            out.print(f"{names[i] + ': ' if len(batch.items) > 1 else ''}one request for {' + '.join(g.shots)} "
                      f"({g.seconds:g}s, {state}); changing any of them makes all {len(g.shots)} again")


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
    tk.add_argument("--pin", type=int, metavar="N", help="pin take N of the one SHOT named: writes `take: N` into "
                    "the file defining it, changing nothing else there")
    tk.add_argument("--unpin", action="store_true", help="remove the `take:` line of the one SHOT named")

    sv = _command(sub, "serve", "The review room: a local web page that plays the cut, pins takes with a click, "
                  "keeps notes and approvals (NAME.review.yaml) and re-renders the animatic as the file changes.",
                  cmd_serve)
    sv.add_argument("file", metavar="FILE")
    sv.add_argument("--port", type=int, default=8765, metavar="N", help="port (default 8765; 0: any free one)")
    sv.add_argument("--host", metavar="H", help="listen on this address instead of 127.0.0.1 (writes then need "
                    "the token printed at start)")
    sv.add_argument("--backend", "-b", metavar="B", help="the backend of the cut (paid ones render only after the "
                    "page's confirmation, capped at the price shown)")

    idn = _command(sub, "identity", "Check each rendered take's on-screen characters against their reference "
                   "faces: distance and verdict (on-model, uncertain, drift, missing) per shot, take and character. "
                   "Scores what the cache holds; renders and spends nothing. Needs storyboard[identity].", cmd_identity)
    idn.add_argument("file", metavar="FILE")
    idn.add_argument("--backend", "-b", metavar="B")
    idn.add_argument("--out", metavar="DIR", help="the output folder whose cut is marked (default: next to the storyboard)")
    idn.add_argument("--json", action="store_true", help="machine-readable output")

    bd = _command(sub, "boards", "Write boards.pdf (printable panels in a grid) and shotlist.csv from the cache; "
                  "a shot never rendered gets its drawn panel.", cmd_boards)
    bd.add_argument("file", metavar="FILE")
    bd.add_argument("--backend", "-b", metavar="B")
    bd.add_argument("--out", metavar="DIR", help="output folder (default: next to the storyboard, named after it)")
    bd.add_argument("--grid", default="2x3", metavar="ROWSxCOLS", help="panels per page (default 2x3)")
    bd.add_argument("--paper", default="a4", choices=["a4", "letter", "a3", "legal"], help="paper size (landscape)")
    bd.add_argument("--force", action="store_true", help="write into an --out folder holding files storyboard did not write")


def cmd_serve(args: argparse.Namespace) -> int:
    from storyboard.serve import serve  # its extra is asked for there
    return serve(args.file, port=args.port, host=args.host, backend=args.backend, say=lambda m: out.print(m, markup=False))


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


def cmd_identity(args: argparse.Namespace) -> int:
    from rich.text import Text

    from storyboard.pipeline import identity_report, prepare
    prep = prepare(args.file, args.backend)
    rows = identity_report(prep, Path(args.out) if args.out else None)
    if args.json:
        sys.stdout.write(json.dumps({"storyboard": args.file, "shots": rows}, indent=2) + "\n")
        return 0
    t = Table(title=f"identity: {prep.loaded.storyboard.title or args.file} on {prep.caps.name}", title_justify="left")
    for col in ("shot", "take", "character", "distance", "verdict", "best frame", "note"):
        t.add_column(col, justify="right" if col in ("take", "distance", "best frame") else "left")
    flagged = 0
    for r in rows:
        if not r["takes"] or r["not_scored"]:
            t.add_row(Text(r["shot"]), "", "", "", "", "", r["not_scored"] or "no take rendered yet")
            continue
        for tk in r["takes"]:
            take = f"{tk['take']}{' *' if tk['in_cut'] else ''}"
            if not tk["characters"]:
                t.add_row(Text(r["shot"]), take, "", "", "", "", "not scored")
            for c in tk["characters"]:
                bad = c["verdict"] in ("drift", "missing")
                flagged += bad and tk["in_cut"]
                t.add_row(Text(r["shot"]), take, Text(c["name"]), "" if c["distance"] is None else f"{c['distance']:.2f}",
                          Text(c["verdict"].upper(), style="bold red") if bad else c["verdict"],
                          "" if c["time"] is None else f"{c['time']:.1f}s", Text(c["why"] or (
                              "chosen by identity score" if tk["in_cut"] and tk["chosen_by"] == "identity" else "")))
    out.print(t)
    out.print(f"* the take in the cut. on-model: distance up to 0.5; uncertain: 0.5-0.6; drift: over 0.6 (dlib's "
              f"usual line); missing: no face at medium framing or closer. {flagged} character"
              f"{'s' * (flagged != 1)} in the cut drift or are missing.", markup=False)
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
    if args.pin is not None or args.unpin:
        from storyboard.pipeline import pin_take
        if len(args.shots) != 1 or (args.pin is not None and args.unpin):
            raise UsageError("--pin N and --unpin take exactly one SHOT, and not both")
        path = pin_take(prep, args.shots[0], None if args.unpin else args.pin)
        out.print(f"{path}: shot {args.shots[0]} " + ("unpinned" if args.unpin else f"pinned to take {args.pin}")
                  + "; `storyboard render` makes the cut with it (nothing is rendered)", markup=False)
        return 0
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
        status = args.func(args)
        sys.stdout.flush()  # a reader that went away is seen here, not at exit after main has returned
        return status
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
    except BrokenPipeError as e:  # the reader of our output went away (`| head`): quiet, as a program SIGPIPE stops
        _stdout_to_devnull()
        return exit_code(e)
    except OSError as e:  # disk full, a file-size limit, permissions: the machine's, not the storyboard's
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        err.print(f"storyboard: cannot read or write{where}: {e.strerror or e}; nothing under a final name "
                  "was left half-written; free the space or fix the permissions and run again", markup=False)
        return exit_code(e)
    except Exception as e:  # a bug of ours: one line here, the traceback in a file
        log = _crash_log(e, argv if argv is not None else sys.argv[1:])
        err.print(f"storyboard: unexpected error ({type(e).__name__}); details in {log}; please report it",
                  markup=False)
        return exit_code(e)


def _stdout_to_devnull() -> None:
    """What Python's documentation advises after a broken pipe: whatever is still buffered for stdout
    goes nowhere, so the flush at exit raises nothing more."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (captured by a test): nothing to flush at exit
        pass


def _crash_log(e: BaseException, argv: list[str]) -> str:
    """The traceback, the command and the versions, in a new file in the user's log folder (the
    temporary folder when that cannot be written); the file's path."""
    import os
    import platform
    import tempfile
    import time
    import traceback

    from storyboard.redact import redact
    text = (f"storyboard {__version__}, Python {platform.python_version()} on {platform.platform()}\n"
            f"command: storyboard {' '.join(argv)}\n\n" + "".join(traceback.format_exception(e)))
    prefix = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-"
    try:
        from platformdirs import user_log_dir
        folder = Path(user_log_dir("storyboard"))
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=".log", dir=folder)  # a new file: one crash, one log
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(redact(text))
    return path

if __name__ == "__main__":
    raise SystemExit(main())
