"""The premium service's records (001 §3.2, 002, 004 §4.2): a person's own contact level,
enforcement cases on a clock, reception needs assessments, release plans, and alerts.

Defined here to keep offenders/models.py readable; offenders.models imports them, so they
are the `offenders` app's models (`offenders.ContactLevel`, …).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from ppo_case.fields import BoundedTextField

# The most a level may ask for: a contact three times a day, a test twice a day.
MAX_CONTACTS_PER_WEEK = 21
MAX_DRUG_TESTS_PER_WEEK = 14


class ContactLevel(models.Model):
    """A person's own contact and drug-test level from a day on (001 §3.2b: "four contacts
    a week (reviewed by Conference)"), with who set it and why. Append-only history: the
    level on a day is the latest row starting on or before it; with none, the tier's level
    (access.Scheme, offenders.compliance.tier_targets)."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="contact_levels"
    )
    contacts_per_week = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(MAX_CONTACTS_PER_WEEK)]
    )
    drug_tests_per_week = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(MAX_DRUG_TESTS_PER_WEEK)]
    )
    starts_on = models.DateField()
    reason = BoundedTextField(max_length=2000)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    set_by_agency = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["offender_id", "-starts_on", "-pk"]
        indexes = [models.Index(fields=["offender", "starts_on"], name="contact_level_idx")]

    def __str__(self) -> str:
        return f"{self.contacts_per_week} contacts a week from {self.starts_on}"


class EnforcementStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class EnforcementStepKind(models.TextChoices):
    WARNING = "warning", "Warning given"
    BREACH_LAID = "breach_laid", "Breach laid"
    RECALL_REQUESTED = "recall_requested", "Recall requested"


class EnforcementOutcome(models.TextChoices):
    BREACH_PROVEN = "breach_proven", "Breach proven"
    RECALLED = "recalled", "Recalled to custody"
    WARNING_ONLY = "warning_only", "Warning only"
    ACCEPTABLE_ABSENCE = "acceptable_absence", "Absence found acceptable"
    WITHDRAWN = "withdrawn", "Withdrawn"


class EnforcementCase(models.Model):
    """Enforcement on a clock (001 §3.2e, 002 "speedy enforcement"): opened by a failed
    attendance of someone on a licence or an order, owned by a person, with dated steps
    and an outcome. `version` is optimistic concurrency."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="enforcement_cases"
    )
    # The failed attendance it answers (None: opened by hand for another failure).
    contact = models.OneToOneField(
        "offenders.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enforcement_case",
    )
    failed_on = models.DateField()
    # The supervision the person was on (offenders.Supervision): licence or an order.
    supervision = models.CharField(max_length=20)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enforcement_cases"
    )
    status = models.CharField(
        max_length=10, choices=EnforcementStatus.choices, default=EnforcementStatus.OPEN
    )
    outcome = models.CharField(max_length=20, choices=EnforcementOutcome.choices, blank=True)
    outcome_note = BoundedTextField(blank=True, max_length=2000)
    closed_on = models.DateField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-failed_on", "-pk"]
        indexes = [models.Index(fields=["status", "failed_on"], name="enforcement_open_idx")]

    def __str__(self) -> str:
        return f"Enforcement for the failure on {self.failed_on}"


class EnforcementStep(models.Model):
    case = models.ForeignKey(EnforcementCase, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=EnforcementStepKind.choices)
    taken_on = models.DateField()
    note = BoundedTextField(blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["taken_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="enforcement_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.taken_on}"


class ReceptionAssessment(models.Model):
    """The needs assessment on reception into custody (002 inspection: "within 24 hours of
    arrival in prison custody"; `Scheme.reception_assessment_hours`)."""

    custody = models.OneToOneField(
        "offenders.CustodyEpisode", on_delete=models.CASCADE, related_name="reception_assessment"
    )
    assessed_at = models.DateTimeField()
    needs = BoundedTextField(max_length=4000)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Reception assessment {self.assessed_at:%Y-%m-%d %H:%M}"


class ReleasePlan(models.Model):
    """The plan for release from one custody episode (004 §4.2, 003 §6.2(3)), for
    statutory and non-statutory PPOs alike: accommodation, treatment, supervision on
    release and the first appointment, each with the agency that owns it. Complete when
    every part is filled in. `version` is optimistic concurrency."""

    custody = models.OneToOneField(
        "offenders.CustodyEpisode", on_delete=models.CASCADE, related_name="release_plan"
    )
    accommodation = BoundedTextField(blank=True, max_length=1000)
    accommodation_owner = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    treatment = BoundedTextField(blank=True, max_length=1000)
    treatment_owner = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    supervision = BoundedTextField(blank=True, max_length=1000)
    supervision_owner = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    first_appointment_at = models.DateTimeField(null=True, blank=True)
    first_appointment_with = models.CharField(max_length=200, blank=True)
    first_appointment_owner = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # When a save last made every part filled in; None while a part is missing. The
    # release_plans standard ("complete N weeks before release") is judged by it
    # (offenders.custody_release), so a later edit of a complete plan does not move it.
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"Release plan for custody {self.custody_id}"


class AlertKind(models.TextChoices):
    # 002: a PPO recognised on arrival in prison custody; the reception recorded.
    RECEIVED_INTO_CUSTODY = "received_into_custody", "Received into custody"
    # 004 §4.2: police and the key worker told when a release date is set or changes.
    RELEASE_DATE = "release_date", "Release date set or changed"
    ENFORCEMENT_OVERDUE = "enforcement_overdue", "Enforcement overdue"


class Alert(models.Model):
    """Something a person should know about someone on their caseload, shown on their home
    page until they mark it read. One row per recipient."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="alerts"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="alert_unread_idx")]

    def __str__(self) -> str:
        return self.message
