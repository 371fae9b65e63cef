"""A team's shared cache on object storage (moto's S3 on 127.0.0.1) and a render on a Dask
LocalCluster, against the fake Videos API: one paid job per request whoever asks, a killed process
or worker changes nothing paid, and a cluster's cut is byte for byte a local run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.media.probe import decodes
from tests.backends.conftest import sora, sora_media  # noqa: F401 - the fake Videos API
from tests.conftest import EXAMPLES, read_manifest, wait_for
from tests.objstore import bucket, moto_url, use_bucket  # noqa: F401 - the fake S3

FILM = """
version: 1
title: Sea
shots:
  - {id: one, duration: 4, action: A calm sea at dawn.}
  - {id: two, duration: 4, continuity: continuous, action: The sea darkens.}
  - {id: three, duration: 3, action: A gull crosses the frame.}
"""


@pytest.fixture
def film(sora, bucket, project):
    (project / "film.yaml").write_text(FILM)
    return project / "film.yaml"


def render(path: Path, out: str, scratch: Path, **popen) -> subprocess.Popen:
    """`storyboard render` in its own process, with its own local read-through folder (another
    artist's machine) and the team's bucket from the environment."""
    env = {**os.environ, "STORYBOARD_CACHE_LOCAL": str(scratch)}
    return subprocess.Popen([sys.executable, "-m", "storyboard", "render", str(path), "--backend", "openai", "--yes",
                             "--out", str(path.parent / out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, **popen)


@pytest.mark.slow
def test_two_machines_on_one_bucket_pay_each_request_once(sora, film, tmp_path):
    sora.behaviour.latency = 1.0
    sora.behaviour.create_delay = 0.5
    procs = [render(film, out, tmp_path / f"scratch-{out}") for out in ("a", "b")]
    errs = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert len(sora.ledger.jobs) == 3  # one per request, not 6
    spent = [read_manifest(film.parent / out)["spent"] for out in ("a", "b")]
    assert sum(spent) == pytest.approx(sora.ledger.billed(0.10))  # each reports what it paid
    assert (film.parent / "a" / "final.mp4").read_bytes() == (film.parent / "b" / "final.mp4").read_bytes()
    assert {p.name for p in (tmp_path / "scratch-b" / "clips").glob("*/*")} == \
        {p.name for p in (tmp_path / "scratch-a" / "clips").glob("*/*")}  # each fetched its own copies


@pytest.mark.slow
def test_a_machine_killed_mid_download_leaves_its_claim_to_the_other(sora, film, tmp_path):
    """The first process is killed while a clip is half downloaded: its claim and journal are in the
    bucket; the second takes the claim over (its owner is a dead process), re-attaches to the paid
    jobs and downloads them: the provider bills nothing more."""
    sora.behaviour.download_seconds = 3.0
    first = render(film, "a", tmp_path / "scratch-a", start_new_session=True)
    wait_for(lambda: sora.ledger.downloading)
    second = render(film, "b", tmp_path / "scratch-b")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    paid_before = len(sora.ledger.jobs)
    assert 1 <= paid_before <= 3
    sora.behaviour.download_seconds = 0
    err = second.communicate(timeout=240)[1]
    assert second.returncode == 0, err
    assert len(sora.ledger.jobs) == 3 and len({j["prompt"] for j in sora.ledger.jobs}) == 3  # nothing paid twice
    man = read_manifest(film.parent / "b")
    assert man["spent"] + man["spent_earlier"] == pytest.approx(sora.ledger.billed(0.10))
    assert decodes(film.parent / "b" / "final.mp4") == 11 * 24


@pytest.mark.slow
@pytest.mark.parametrize("kill", [False, True], ids=["all-workers-live", "a-worker-killed"])
def test_a_cluster_renders_the_series_like_a_local_run(sora, project, tmp_path, monkeypatch, moto_url, kill):
    series = project / "series"
    series.mkdir()
    for f in (EXAMPLES / "series").glob("*.yaml"):
        (series / f.name).write_text(f.read_text())
    files = [str(series / "ep01.yaml"), str(series / "ep02.yaml")]
    sora.behaviour.latency = 1.5
    # a local run first, on a local folder (the conftest's isolated cache)
    assert main(["render", *files, "--backend", "openai", "--yes", "--out", str(project / "local")]) == 0
    local_jobs = len(sora.ledger.jobs)
    # that run was an hour ago: a killed worker's unclear create is looked for among the key's recent jobs
    # made since its intent (less the backends' allowance for clock skew); the local run's jobs, made with
    # the same key for the same prompts seconds before and held in another cache, would otherwise pass
    for j in sora.ledger.jobs:
        j["created_at"] -= 3600
    # the same on a LocalCluster of 2 worker processes, against a fresh bucket
    use_bucket(moto_url, monkeypatch, tmp_path)
    killed = threading.Event()

    def kill_a_busy_worker():
        import psutil
        wait_for(lambda: len(sora.ledger.jobs) >= local_jobs + 1, timeout=120)
        workers = [p for p in psutil.Process().children() if "spawn" in " ".join(p.cmdline())]
        if workers:
            workers[0].kill()
            killed.set()
    watcher = threading.Thread(target=kill_a_busy_worker, daemon=True)
    if kill:
        watcher.start()
    assert main(["render", *files, "--backend", "openai", "--yes", "--out", str(project / "cluster"),
                 "--cluster", "local:2"]) == 0
    if kill:
        watcher.join(5)
        assert killed.is_set()
    assert len(sora.ledger.jobs) == 2 * local_jobs, [(j["id"], j["prompt"][-70:], j["created_at"]) for j in sora.ledger.jobs]
    # one job per request in each run: the kill paid nothing
    cluster_jobs = sora.ledger.jobs[local_jobs:]
    assert len({(j["prompt"], j["seconds"]) for j in cluster_jobs}) == local_jobs
    # what the run reports spent is what the provider billed it, the killed worker's job included
    # (ep02's shared shot reads as cached there, its cost as spent earlier, by ep01)
    billed = round(sum(float(j["added_seconds"]) for j in cluster_jobs) * 0.10, 4)
    assert sum(read_manifest(project / "cluster" / ep)["spent"] for ep in ("ep01", "ep02")) == pytest.approx(billed)
    for ep in ("ep01", "ep02"):
        assert (project / "cluster" / ep / "final.mp4").read_bytes() == (project / "local" / ep / "final.mp4").read_bytes()
