"""The one error type people see, and the refusal of a record outside a person's scope."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ApplicationError(Exception):
    """A problem the person can act on: shown in the error summary, or a 400 from the API."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class OutOfScope(Http404):
    """A record outside the actor's scope: a 404, exactly as if it did not exist."""

    def __init__(self, record_type: str, record_id: Any):
        super().__init__("Not found")
        self.record_type = record_type
        self.record_id = record_id


class NotPermitted(ApplicationError):
    """In scope but not allowed for this role, e.g. a key worker editing identity."""


class Refused(PermissionDenied):
    """A page or action this person may not use: a 403.

    Raise it rather than rendering a 403 page: the 403 handler (access.views) writes the
    refusal to the audit trail with what was asked for, so no refusal goes unrecorded.
    """

    def __init__(self, record_type: str, record_id: Any = "", reason: str = ""):
        super().__init__(reason or "Not permitted")
        self.record_type = record_type
        self.record_id = record_id
        self.reason = reason
