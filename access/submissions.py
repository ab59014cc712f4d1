"""Recognising a form posted twice: a one-time token in every form that records something.

A double click, the browser's "resubmit?" or going back and saving again posts the same
form twice. Each form page carries a fresh random token (`OnceOnlyForm`); the first valid
post of a token claims it (`FormSubmission`, unique on the token) in the same transaction
as the record it saves, and a second post of that token is shown what the first one did
instead of saving a duplicate. Two posts at the same moment are settled by the database:
the second insert waits on the unique index until the first commits, then fails.

A post that fails validation claims nothing (its savepoint is rolled back with the
record), so the corrected form can be saved with the same token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import IntegrityError, transaction

from .models import FormSubmission

TOKEN_FIELD = "form_token"  # noqa: S105 (a form field's name, not a secret)
OUT_OF_DATE = (
    "This form could not be saved because the page was out of date. "
    "Check your answers and save again."
)


class OnceOnly:
    """Mixin for a form whose page carries a one-time token, read from the post.

    The template renders `{{ form.issued_token }}` in a hidden `form_token` input: the
    posted token if there was a usable one, otherwise a fresh one, so that a form
    refused for a missing token can be saved from the page it is shown on again.
    """

    is_bound: bool
    data: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token: uuid.UUID | None = None
        if self.is_bound:
            try:
                self.token = uuid.UUID(str(self.data.get(TOKEN_FIELD, "")))
            except ValueError:
                self.token = None
        self.issued_token = self.token or uuid.uuid4()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # type: ignore[misc]
        if self.is_bound and self.token is None:
            raise forms.ValidationError(OUT_OF_DATE, code="missing_token")
        return data  # type: ignore[no-any-return]


class OnceOnlyForm(OnceOnly, forms.Form):
    pass


class OnceOnlyModelForm(OnceOnly, forms.ModelForm):  # type: ignore[type-arg]
    pass


@dataclass(frozen=True)
class Outcome:
    """Where a saved form sends the person, and what it tells them."""

    url: str
    message: str
    repeated: bool = False


ALREADY_SAVED = "This was already saved: it has not been saved a second time."


def save_once(*, user: Any, token: uuid.UUID, save: Callable[[], Outcome]) -> Outcome:
    """Run `save` once for this token: the first time it runs and its outcome is kept;
    a repeat returns the first outcome, marked `repeated`, and saves nothing.

    `save` raising (a validation error, a refusal) rolls back the claim with everything
    else it wrote, and the exception propagates.
    """
    try:
        with transaction.atomic():
            claim = FormSubmission.objects.create(token=token, user_id=user.pk)
            outcome = save()
            claim.result_url = outcome.url[:500]
            claim.result_message = outcome.message[:300]
            claim.save(update_fields=["result_url", "result_message"])
            return outcome
    except IntegrityError:
        first = FormSubmission.objects.filter(token=token).first()
        if first is None or first.user_id != user.pk:
            # Not this person's token (or a clash of random tokens): refuse to guess.
            raise
        return Outcome(url=first.result_url, message=ALREADY_SAVED, repeated=True)
