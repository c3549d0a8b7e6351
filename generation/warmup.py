"""What a new process builds before it serves anyone, so that no member's request pays
it: the models a web worker's upload inspection runs (~0.4 s), and what a render worker
adds (person segmentation and the FaceNet graph of the identity check, ~1 s more).
gunicorn.conf.py's `post_worker_init` and the Celery worker's `worker_process_init` call
these; each model is built once per process, so a second call costs a few milliseconds."""

from __future__ import annotations

from . import identity, vision


def submit_models_warm() -> None:
    """Build and run once what `inspect_upload` needs (a web worker)."""
    vision.models_warm(vision.SUBMIT_MODELS)


def render_models_warm() -> None:
    """Build and run once what a render and its checks need (a render worker)."""
    vision.models_warm(vision.RENDER_MODELS)
    identity.facenet_warm()
