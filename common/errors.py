"""The one error type domain code raises; common.api maps it to the JSON error shape."""

from __future__ import annotations


class ApplicationError(Exception):
    """A rule said no. `code` is stable for clients; `status` is the HTTP status."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after  # seconds, for a refusal that lifts by itself (429)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(ApplicationError):
    """Missing, or not the actor's to see: the two are never told apart."""

    status = 404
    code = "not_found"


class Forbidden(ApplicationError):
    status = 403
    code = "permission_denied"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


class InsufficientCredits(ApplicationError):
    status = 402
    code = "insufficient_credits"


MAX_ID = 2**63 - 1  # the largest primary key a bigint column holds


def object_id(value) -> int:
    """An id from a URL or a body as an int a bigint column can hold, else NotFound."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("Not found.") from None
    if not 1 <= number <= MAX_ID:
        raise NotFound("Not found.")
    return number
