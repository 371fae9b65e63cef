"""A pytest plugin that records what each test costs, phase by phase (setup, call, teardown): wall
seconds and CPU seconds (this process's threads and the children it waited for: ffmpeg, CLI runs).
Wall much above CPU is a test that waits (a sleep, a timeout, a poll); CPU is what a busy machine
cannot hide. bench/suite.py --costs loads it (-p tests.costs) and prints the dearest tests.

Each xdist worker appends one JSON line per phase to the file named by STORYBOARD_TEST_COSTS."""

from __future__ import annotations

import json
import os
import resource
import time

import pytest

ENV = "STORYBOARD_TEST_COSTS"


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _measured(item, phase: str):
    path = os.environ.get(ENV)
    t0, c0 = time.monotonic(), _cpu()
    yield
    if path:
        line = json.dumps({"test": item.nodeid, "phase": phase, "wall": round(time.monotonic() - t0, 3),
                           "cpu": round(_cpu() - c0, 3), "end": round(time.time(), 3), "worker": os.environ.get("PYTEST_XDIST_WORKER", "")})
        with open(path, "a") as f:
            f.write(line + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _measured(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _measured(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    yield from _measured(item, "teardown")
