"""A render whose every clip is already in a team's bucket: how long the reads of the records take
when each read is a round trip, one at a time against several at once (store.shared.ObjectCache
.READS_AT_ONCE). moto's S3 on 127.0.0.1 answers in about a millisecond; a bucket across a network
answers in tens, so every read here is made to wait --latency ms first (what a real link would add).

    python bench/bucket_reads.py [--shots 40] [--latency 30]

Prints, for 1 and 8 reads at once: the wall time of `render` with everything cached (plan, the
renderer's records, the cut's checks, the sheet's takes) and the number of reads."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=40)
    ap.add_argument("--latency", type=float, default=30.0, help="milliseconds every read of the bucket waits")
    args = ap.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from tests.objstore import SerialWritesMoto
    server = SerialWritesMoto(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-bucket-"))
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ENDPOINT_URL=f"http://{host}:{port}", STORYBOARD_CACHE="s3://bench/team",
                      STORYBOARD_CONFIG=str(tmp / "config.toml"), XDG_CACHE_HOME=str(tmp / "xdg"))
    import s3fs
    s3fs.S3FileSystem().call_s3("create_bucket", Bucket="bench")

    import storyboard
    from storyboard.store.objects import S3Store
    from storyboard.store.shared import ObjectCache
    shots = "".join(f"  - id: s{i}\n    duration: 1\n    action: A gull lands on post {i}.\n" for i in range(args.shots))
    film = tmp / "film.yaml"
    film.write_text(f"version: 1\ntitle: Bucket\nshots:\n{shots}")
    (tmp / ".storyboard").write_text("")
    storyboard.render(film, tmp / "out", backend="animatic")  # every clip made and in the bucket

    real, reads = S3Store.read, [0]

    def far(self, key):
        reads[0] += 1
        time.sleep(args.latency / 1000)
        return real(self, key)
    S3Store.read = far
    try:
        for at_once in (1, ObjectCache.READS_AT_ONCE):
            ObjectCache.READS_AT_ONCE = at_once
            reads[0] = 0
            t = time.perf_counter()
            storyboard.render(film, tmp / "out", backend="animatic")
            print(f"{args.shots} shots cached in the bucket, {args.latency:g} ms a read, {at_once} at once: "
                  f"render {time.perf_counter() - t:.1f} s, {reads[0]} reads")
    finally:
        S3Store.read = real
        server.stop()


if __name__ == "__main__":
    main()
