"""Face detection, landmarks and person segmentation with the models that ship inside
the mediapipe wheel (nothing is downloaded).

Models load once per process, lazily, and each is used under its own lock: mediapipe's
graphs are not safe to call from two threads at once. Detection and segmentation run on
a downscaled copy; the results are returned in full-size pixel coordinates.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging is noisy
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DETECT_LONG_SIDE = 480
# An upload is analysed at this size: the tiled search for a small face (below) looks at
# no more detail than this, and the mesh and the measures work on a crop of the face.
ANALYSIS_LONG_SIDE = DETECT_LONG_SIDE * 3
SEGMENT_LONG_SIDE = 320
MESH_CROP_SIDE = 256
MIN_DETECTION_CONFIDENCE = 0.5

# Face mesh landmark indices (mediapipe's canonical 468 + 10 iris points).
FOREHEAD = 10
CHIN = 152
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)  # fmt: skip
# "Image-left" and "image-right" eyes: the subject's right eye appears on the image left.
EYE_IMAGE_LEFT = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_IMAGE_RIGHT = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388,
                   466)  # fmt: skip
BROW_IMAGE_LEFT = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
BROW_IMAGE_RIGHT = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178,
              88, 95)  # fmt: skip
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181,
              91, 146)  # fmt: skip
NOSE_TIP = 1

_lock = threading.Lock()
_models: dict[str, Any] = {}
_model_locks: dict[str, threading.Lock] = {}


def _model(name: str) -> tuple[Any, threading.Lock]:
    """Build a mediapipe solution once per process (double-checked under a lock)."""
    model = _models.get(name)
    if model is None:
        with _lock:
            model = _models.get(name)
            if model is None:
                import mediapipe as mp  # heavy import: only when a model is first needed

                solutions = mp.solutions
                if name == "detect":
                    model = solutions.face_detection.FaceDetection(
                        model_selection=1, min_detection_confidence=MIN_DETECTION_CONFIDENCE
                    )
                elif name == "detect_near":
                    model = solutions.face_detection.FaceDetection(
                        model_selection=0, min_detection_confidence=MIN_DETECTION_CONFIDENCE
                    )
                elif name == "mesh":
                    model = solutions.face_mesh.FaceMesh(
                        static_image_mode=True,
                        max_num_faces=1,
                        refine_landmarks=True,
                        min_detection_confidence=0.3,
                    )
                elif name == "segment":
                    model = solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
                else:
                    raise KeyError(name)
                _model_locks[name] = threading.Lock()
                _models[name] = model
    return model, _model_locks[name]


# What the submit-time checks run (faces, landmarks), and what a render adds (the cut-out).
SUBMIT_MODELS = ("detect", "detect_near", "mesh")
RENDER_MODELS = (*SUBMIT_MODELS, "segment")


def models_warm(names: tuple[str, ...] = SUBMIT_MODELS) -> None:
    """Build these models now and run each once on a blank frame, so that a new process's
    first request does not pay it (~0.4 s a web worker). Cheap when already warm."""
    blank = np.zeros((64, 64, 3), np.uint8)
    for name in names:
        model, lock = _model(name)
        with lock:
            model.process(blank)


def downscale(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """A copy whose long side is at most `long_side`, and the factor to scale back up."""
    height, width = image.shape[:2]
    factor = max(height, width) / long_side
    if factor <= 1.0:
        return image, 1.0
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    return shrink(image, size), width / size[0]


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Downscale: an integer-factor area pass (OpenCV's fast path; a non-integer area
    resize costs ~10 ms even at 512 px) then a bilinear step for the remainder."""
    height, width = image.shape[:2]
    whole = int(min(width / size[0], height / size[1]))
    if whole >= 2:
        image = cv2.resize(image, (width // whole, height // whole), interpolation=cv2.INTER_AREA)
    if (image.shape[1], image.shape[0]) == tuple(size):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class FaceBox:
    """A detected face in full-size pixels."""

    x: float
    y: float
    width: float
    height: float
    score: float

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def as_tuple(self) -> tuple[int, int, int, int]:
        return round(self.x), round(self.y), round(self.width), round(self.height)

    def scaled(self, factor: float) -> FaceBox:
        return FaceBox(
            self.x * factor, self.y * factor, self.width * factor, self.height * factor, self.score
        )


@dataclass(frozen=True)
class FaceLandmarks:
    """The 478 mesh points of one face, full-size pixels, shape (478, 2)."""

    points: np.ndarray

    def mean(self, indices: tuple[int, ...]) -> np.ndarray:
        return self.points[list(indices)].mean(axis=0)

    def polygon(self, indices: tuple[int, ...]) -> np.ndarray:
        return self.points[list(indices)]

    @cached_property
    def eye_left(self) -> np.ndarray:
        return self.mean(EYE_IMAGE_LEFT)

    @cached_property
    def eye_right(self) -> np.ndarray:
        return self.mean(EYE_IMAGE_RIGHT)

    @property
    def eye_outline_left(self) -> np.ndarray:
        return self.polygon(EYE_IMAGE_LEFT)

    @property
    def eye_outline_right(self) -> np.ndarray:
        return self.polygon(EYE_IMAGE_RIGHT)

    @property
    def eye_center(self) -> np.ndarray:
        return (self.eye_left + self.eye_right) / 2

    @property
    def chin(self) -> np.ndarray:
        return self.points[CHIN]

    @property
    def forehead(self) -> np.ndarray:
        return self.points[FOREHEAD]

    @property
    def face_height(self) -> float:
        """Forehead (mesh point 10, near the hairline) to chin."""
        return float(np.linalg.norm(self.chin - self.forehead))

    @property
    def roll_degrees(self) -> float:
        dx, dy = self.eye_right - self.eye_left
        return float(np.degrees(np.arctan2(dy, dx)))

    def bounds(self) -> tuple[float, float, float, float]:
        oval = self.polygon(FACE_OVAL)
        x0, y0 = oval.min(axis=0)
        x1, y1 = oval.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)

    def transformed(self, scale: float, dx: float, dy: float) -> FaceLandmarks:
        return FaceLandmarks(self.points * scale + np.array([dx, dy]))


def detect_faces(image: np.ndarray) -> list[FaceBox]:
    """All faces, largest first, in full-size pixels (detection runs on a small copy;
    when that finds nothing in a large photo, on tiles of a larger copy, so a face that
    is merely small is reported as small rather than missing)."""
    faces = _detect_on(image)
    height, width = image.shape[:2]
    if faces or max(height, width) <= DETECT_LONG_SIDE * 1.5:
        return faces
    larger, factor = downscale(image, ANALYSIS_LONG_SIDE)
    lh, lw = larger.shape[:2]
    tile = DETECT_LONG_SIDE
    step = tile * 3 // 4
    found: list[FaceBox] = []
    for y in range(0, max(1, lh - tile // 4), step):
        for x in range(0, max(1, lw - tile // 4), step):
            for face in _detect_on(larger[y : y + tile, x : x + tile]):
                found.append(
                    FaceBox(
                        (face.x + x) * factor,
                        (face.y + y) * factor,
                        face.width * factor,
                        face.height * factor,
                        face.score,
                    )
                )
    return sorted(_dedupe(found), key=lambda face: face.area, reverse=True)


def _detect_on(image: np.ndarray) -> list[FaceBox]:
    small, factor = downscale(image, DETECT_LONG_SIDE)
    height, width = small.shape[:2]
    faces: list[FaceBox] = []
    for name in ("detect", "detect_near"):
        model, lock = _model(name)
        with lock:
            result = model.process(np.ascontiguousarray(small))
        for detection in result.detections or []:
            box = detection.location_data.relative_bounding_box
            x0 = max(0.0, box.xmin) * width
            y0 = max(0.0, box.ymin) * height
            x1 = min(1.0, box.xmin + box.width) * width
            y1 = min(1.0, box.ymin + box.height) * height
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            faces.append(
                FaceBox(
                    x0 * factor,
                    y0 * factor,
                    (x1 - x0) * factor,
                    (y1 - y0) * factor,
                    float(detection.score[0]),
                )
            )
        if faces:
            break  # the full-range model found them; the near model is the fallback
    faces = _dedupe(faces)
    return sorted(faces, key=lambda face: face.area, reverse=True)


def _dedupe(faces: list[FaceBox]) -> list[FaceBox]:
    kept: list[FaceBox] = []
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        if all(_iou(face, other) < 0.4 for other in kept):
            kept.append(face)
    return kept


def _iou(a: FaceBox, b: FaceBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1 = min(a.x + a.width, b.x + b.width)
    y1 = min(a.y + a.height, b.y + b.height)
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a.area + b.area - inter + 1e-9)


def face_landmarks(image: np.ndarray, face: FaceBox) -> FaceLandmarks | None:
    """Mesh landmarks for one detected face: the mesh runs on a square crop around it, so
    a small face in a large photo still gets enough pixels."""
    height, width = image.shape[:2]
    cx, cy = face.center
    side = max(face.width, face.height) * 2.2
    x0 = round(cx - side / 2)
    y0 = round(cy - side / 2)
    x1, y1 = round(x0 + side), round(y0 + side)
    crop = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if sx1 <= sx0 or sy1 <= sy0:
        return None
    crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    scale = MESH_CROP_SIDE / crop.shape[0]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(crop, (MESH_CROP_SIDE, MESH_CROP_SIDE), interpolation=interpolation)
    model, lock = _model("mesh")
    with lock:
        result = model.process(crop)
    if not result.multi_face_landmarks:
        return None
    marks = result.multi_face_landmarks[0].landmark
    points = np.array([(m.x, m.y) for m in marks], dtype=np.float64) * MESH_CROP_SIDE
    points = points / scale + np.array([x0, y0], dtype=np.float64)
    return FaceLandmarks(points)


def segment_person(image: np.ndarray) -> np.ndarray:
    """A float32 person mask in 0-1 at the size of the downscaled copy (the caller
    resizes it to wherever it is applied; it is smooth, so that loses nothing)."""
    small, _ = downscale(image, SEGMENT_LONG_SIDE)
    model, lock = _model("segment")
    with lock:
        result = model.process(np.ascontiguousarray(small))
    mask = result.segmentation_mask
    if mask is None:
        return np.zeros(small.shape[:2], np.float32)
    return np.clip(mask.astype(np.float32), 0.0, 1.0)


@dataclass(frozen=True)
class FaceAnalysis:
    """Everything the pipeline needs to know about the subject of a photo."""

    faces: list[FaceBox]
    landmarks: FaceLandmarks | None

    @property
    def primary(self) -> FaceBox | None:
        return self.faces[0] if self.faces else None

    def scaled(self, factor: float) -> FaceAnalysis:
        """The same analysis in the pixels of a copy `factor` times larger."""
        if factor == 1.0:
            return self
        landmarks = self.landmarks.transformed(factor, 0.0, 0.0) if self.landmarks else None
        return FaceAnalysis([face.scaled(factor) for face in self.faces], landmarks)


def analyse_faces(image: np.ndarray) -> FaceAnalysis:
    faces = detect_faces(image)
    landmarks = face_landmarks(image, faces[0]) if faces else None
    return FaceAnalysis(faces=faces, landmarks=landmarks)
