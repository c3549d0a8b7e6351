"""Upload inspection, run before any credit is held: is this photo usable, and if not,
what can the member do about it? Each issue has a stable code, a plain message and
whether it blocks the upload; the score summarises the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import BadImage
from .imaging import load_for_analysis
from .measures import eye_visibility, face_crop, luminance, sharpness
from .vision import ANALYSIS_LONG_SIDE, analyse_faces

MIN_IMAGE_SIDE = 400  # px on the short side
MIN_FACE_SIDE = 90  # px, face box height
MIN_FACE_SHARE = 0.08  # face box height as a share of the image height
SECOND_FACE_SHARE = 0.2  # a second face at least this large (by area) counts as a person
BLURRY_BELOW = 40.0  # Laplacian variance of the face at 160 px wide
VERY_BLURRY_BELOW = 12.0  # below this the upload is refused, not just marked down
DARK_BELOW = 60.0  # mean face luminance 0-255
BRIGHT_ABOVE = 210.0
EDGE_MARGIN = 0.02  # share of the image size
EYES_COVERED_BELOW = 0.6  # measures.eye_visibility: open eyes 0.84+, lenses 0.51 or less
PASS_SCORE = 50

# (penalty, blocks the upload)
_PENALTIES: dict[str, tuple[int, bool]] = {
    "not_an_image": (100, True),
    "no_face": (100, True),
    "multiple_faces": (60, True),
    "image_too_small": (40, True),
    "face_too_small": (45, True),
    "blurry": (35, False),
    "very_blurry": (60, True),
    "too_dark": (30, False),
    "too_bright": (30, False),
    # A warning only: it must never tip an otherwise usable photo under the pass score
    # (a dark photo often has shadowed eyes too).
    "eyes_covered": (0, False),
    "face_cut_off": (35, True),
    "head_cut_off": (20, False),
    "shoulders_cut_off": (10, False),
}

MESSAGES = {
    "no_face": "We could not find a face. Use a photo where your face is clearly visible "
    "and facing the camera.",
    "multiple_faces": "There is more than one person in this photo. Use a photo of just you, "
    "or crop the others out.",
    "image_too_small": "The photo is too small. Use the original photo from your camera or "
    "phone (at least 400 pixels on the short side).",
    "face_too_small": "Your face is too small in this photo. Move closer to the camera or crop "
    "the photo around your head and shoulders.",
    "very_blurry": "The photo is too blurry to use. Hold the camera steady, tap to focus on "
    "your face and make sure the lens is clean.",
    "blurry": "The photo looks blurry. Hold the camera steady, tap to focus on your face and "
    "make sure the lens is clean.",
    "too_dark": "The photo is too dark. Face a window or a lamp so your face is evenly lit.",
    "too_bright": "The photo is too bright or washed out. Avoid direct sun or flash on your face.",
    "eyes_covered": "Your eyes look covered, by sunglasses or a deep shadow. Take sunglasses "
    "off and face the light: the headshot keeps your eyes as they are in the photo.",
    "face_cut_off": "Your face is cut off at the edge of the photo. Use a photo with your "
    "whole face in the frame.",
    "head_cut_off": "The top of your head is cut off. Leave a little space above your hair.",
    "shoulders_cut_off": "Your shoulders are not in the photo. A head-and-shoulders photo "
    "gives the best result.",
}


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    blocking: bool


@dataclass(frozen=True)
class Inspection:
    score: int  # 0-100
    ok: bool
    issues: tuple[Issue, ...] = field(default_factory=tuple)
    face_box: tuple[int, int, int, int] | None = None  # x, y, width, height in pixels
    width: int = 0
    height: int = 0
    faces: int = 0
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def reasons(self) -> list[str]:
        return [issue.message for issue in self.issues]

    @property
    def codes(self) -> list[str]:
        return [issue.code for issue in self.issues]

    def as_dict(self) -> dict:
        """JSON-ready, for an API answer or a model field."""
        return {
            "score": self.score,
            "ok": self.ok,
            "issues": [
                {"code": i.code, "message": i.message, "blocking": i.blocking} for i in self.issues
            ],
            "face_box": list(self.face_box) if self.face_box else None,
            "width": self.width,
            "height": self.height,
            "faces": self.faces,
            "measures": dict(self.measures),
        }


def _issue(code: str, message: str | None = None) -> Issue:
    return Issue(code, message or MESSAGES[code], _PENALTIES[code][1])


def _result(issues: list[Issue], **kwargs) -> Inspection:
    score = max(0, 100 - sum(_PENALTIES[issue.code][0] for issue in issues))
    ok = score >= PASS_SCORE and not any(issue.blocking for issue in issues)
    return Inspection(score=score, ok=ok, issues=tuple(issues), **kwargs)


def inspect_upload(data: bytes) -> Inspection:
    """Judge an upload. Never raises for bad input: a file that is not a usable image
    comes back with ok=False and the reason. The faces are analysed on a reduced copy
    (every model runs smaller still) and reported in full-size pixels."""
    try:
        image, (width, height) = load_for_analysis(data, ANALYSIS_LONG_SIDE)
    except BadImage as exc:
        return _result([Issue("not_an_image", exc.message, True)])
    array = np.asarray(image)
    factor = max(width, height) / max(image.size)
    issues: list[Issue] = []
    if min(width, height) < MIN_IMAGE_SIDE:
        issues.append(_issue("image_too_small"))
    analysed = analyse_faces(array)
    if not analysed.faces:
        return _result([*issues, _issue("no_face")], width=width, height=height, faces=0)
    found = analysed.faces[0]  # measured in the copy it was found in
    region = face_crop(array, (found.x, found.y, found.width, found.height))
    analysis = analysed.scaled(factor)
    faces = analysis.faces
    primary = faces[0]
    others = [face for face in faces[1:] if face.area >= SECOND_FACE_SHARE * primary.area]
    if others:
        issues.append(_issue("multiple_faces"))
    if primary.height < MIN_FACE_SIDE or primary.height < MIN_FACE_SHARE * height:
        issues.append(_issue("face_too_small"))
    blur = sharpness(region)
    mean, _dark, _bright = luminance(region)
    if blur < VERY_BLURRY_BELOW:
        issues.append(_issue("very_blurry"))
    elif blur < BLURRY_BELOW:
        issues.append(_issue("blurry"))
    if mean < DARK_BELOW:
        issues.append(_issue("too_dark"))
    elif mean > BRIGHT_ABOVE:
        issues.append(_issue("too_bright"))
    eyes = eye_visibility(array, analysed.landmarks) if analysed.landmarks is not None else None
    if eyes is not None and eyes < EYES_COVERED_BELOW:
        issues.append(_issue("eyes_covered"))
    issues.extend(_framing_issues(analysis, width, height))
    return _result(
        issues,
        face_box=primary.as_tuple(),
        width=width,
        height=height,
        faces=1 + len(others),
        measures={
            "sharpness": round(blur, 1),
            "face_luminance": round(mean, 1),
            "face_height_share": round(primary.height / height, 3),
            **({"eye_visibility": round(eyes, 2)} if eyes is not None else {}),
        },
    )


def _framing_issues(analysis, width: int, height: int) -> list[Issue]:
    """Where the person runs off the frame: say so rather than invent pixels."""
    issues: list[Issue] = []
    box = analysis.primary
    margin_x, margin_y = EDGE_MARGIN * width, EDGE_MARGIN * height
    landmarks = analysis.landmarks
    if landmarks is not None:
        x, y, w, h = landmarks.bounds()
        if x < margin_x or y < 0 or x + w > width - margin_x or y + h > height - margin_y:
            issues.append(_issue("face_cut_off"))
            return issues
        face_h = landmarks.face_height
        hair_top = float(landmarks.forehead[1]) - 0.35 * face_h
        if hair_top < 0:
            issues.append(_issue("head_cut_off"))
        if float(landmarks.chin[1]) + 0.45 * face_h > height:
            issues.append(_issue("shoulders_cut_off"))
        return issues
    if (
        box.x < margin_x
        or box.y < margin_y
        or box.x + box.width > width - margin_x
        or box.y + box.height > height - margin_y
    ):
        issues.append(_issue("face_cut_off"))
    return issues
