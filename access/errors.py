"""The one error type people see, and the refusal of a record outside a person's scope."""

from __future__ import annotations

from typing import Any

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
