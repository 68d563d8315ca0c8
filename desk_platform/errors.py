"""Errors the platform answers with: each maps to one HTTP status and one stable ``error`` code
(:class:`sync.protocol.ErrorBody`). ``detail`` goes to the caller and the log: never PII."""

from __future__ import annotations

from sync.protocol import NOT_OWN_VISIT


class PlatformError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, detail: str = ""):
        self.detail = detail
        super().__init__(detail)


class Unauthorized(PlatformError):
    status = 401
    code = "unauthorized"


class Forbidden(PlatformError):
    status = 403
    code = "forbidden"


class NotOwnVisit(Forbidden):
    """A later call (override, alert) on a visit another desk uploaded: the call is refused for
    good, the caller's rights are fine (the desk parks the item; a plain 403 stops its sync)."""

    code = NOT_OWN_VISIT


class NotFound(PlatformError):
    status = 404
    code = "not_found"


class Conflict(PlatformError):
    status = 409
    code = "conflict"


class InvalidData(PlatformError):
    """The database refused a value of this request (on PostgreSQL a NUL character in a text,
    for one): sending it again will fail the same way."""

    status = 422
    code = "invalid_data"


class EnrollmentInvalid(PlatformError):
    status = 400
    code = "enrollment_invalid"


class TooLarge(PlatformError):
    status = 413
    code = "too_large"


class RateLimited(PlatformError):
    status = 429
    code = "rate_limited"
