"""How long the scheme keeps each kind of record after a person leaves it (DPA 2018
Part 3 s.39: personal data kept no longer than necessary, with periodic review; the
scheme's information-sharing protocol, 004 §2.4, is where the periods are agreed).

Defined here to keep offenders/models.py readable; offenders.models imports it, so it is
the `offenders` app's model (`offenders.RetentionRule`).

The periods are defaults in code (`DEFAULT_RETENTION_MONTHS`) that the administrator
overrides per kind in the admin (one `RetentionRule` row per kind that differs, each
change audited with its reason). One table of defaults and a row only where the scheme
has decided otherwise: nothing to seed, and no second copy of the defaults to drift.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from ppo_case.fields import BoundedTextField


class RetentionKind(models.TextChoices):
    """The kinds of record a retention period is set for (offenders.retention maps every
    model that holds a person's data to one of them)."""

    PERSON = "person", "The person record (identity, identifiers, tiers, grade history)"
    OFFENDING = "offending", "Offending events and intelligence reports"
    CUSTODY = "custody", "Custody episodes, reception assessments and release plans"
    CONTACTS = "contacts", "Contacts, contact levels and enforcement cases"
    DRUG_TESTS = "drug_tests", "Drug tests"
    PATHWAYS = "pathways", "Needs, action plans and referrals"
    CONFERENCES = "conferences", "Case-conference minutes and core-group meetings"
    SELECTION = "selection", "Selection scores, risk assessments, panel decisions and reviews"


# Six years after leaving for every kind. Neither DPA 2018 nor the guidance in seeds/
# sets a number: the periods belong to the scheme's information-sharing protocol
# (004 §2.4). Six years is the review point police forces commonly apply to records of
# lower-level offending (MoPI "group 3"), a cautious starting point the scheme replaces
# with its own agreed periods.
DEFAULT_RETENTION_MONTHS: dict[str, int] = dict.fromkeys(RetentionKind.values, 72)

# 100 years: beyond it a period means "keep for ever", which is not a retention period.
MAX_RETENTION_MONTHS = 1200

MONTHS_TOO_SHORT = (
    "Enter a retention period of at least 1 month: 0 or less would make records due for "
    "erasure on the day a person leaves the scheme"
)
MONTHS_TOO_LONG = f"Enter a retention period of at most {MAX_RETENTION_MONTHS} months (100 years)"


class RetentionRule(models.Model):
    """The scheme's own retention period for one kind of record, in months after the
    person left the scheme (offenders.retention: the basis date). A kind with no row
    keeps its default (`DEFAULT_RETENTION_MONTHS`)."""

    kind = models.CharField(max_length=20, choices=RetentionKind.choices, unique=True)
    # A plain integer, so 0 and negative numbers reach the validator below and are
    # refused with its message (a positive field's form would answer with its own).
    months = models.IntegerField(
        "retention period (months after leaving the scheme)",
        validators=[
            MinValueValidator(1, message=MONTHS_TOO_SHORT),
            MaxValueValidator(MAX_RETENTION_MONTHS, message=MONTHS_TOO_LONG),
        ],
    )
    note = BoundedTextField(
        blank=True,
        max_length=2000,
        help_text="Where the period comes from, e.g. the paragraph of the information-"
        "sharing protocol (004 §2.4) that sets it",
    )

    class Meta:
        ordering = ["kind"]
        constraints = [
            # The database refuses what the validators refuse, whatever writes the row.
            models.CheckConstraint(
                condition=Q(months__gte=1) & Q(months__lte=MAX_RETENTION_MONTHS),
                name="retention_months_in_range",
                violation_error_message=MONTHS_TOO_SHORT,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.months} months"
