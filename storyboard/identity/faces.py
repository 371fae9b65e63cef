"""Faces in pictures: dlib's frontal face detector, its 5-point landmarks and its face-recognition
network (128-d descriptors; weights from the PyPI package face-recognition-models, CC0), over frames
sampled from a clip with PyAV. Nothing is downloaded at run time. Only this module imports dlib."""

from __future__ import annotations

import base64
import io
import math
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

RECORD_VERSION = 1  # bump when sampling or detection changes: records of older versions are made again
DETECT_WIDTH = 1280  # frames are searched at this width at most (dlib finds faces from about 80 px)
SAMPLES_PER_SECOND = 0.8  # sampled frames: enough to see a character on screen for part of a clip
MIN_SAMPLES, MAX_SAMPLES = 4, 8
EMBED_FRAMES = 3  # frames whose faces are described (spread over the frames with faces)
EMBED_PER_FRAME = 3  # the largest faces of each
CROP_HEIGHT = 112  # the face still kept for the review page
_lock = threading.Lock()


class Models:
    """dlib's three models, loaded once per process."""

    def __init__(self):
        import dlib
        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(str(weights("shape_predictor_5_face_landmarks.dat")))
        self.net = dlib.face_recognition_model_v1(str(weights("dlib_face_recognition_resnet_model_v1.dat")))


def weights(name: str) -> Path:
    """A model file of the face-recognition-models package, found without importing it (its
    __init__ needs pkg_resources, which new setuptools no longer ships)."""
    import importlib.util
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("face-recognition-models is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / name


@lru_cache(maxsize=1)
def models() -> Models:
    with _lock:
        return Models()


def _rgb(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a[..., :3], dtype=np.uint8)


def _crop(img: np.ndarray, box: tuple[int, int, int, int]) -> str:
    """The face with a margin, CROP_HEIGHT tall, as base64 JPEG."""
    from PIL import Image
    x, y, w, h = box
    m = int(0.35 * max(w, h))
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + h + m)
    im = Image.fromarray(img[y0:y1, x0:x1])
    im = im.resize((max(1, round(im.width * CROP_HEIGHT / max(1, im.height))), CROP_HEIGHT))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def find_faces(img: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in full-picture pixels, largest first; searched at DETECT_WIDTH at most."""
    m = models()
    scale = min(1.0, DETECT_WIDTH / img.shape[1])
    small = img
    if scale < 1.0:
        from PIL import Image
        small = _rgb(np.asarray(Image.fromarray(img).resize((DETECT_WIDTH, round(img.shape[0] * scale)))))
    boxes = []
    for r in m.detector(small, 0):
        boxes.append((round(r.left() / scale), round(r.top() / scale), round(r.width() / scale),
                      round(r.height() / scale)))
    return sorted(boxes, key=lambda b: -b[2] * b[3])


def describe(img: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[list[float]]:
    """A 128-d descriptor of each face box."""
    import dlib
    m = models()
    shapes = dlib.full_object_detections()
    for x, y, w, h in boxes:
        shapes.append(m.landmarks(img, dlib.rectangle(x, y, x + w, y + h)))
    if not boxes:
        return []
    return [[round(float(v), 5) for v in d] for d in m.net.compute_face_descriptor(img, shapes)]


def sample_count(seconds: float) -> int:
    return max(MIN_SAMPLES, min(MAX_SAMPLES, math.ceil(seconds * SAMPLES_PER_SECOND)))


def sample_frames(path: Path, count: int | None = None) -> tuple[list[tuple[float, np.ndarray]], float]:
    """([(seconds, RGB picture)], clip seconds): frames at the middles of `count` equal parts of the clip.
    Reads the key frames' places first and seeks only where a key frame lies between the last decoded
    frame and the next wanted one (decoding forward is cheaper otherwise)."""
    import av
    with av.open(str(path), options={"protocol_whitelist": "file"}) as c:
        s = c.streams.video[0]
        tb = float(s.time_base)
        keys: list[int] = []
        last_pts = 0
        for pkt in c.demux(s):
            if pkt.pts is None:
                continue
            last_pts = max(last_pts, pkt.pts + (pkt.duration or 0))
            if pkt.is_keyframe:
                keys.append(pkt.pts)
        seconds = last_pts * tb if last_pts else float(c.duration or 0) / 1e6
        n = count or sample_count(seconds)
        targets = [(k + 0.5) / n * seconds for k in range(n)]
        keys.sort()
        out: list[tuple[float, np.ndarray]] = []
        s.thread_type = "AUTO"
        decoded_to = -1.0
        frames = None
        for t in targets:
            pts = int(t / tb)
            key = max((k for k in keys if k <= pts), default=None)
            if frames is None or (key is not None and key * tb > decoded_to):
                c.seek(key if key is not None else 0, stream=s, backward=True)
                frames = c.decode(s)
            for fr in frames:
                if fr.pts is None:
                    continue
                decoded_to = fr.pts * tb
                if decoded_to + 0.5 * tb >= t:
                    out.append((round(decoded_to, 3), fr.to_ndarray(format="rgb24")))
                    break
            else:
                break
    return out, float(seconds)


def clip_record(path: Path, count: int | None = None) -> dict:
    """What the identity check keeps of a clip (cached by the clip's digest): the sampled frames, the
    faces found in each, and descriptors and stills of the faces of a few frames with faces."""
    sampled, seconds = sample_frames(path, count)
    found = [(t, img, find_faces(img)) for t, img in sampled]
    with_faces = [i for i, (_, _, boxes) in enumerate(found) if boxes]
    if len(with_faces) > EMBED_FRAMES:  # spread over the frames with faces: first, middle, last...
        step = (len(with_faces) - 1) / (EMBED_FRAMES - 1)
        with_faces = [with_faces[round(k * step)] for k in range(EMBED_FRAMES)]
    frames = []
    for i, (t, img, boxes) in enumerate(found):
        embs = describe(img, boxes[:EMBED_PER_FRAME]) if i in with_faces else []
        faces = []
        for j, box in enumerate(boxes):
            face = {"box": list(box), "emb": embs[j] if j < len(embs) else None}
            if face["emb"]:
                face["still"] = _crop(img, box)
            faces.append(face)
        frames.append({"t": t, "faces": faces})
    h, w = sampled[0][1].shape[:2] if sampled else (0, 0)
    return {"v": RECORD_VERSION, "seconds": round(seconds, 3), "size": [w, h], "frames": frames}


def reference_record(path: Path) -> dict:
    """A reference's faces: the largest face of a still, or of each of a few frames of a cameo video."""
    suffix = path.suffix.lower()
    if suffix in (".mp4", ".mov", ".m4v", ".webm"):
        pictures = [img for _, img in sample_frames(path, 5)[0]]
    else:
        from PIL import Image, ImageOps
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            if max(im.size) > 2000:
                im.thumbnail((2000, 2000))
            pictures = [_rgb(np.asarray(im))]
    faces = []
    for img in pictures:
        boxes = find_faces(img)[:1]
        if boxes:
            faces.append({"box": list(boxes[0]), "emb": describe(img, boxes)[0], "still": _crop(img, boxes[0])})
    return {"v": RECORD_VERSION, "faces": faces, "pictures": len(pictures)}
