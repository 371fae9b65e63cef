"""A clip is verified before it enters the cache: a provider's download is decoded whole; the
animatic's own clips (the house encoder, on this machine) are counted by their packets, which is
about thirty times cheaper and still refuses a clip of the wrong length."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from storyboard.errors import MediaError
from storyboard.media.ffmpeg import exe
from storyboard.media.probe import decodes, packets
from storyboard.renderer import verify_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("verify") / "clip.mp4"
    subprocess.run([exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=24", "-frames:v", "30",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def job(seconds: float):
    shot = SimpleNamespace(id="one", duration=seconds, fps=24, dimensions=(320, 180), size="320x180")
    return SimpleNamespace(shot=shot)


def test_packets_count_the_frames_a_decode_counts(clip):
    assert packets(clip) == decodes(clip) == 30


@pytest.mark.parametrize("house_encoded", [True, False])
def test_a_clip_of_the_wrong_length_is_refused_either_way(clip, house_encoded):
    assert verify_clip(clip, job(1.25), True, None, False, house_encoded)[1]["frames"] == 30
    with pytest.raises(MediaError, match="has 30 frames, not the 48 asked for"):
        verify_clip(clip, job(2.0), True, None, False, house_encoded)


def test_a_clip_that_does_not_read_is_refused_without_a_decode(tmp_path, clip):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[:2000])
    with pytest.raises(MediaError):
        verify_clip(broken, job(1.25), True, None, False, True)
