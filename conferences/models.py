"""Case conferences (001 §3.1): who is reviewed, who attends, the minutes per person, the
plan frozen as agreed, and the core-group meetings between conferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ppo_case.fields import BoundedTextField


class ConferenceStatus(models.TextChoices):
    # Created for a date with its people and invited agencies; the agenda can be read.
    PLANNED = "planned", "Planned"
    # Closed: the plans are frozen and nothing more is recorded (a new conference follows).
    CLOSED = "closed", "Closed"


class CaseConference(models.Model):
    held_on = models.DateField()
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chaired_conferences"
    )
    location = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=ConferenceStatus.choices, default=ConferenceStatus.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"Case conference {self.held_on:%d %B %Y}"

    @property
    def is_closed(self) -> bool:
        return self.status == ConferenceStatus.CLOSED


class Attendance(models.Model):
    """An agency invited to a conference, and whether (and by whom) it attended.

    ACCESS.md "conference minutes and agendas — R (attended)": prison and partner staff
    read the conferences their agency is invited to or attended (`Rows.ATTENDED`)."""

    conference = models.ForeignKey(
        CaseConference, on_delete=models.CASCADE, related_name="attendances"
    )
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="+")
    # None until the attendance is recorded at the conference.
    attended = models.BooleanField(null=True, blank=True)
    attendees = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["agency__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "agency"], name="attendance_one_per_agency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} at {self.conference}"


class ConferencePerson(models.Model):
    """One PPO reviewed at a conference: minutes, the offender's own comment on the plan
    (001 §3.1: the offender attends the final part), the contact level it set (001 §3.2b),
    the next conference date, and — once the conference closes — the plan as agreed."""

    conference = models.ForeignKey(CaseConference, on_delete=models.CASCADE, related_name="people")
    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="conference_reviews"
    )
    order = models.PositiveSmallIntegerField(default=0)
    minutes = BoundedTextField(blank=True, max_length=20000)
    offender_comment = BoundedTextField(blank=True, max_length=4000)
    contact_level_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    next_conference_on = models.DateField(null=True, blank=True)
    # Frozen when the conference closes: the needs and actions as agreed (JSON lists of
    # plain values, so a later edit of an action never changes what was agreed).
    frozen_plan = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["conference", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "offender"], name="conference_person_once"
            )
        ]
        indexes = [models.Index(fields=["offender", "conference"], name="conf_person_idx")]

    def __str__(self) -> str:
        return f"{self.offender_id} at {self.conference}"


class CoreGroupMeeting(models.Model):
    """A short meeting of the core group between conferences (001 §3.1): notes, and the
    action updates made through the action services."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="core_group_meetings"
    )
    held_on = models.DateField()
    notes = BoundedTextField(max_length=4000)
    agencies = models.ManyToManyField("access.Agency", blank=True, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"Core group {self.held_on} ({self.offender_id})"
