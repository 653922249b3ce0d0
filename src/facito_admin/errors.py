"""Domain errors. Services raise these; the HTTP edge (http/problems.py) translates them once."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A business rule said no. ``code`` is the stable kebab-case name clients switch on."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class AlreadyExists(Conflict):
    code, title = "already-exists", "Already exists"


class InvalidState(Conflict):
    code, title = "invalid-state", "Not allowed in the current state"


class ValidationFailed(DomainError):
    """Input that parses but breaks a rule; ``errors`` maps field names to messages."""

    status, code, title = 422, "validation-failed", "Validation failed"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        location: str = "json",
    ) -> None:
        super().__init__(detail)
        self.errors = errors or {}
        # Where the fields are: json (the body), query, headers or path.
        self.location = location


class PreconditionFailed(DomainError):
    status, code, title = 412, "precondition-failed", "The resource changed"


class PreconditionRequired(DomainError):
    status, code, title = 428, "precondition-required", "If-Match is required"


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not permitted"


class UpstreamFailed(DomainError):
    """A service outside (Entra, Graph, DNS) did not give the answer we needed."""

    status, code, title = 502, "upstream-failed", "An upstream service failed"
