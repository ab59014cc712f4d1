"""Model fields shared by every app."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxLengthValidator
from django.db import models


class BoundedTextField(models.TextField):  # type: ignore[type-arg]
    """Free text with a limit that holds everywhere, not only in a form.

    `TextField(max_length=…)` limits the form field only: a service's `full_clean()` or
    the API would still store a million characters. This adds the model validator, which
    every service runs; the CSV imports check each value against the same `max_length`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("max_length"):
            raise TypeError("BoundedTextField needs a max_length")
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(kwargs["max_length"]))
