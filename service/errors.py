"""Errors the service raises on purpose, each with an HTTP status and a machine-readable code."""
from __future__ import annotations


class ServiceError(Exception):
    """Base class: a sentence for people, a code for programs, an HTTP status for the edge."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class BadParameter(ServiceError):
    """A request parameter is missing, of the wrong type or out of range."""

    code = "bad_parameter"


class UnknownFilterValue(ServiceError):
    """A filter names a value no report in the index has."""

    code = "unknown_filter_value"


class NotFound(ServiceError):
    """The thing asked for does not exist."""

    status = 404
    code = "not_found"


class Unauthorized(ServiceError):
    """The admin token is missing or wrong."""

    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    """The action is switched off or not allowed with this token."""

    status = 403
    code = "forbidden"


class Busy(ServiceError):
    """The service cannot take this request now."""

    status = 503
    code = "busy"


class Conflict(ServiceError):
    """The upload is already indexed, or its id is taken."""

    status = 409
    code = "conflict"


class TooLarge(ServiceError):
    """The upload is larger than MAX_UPLOAD_BYTES."""

    status = 413
    code = "too_large"


class UnsupportedType(ServiceError):
    """The upload's content is not a document the indexer reads."""

    status = 415
    code = "unsupported_media_type"


class Unprocessable(ServiceError):
    """The upload was read but holds no report text to index."""

    status = 422
    code = "unprocessable"


class NotUpdated(ServiceError):
    """Writing the corpus file or the new index generation failed; the old index stays in service."""

    status = 503
    code = "index_not_updated"
