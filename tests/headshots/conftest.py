"""Headshot test fixtures live in tests/conftest.py (shared with the browser tests);
re-exported here for modules that import them by name."""

from tests.conftest import cat_jpeg, face_jpeg, jpeg_bytes, media, worker_process  # noqa: F401
