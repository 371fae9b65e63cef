"""The benches run, at a small size, with the suite: a bench that breaks (an import moved, an API
renamed) fails here instead of silently on the day its figures are wanted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow  # a whole bench in a process of its own: CI runs it before anything merges
def test_scale_bench_runs_at_a_small_size(tmp_path):
    """bench/scale.py renders and cuts 3 shots on the animatic and reports the figures issue 29 asks for."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "scale.py"), "--shots", "3", "--json",
                           "--keep", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["shots"] == 3 and r["failed"] == 0
    assert r["frames"] == r["timeline"] == 3 * 2 * 24  # the cut is frame-exact
    assert r["pss_render"] > 0 and r["pss_cut"] > 0  # the whole tree was sampled
    assert r["pss_by_kind"].get("render_python child", 0) > 0  # the voices' process too (shot 1 has a line)
    assert r["render_cpu"] > 0 and r["cut_cpu"] > 0
    assert abs(r["loudness"] - -14.0) <= 0.5 and r["true_peak"] <= -1.0
