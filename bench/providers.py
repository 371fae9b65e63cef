"""Issue 24's figures: the backends and models `storyboard models` lists, each with its source date;
jobs paid against requests in every contract case for every backend (the contract suite, run through
each provider's real SDK against its fake); and the environment of every ffmpeg child during a render
with every provider key set (names only: it must hold no secret value).

    python bench/providers.py [--skip-contract]
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def models() -> None:
    from storyboard import catalog
    print("backends and models (storyboard models), with the date each row was read:")
    for b in catalog.table().values():
        print(f"  {b.name}{' (' + ', '.join(b.aliases) + ')' if b.aliases else ''}: needs {' or '.join(b.env) or 'nothing'}")
        for name, m in b.models.items():
            print(f"    {name:<26} read {m.read or '?':<10}  {m.source or '-'}")
        for old, r in b.retired.items():
            print(f"    retired {old} (since {r.since}) -> {r.successor}")


def contract() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "contract.jsonl"
        env = dict(os.environ, STORYBOARD_CONTRACT_REPORT=str(report))
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--slow",
                              str(ROOT / "tests/contract/test_contract.py")], cwd=ROOT, env=env,
                             capture_output=True, text=True)
        print("\ncontract suite:", run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-500:])
        rows = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    print(f"  {'backend':<8} {'case':<30} {'requests':>8} {'jobs paid':>9} {'most per request':>16} {'exit':>4}")
    for r in rows:
        print(f"  {r['backend']:<8} {r['case']:<30} {r['requests']:>8} {r['jobs']:>9} {r['most_per_request']:>16} "
              f"{r['status']:>4}")
    bad = [r for r in rows if r["most_per_request"] > 1 or r["jobs"] > r["requests"]]
    print(f"  cases: {len(rows)}; a request paid twice in {len(bad)}")


def child_env() -> None:
    """Render the bundled short film on the animatic with every provider key set; every ffmpeg child
    records its environment through a wrapper."""
    from storyboard import catalog
    from storyboard.media import ffmpeg
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        secrets = {n: f"SECRET-{n}-0123456789" for n in
                   sorted(catalog.env_names() | {"GOOGLE_APPLICATION_CREDENTIALS", "GEMINI_API_KEY", "GOOGLE_API_KEY"})}
        os.environ.update(secrets, STORYBOARD_CACHE=str(tmp / "cache"), STORYBOARD_CONFIG=str(tmp / "none.toml"))
        dumps = tmp / "envs"
        dumps.mkdir()
        wrapper = tmp / "ffmpeg"
        wrapper.write_text(f'#!/bin/sh\nenv -0 > "{dumps}/$$"\nexec "{ffmpeg.exe()}" "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
        ffmpeg.exe = lambda: str(wrapper)  # the one place media/ffmpeg.py finds the binary
        from storyboard.cli import main
        film = tmp / "film"
        import shutil
        shutil.copytree(ROOT / "examples" / "keeper", film, ignore=shutil.ignore_patterns("keeper"))
        status = main(["render", str(film / "keeper.yaml"), "--backend", "animatic", "--out", str(tmp / "out")])
        envs = [dict(i.split("=", 1) for i in p.read_text().split("\0") if "=" in i) for p in dumps.iterdir()]
    names = sorted(set().union(*envs)) if envs else []
    leaked = sorted({k for e in envs for k, v in e.items() if any(s in v for s in secrets.values())})
    print(f"\nffmpeg children during an animatic render of examples/keeper (exit {status}) with "
          f"{len(secrets)} provider names set ({', '.join(secrets)}):")
    print(f"  children: {len(envs)}; names in their environment: {', '.join(names)}")
    print(f"  provider names present: {sorted(set(names) & set(secrets)) or 'none'}; "
          f"variables holding a secret value: {leaked or 'none'}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-contract", action="store_true")
    args = ap.parse_args()
    models()
    if not args.skip_contract:
        contract()
    child_env()
