"""The checks each finished image gets: identity similarity against the upload and a
simple quality score; `render_checked` re-renders what fails, with a new seed."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PIL import Image

from .errors import CheckFailed, NoFace
from .identity import DEFAULT_IDENTITY_THRESHOLD, aligned_face, cosine, embed_face_crop
from .imaging import as_rgb_array, derive_seed, load_for_analysis
from .interface import Engine, RenderedImage, RenderRequest
from .measures import exposure_score, face_crop, luminance, sharpness, sharpness_score
from .vision import ANALYSIS_LONG_SIDE, FaceAnalysis, analyse_faces

DEFAULT_MIN_QUALITY = 35.0


def _embedding(array: np.ndarray, analysis: FaceAnalysis) -> np.ndarray | None:
    if analysis.landmarks is None:
        return None
    return embed_face_crop(aligned_face(array, analysis.landmarks))


_SOURCE_EMBEDDINGS: OrderedDict[bytes, np.ndarray | None] = OrderedDict()
_SOURCE_EMBEDDINGS_SIZE = 8
_source_lock = threading.Lock()


def source_embedding(source: bytes) -> np.ndarray | None:
    """The upload's face embedding, or None without a face. Every image of a batch is
    checked against the same upload, so a few recent ones are kept by content hash; the
    face is found on a reduced decode (the crop FaceNet sees is 160 px, far below it)."""
    key = hashlib.blake2b(source, digest_size=16).digest()
    with _source_lock:
        if key in _SOURCE_EMBEDDINGS:
            _SOURCE_EMBEDDINGS.move_to_end(key)
            return _SOURCE_EMBEDDINGS[key]
    image, _size = load_for_analysis(source, ANALYSIS_LONG_SIDE)
    array = np.asarray(image)
    embedding = _embedding(array, analyse_faces(array))
    with _source_lock:
        _SOURCE_EMBEDDINGS[key] = embedding
        while len(_SOURCE_EMBEDDINGS) > _SOURCE_EMBEDDINGS_SIZE:
            _SOURCE_EMBEDDINGS.popitem(last=False)
    return embedding


def _quality(array: np.ndarray, analysis: FaceAnalysis) -> float:
    if analysis.landmarks is not None:
        region = face_crop(array, analysis.landmarks.bounds())
    else:
        region = array
    mean, dark, bright = luminance(region)
    return round(
        100.0
        * (0.6 * sharpness_score(sharpness(region)) + 0.4 * exposure_score(mean, dark, bright)),
        1,
    )


def quality_score(image: Image.Image | np.ndarray | bytes) -> float:
    """0-100: sharpness (Laplacian variance) and exposure of the face, or of the whole
    frame when there is no face."""
    array = as_rgb_array(image)
    return _quality(array, analyse_faces(array))


@dataclass(frozen=True)
class CheckedImage:
    image: RenderedImage  # its metadata carries the scores under "checks"
    identity: float | None
    quality: float
    attempts: int


@dataclass(frozen=True)
class CheckedRender:
    images: list[CheckedImage]
    attempts: int  # renders made in total, accepted or not
    rejected: list[dict[str, Any]] = field(default_factory=list)  # scores of the rejects


def _score(image: RenderedImage, source_embedding: np.ndarray) -> tuple[float | None, float]:
    array = as_rgb_array(image.data)
    analysis = analyse_faces(array)
    embedding = _embedding(array, analysis)
    identity = None if embedding is None else round(cosine(source_embedding, embedding), 4)
    return identity, _quality(array, analysis)


def render_checked(
    engine: Engine,
    request: RenderRequest,
    *,
    threshold: float = DEFAULT_IDENTITY_THRESHOLD,
    min_quality: float = DEFAULT_MIN_QUALITY,
    max_attempts: int = 3,
) -> CheckedRender:
    """Render each image of the request and keep it only if the face still matches the
    upload (cosine >= threshold) and its quality score is >= min_quality. A rejected
    image is rendered again with a seed derived from the original, up to max_attempts
    renders per image. Raises CheckFailed (with `.accepted`, the images that did pass)
    when some image fails every attempt."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    embedding = source_embedding(request.source)
    if embedding is None:
        raise NoFace("We could not find a face in the uploaded photo to compare against.")
    accepted: list[CheckedImage] = []
    rejected: list[dict[str, Any]] = []
    renders = 0
    for offset in range(request.count):
        single = replace(request, count=1, variation=request.variation + offset)
        best: dict[str, Any] | None = None
        for attempt in range(1, max_attempts + 1):
            seed = single.seed if attempt == 1 else derive_seed(single.seed, "retry", attempt)
            [image] = engine.render(replace(single, seed=seed))[:1]
            renders += 1
            identity, quality = _score(image, embedding)
            passed = identity is not None and identity >= threshold and quality >= min_quality
            scores = {
                "variation": single.variation,
                "seed": seed,
                "attempt": attempt,
                "identity": identity,
                "quality": quality,
                "threshold": threshold,
                "min_quality": min_quality,
                "passed": passed,
            }
            if passed:
                checked = replace(image, metadata={**image.metadata, "checks": scores})
                accepted.append(CheckedImage(checked, identity, quality, attempt))
                break
            rejected.append(scores)
            if best is None or (identity or -1) > (best["identity"] or -1):
                best = scores
        else:
            error = CheckFailed(
                f"The result did not pass the identity and quality checks after "
                f"{max_attempts} attempts (best identity {best and best['identity']}, "
                f"needed {threshold}).",
                code="identity_mismatch"
                if best and (best["identity"] is None or best["identity"] < threshold)
                else "low_quality",
                accepted=accepted,
                rejected=rejected,
            )
            raise error
    return CheckedRender(images=accepted, attempts=renders, rejected=rejected)
