"""The one error family of the generation package: every error carries a code and a
message a member or an operator can act on."""

from __future__ import annotations


class GenerationError(Exception):
    """Base error: `code` is stable for programs, `message` is plain words for people."""

    default_code = "generation_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class BadImage(GenerationError):
    """The bytes are not an image we can safely use."""

    default_code = "bad_image"


class NoFace(GenerationError):
    default_code = "no_face"


class EngineUnavailable(GenerationError):
    default_code = "engine_unavailable"


class ProviderError(GenerationError):
    """A remote provider failed: `status` is the HTTP status when there was one."""

    default_code = "provider_error"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class CheckFailed(GenerationError):
    """Every attempt at some image was rejected by the identity or quality check.
    `accepted` holds the images of the same request that did pass (deliver those);
    `rejected` the scores of every rejected attempt."""

    default_code = "check_failed"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        accepted: list | None = None,
        rejected: list | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.accepted = accepted or []
        self.rejected = rejected or []
