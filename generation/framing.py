"""Head-and-shoulders framing: where the crop goes in the source photo.

Rules a portrait photographer uses: the eyes on a line a third from the top, the face
(forehead to chin) a set share of the frame height (tighter for LinkedIn, looser for
editorial), centred on the face, shoulders in frame. When the photo is too tight the
frame extends past it and the gap is filled with backdrop later, never with stretched
edge pixels; when the photo ends above the frame's bottom we zoom in a little rather
than show the body cut off by a straight line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .vision import FaceLandmarks

EYE_LINE = 1 / 3  # eyes this far down from the top of the frame
MAX_FACE_WIDTH_SHARE = 0.5  # cap so the shoulders fit across narrow (9:16) frames
MAX_ZOOM = 1.5  # how much tighter than asked we go to avoid a cut-off body
MAX_SIDE_SHIFT = 0.10  # how far off-centre (share of frame width) to stay inside the photo


def effective_face_share(framing: float, width: int, height: int) -> float:
    """The face share of the frame height actually used for a frame of width x height."""
    return min(framing, MAX_FACE_WIDTH_SHARE * width / height)


@dataclass(frozen=True)
class Crop:
    """A crop rectangle in source pixels (may extend past the photo) and its scale."""

    x: float
    y: float
    width: float
    height: float
    face_share: float  # the share the crop gives the face
    zoom: float  # >1 when we went tighter than asked to keep the body in frame
    padded: tuple[str, ...]  # sides where the frame extends past the photo

    def scale_for(self, out_width: int) -> float:
        return out_width / self.width

    def scaled(self, factor: float) -> Crop:
        """The same rectangle in the pixels of a copy `factor` times the size."""
        if factor == 1.0:
            return self
        return replace(
            self,
            x=self.x * factor,
            y=self.y * factor,
            width=self.width * factor,
            height=self.height * factor,
        )


def plan_crop(
    landmarks: FaceLandmarks,
    source_size: tuple[int, int],
    out_size: tuple[int, int],
    framing: float,
    *,
    x_offset: float = 0.0,
    max_zoom: float = MAX_ZOOM,
) -> Crop:
    """Place the crop: eyes on EYE_LINE, face share from the style, centred on the face
    (plus `x_offset`, a share of the frame width, for variations). `max_zoom` bounds
    how much tighter than asked we go to keep a photo that ends early in frame."""
    src_w, src_h = source_size
    out_w, out_h = out_size
    share = effective_face_share(framing, out_w, out_h)
    eye_x, eye_y = (float(v) for v in landmarks.eye_center)
    # Centre between the eyes and the chin: steadier than the eyes alone on a turned head.
    centre_x = (eye_x + float(landmarks.chin[0])) / 2
    crop_h = landmarks.face_height / share
    # Tighten (keeping the eye line) rather than show the body cut off by the photo's
    # bottom or side edges: a frame that ends where the photo does, or fits its width.
    wanted = 1.0
    bottom_room = src_h - eye_y
    if eye_y + crop_h * (1 - EYE_LINE) > src_h and bottom_room > 0:
        wanted = crop_h / (bottom_room / (1 - EYE_LINE))
    crop_w_wanted = crop_h * out_w / out_h
    if crop_w_wanted > src_w:
        wanted = max(wanted, crop_w_wanted / src_w)
    zoom = max(1.0, min(max_zoom, wanted))
    crop_h = crop_h / zoom
    crop_w = crop_h * out_w / out_h
    y0 = eye_y - crop_h * EYE_LINE
    x0 = centre_x - crop_w / 2 + x_offset * crop_w
    # Slide sideways a little to stay inside the photo, but keep the face well inside.
    max_shift = MAX_SIDE_SHIFT * crop_w
    if x0 < 0 <= x0 + crop_w - src_w:
        pass  # wider than the photo: nothing to gain by sliding
    elif x0 < 0:
        x0 += min(-x0, max_shift)
    elif x0 + crop_w > src_w:
        x0 -= min(x0 + crop_w - src_w, max_shift)
    padded = tuple(
        side
        for side, outside in (
            ("top", y0 < -0.5),
            ("bottom", y0 + crop_h > src_h + 0.5),
            ("left", x0 < -0.5),
            ("right", x0 + crop_w > src_w + 0.5),
        )
        if outside
    )
    return Crop(
        x=x0,
        y=y0,
        width=crop_w,
        height=crop_h,
        face_share=landmarks.face_height / crop_h,
        zoom=zoom,
        padded=padded,
    )
