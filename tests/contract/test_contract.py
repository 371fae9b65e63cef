"""The one contract every remote backend keeps, run against each through its real SDK and its fake:
every request is paid for once at most (jobs made == requests), and the cap holds, whatever the
provider does: a lifecycle, a lost create reply, a 429 storm, a moderation block, an expired
download, a kill and a resume, two processes on one request, a cap under 500s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.backends.conftest import render
from tests.conftest import wait_for
from tests.contract.conftest import report

FILM = """
version: 1
defaults: {{model: {model}, size: 1280x720}}
shots:
  - {{id: one, duration: 4, action: A calm sea at dawn.}}
  - {{id: two, duration: 4, action: A gull crosses the frame.}}
  - {{id: three, duration: 8, action: Rain on the harbour.}}
"""
REQUESTS = 3
SECONDS = 4 + 4 + 8
# The same three requests as one-second shots, for the cases run through whole `storyboard render`
# processes that ask only what was paid: each is asked at the model's shortest clip and trimmed, so
# each process cuts 3 s of film instead of 16 s (the cut itself is checked in the lifecycle of
# tests/backends and tests/integration).
SHORT = FILM.replace("duration: 4,", "duration: 1,").replace("duration: 8,", "duration: 1,")


def film(provider, project, text=FILM):
    path = project / "film.yaml"
    path.write_text(text.format(model=provider.model))
    return path


def once_each(provider) -> bool:
    """No request was paid twice: every prompt the provider saw made one job at most."""
    return all(n == 1 for n in provider.fake.ledger.per_prompt().values())


def command(path, backend, *extra) -> list[str]:
    return [sys.executable, "-m", "storyboard", "render", str(path), "--backend", backend, "--yes", *extra]


def test_lifecycle(provider, project):
    path = film(provider, project)
    run = render(path, provider.backend)
    assert run.status == 0, {k: o.reason for k, o in run.outcomes.items()}
    ledger = provider.fake.ledger
    assert len(ledger.jobs) == REQUESTS and once_each(provider)
    assert run.rendered.spent == pytest.approx(SECONDS * provider.price)
    again = render(path, provider.backend)
    assert again.status == 0 and again.rendered.spent == 0 and len(ledger.jobs) == REQUESTS  # the cache serves it
    assert all(d["authorization"] in (None, "Bearer ***") for d in ledger.downloads)  # no key to a download host
    report(provider, "lifecycle", REQUESTS, run.status)


def test_lost_create_reply(provider, project):
    """The job was made; its reply never came. Found and adopted where the provider lists jobs; else the
    run stops (7) and never sends it again by itself."""
    provider.fake.faults.lose_reply_creates = 1
    path = film(provider, project)
    run = render(path, provider.backend, concurrency=1)
    assert once_each(provider)
    if provider.lists_unfinished:
        assert run.status == 0 and len(provider.fake.ledger.jobs) == REQUESTS
    else:
        assert run.status == 7 and "nothing is submitted again by itself" in str(run.rendered.stop)
        provider.fake.finish_all()  # time passes: the lost job ends at the provider
        again = render(path, provider.backend, concurrency=1)
        assert once_each(provider)
        assert again.status == (0 if provider.lists_ended else 7)
        if provider.lists_ended:
            assert len(provider.fake.ledger.jobs) == REQUESTS
    report(provider, "lost create reply", REQUESTS, run.status)


@pytest.mark.parametrize("storm", [4, 12])
def test_429_storm(provider, project, storm):
    """429s in a row: retried after Retry-After up to the table's submit_attempts (5), then the run stops
    (status 6) with nothing made; the next run, after the storm, pays each request once."""
    provider.fake.faults.rate_limit_creates = storm
    path = film(provider, project)
    run = render(path, provider.backend, concurrency=1)
    ledger = provider.fake.ledger
    if storm < 5:
        assert run.status == 0, {k: o.reason for k, o in run.outcomes.items()}
        assert ledger.creates == REQUESTS + storm
    else:
        assert run.status == 6 and "did not accept the job after 5 attempts" in str(run.rendered.stop)
        assert run.rendered.spent == pytest.approx(ledger.billed(provider.price)) and once_each(provider)
        provider.fake.faults.rate_limit_creates = 0
        assert render(path, provider.backend, concurrency=1).status == 0
    assert len(ledger.jobs) == REQUESTS and once_each(provider)
    report(provider, f"429 storm of {storm}", REQUESTS, run.status)


def test_moderation_block(provider, project):
    provider.fake.faults.moderate_prompts = ("gull",)
    path = film(provider, project)
    run = render(path, provider.backend)
    assert run.status == 1 and run.outcomes["two"].status == "blocked"
    assert [run.outcomes[s].status for s in ("one", "three")] == ["rendered", "rendered"]
    again = render(path, provider.backend)
    assert again.outcomes["two"].status == "blocked" and again.rendered.spent == 0
    assert len(provider.fake.ledger.jobs) == REQUESTS and once_each(provider)  # a refusal is not paid again
    report(provider, "moderation block", REQUESTS, run.status)


def test_expired_download(provider, project):
    if provider.inline_video:
        pytest.skip(f"{provider.backend} answers the video inline with the finished job: there is no URL to expire")
    provider.fake.faults.expire_downloads = True
    path = film(provider, project)
    run = render(path, provider.backend)
    assert run.status == 1 and all(o.status == "failed" for o in run.outcomes.values())
    assert all("no longer downloadable" in o.reason or "expired" in o.reason for o in run.outcomes.values())
    assert run.rendered.spent == pytest.approx(SECONDS * provider.price)  # paid, though not fetched
    again = render(path, provider.backend)
    assert len(provider.fake.ledger.jobs) == REQUESTS and once_each(provider)  # never paid again by itself
    assert again.rendered.spent == 0
    report(provider, "expired download", REQUESTS, run.status)


@pytest.mark.slow
def test_kill_and_resume(provider, project):
    path = film(provider, project, SHORT)
    provider.fake.faults.latency = 30  # jobs that take a while: the kill lands while they run
    proc = subprocess.Popen(command(path, provider.backend, "--concurrency", "3"), env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: len(provider.fake.ledger.jobs) >= REQUESTS, timeout=120)
    time.sleep(1.0)  # the replies reach the journal
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    provider.fake.faults.latency = 0
    done = subprocess.run(command(path, provider.backend), env=dict(os.environ), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(provider.fake.ledger.jobs) == REQUESTS and once_each(provider)  # re-attached, none paid again
    report(provider, "kill and resume", REQUESTS, done.returncode)


@pytest.mark.slow
def test_two_processes_on_one_request(provider, project):
    path = film(provider, project, SHORT)
    provider.fake.faults.latency = 2
    procs = [subprocess.Popen(command(path, provider.backend, "--out", str(project / f"out{i}")), env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in results]
    assert len(provider.fake.ledger.jobs) == REQUESTS and once_each(provider)  # one request, one job
    report(provider, "two processes on one request", REQUESTS, max(p.returncode for p in procs))


@pytest.mark.parametrize("every", [3, 4])
def test_cap_under_faults(provider, project, every):
    """500s every Nth request (a create among them made its job: a lost reply) with a cap of two shots'
    worth: what the provider billed stays under the cap, and what storyboard says it spent is that."""
    provider.fake.faults.fail_every = every
    cap = round(8 * provider.price, 4)
    run = render(film(provider, project), provider.backend, max_cost=cap, concurrency=1)
    billed = provider.fake.ledger.billed(provider.price)
    assert billed <= cap + 1e-9 and once_each(provider)
    assert run.rendered.spent <= billed + 1e-9  # counted when accepted; a lost reply is held, not yet spent
    report(provider, f"cap under 500 every {every}th", REQUESTS, run.status)


def test_quota_stops_the_run_with_nothing_made(provider, project):
    provider.fake.faults.quota = True
    run = render(film(provider, project), provider.backend, concurrency=1)
    assert run.status == 5 and not provider.fake.ledger.jobs and run.rendered.spent == 0
    report(provider, "quota refused", REQUESTS, run.status)
