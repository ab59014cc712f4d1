"""The eight resettlement pathways and referrals of a person to a partner agency."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from offenders.dates import life_date_problem
from ppo_case.fields import BoundedTextField

# 000 §5.1: the eight pathways of the Regional Reoffending Action Plan.
PATHWAYS = [
    ("accommodation", "Accommodation"),
    ("ete", "Education, Training and Employment"),
    ("health", "Mental and Physical Health"),
    ("drugs_alcohol", "Drugs and Alcohol"),
    ("finance", "Finance"),
    ("families", "Children, Families and Community Support"),
    ("attitudes", "Attitudes, Thinking and Behaviour"),
    ("victims", "Victims of Crime"),
]


class Pathway(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.name


class ReferralStatus(models.TextChoices):
    MADE = "made", "Made"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# A referral in one of these statuses is closed (`closed_on` is set).
CLOSED_REFERRAL_STATUSES = frozenset(
    {ReferralStatus.DECLINED, ReferralStatus.COMPLETED, ReferralStatus.WITHDRAWN}
)


class ReferralQuerySet(models.QuerySet["Referral"]):
    def open_on(self, day: dt.date) -> ReferralQuerySet:
        return self.filter(opened_on__lte=day).filter(
            Q(closed_on__isnull=True) | Q(closed_on__gt=day)
        )


class Referral(models.Model):
    """A person referred to a partner agency on one pathway: what gives that agency its scope."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="referrals"
    )
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="referrals")
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="referrals")
    opened_on = models.DateField(default=timezone.localdate)
    # The first day the referral no longer applies.
    closed_on = models.DateField(null=True, blank=True)
    reason = BoundedTextField(blank=True, max_length=2000)
    # The provider in the directory it went to (None: a referral made before the
    # directory, to the agency only).
    provider = models.ForeignKey(
        "Provider", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.MADE
    )
    outcome = BoundedTextField(blank=True, max_length=2000)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Treatment on a clock (001 §3.2c): the days from `opened_on` to each, in working days,
    # against the scheme's standards.
    assessed_on = models.DateField(null=True, blank=True)
    first_appointment_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.offender} → {self.agency} ({self.pathway})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.opened_on and self.opened_on > timezone.localdate():
            errors["opened_on"] = "The referral date cannot be in the future"
        elif self.opened_on and self.offender_id:
            problem = life_date_problem(
                self.opened_on, what="the referral date", date_of_birth=self.offender.date_of_birth
            )
            if problem:
                errors["opened_on"] = problem
        if self.closed_on and self.opened_on and self.closed_on < self.opened_on:
            errors["closed_on"] = "A referral cannot close before it opens"
        if errors:
            raise ValidationError(errors)


# --- Needs, action plans, providers (issue "case conferences … action plans") ----------


class NeedLevel(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


# The order of need levels, for "distance travelled" between two conferences
# (a fall in level is progress).
NEED_RANK = {NeedLevel.NONE: 0, NeedLevel.LOW: 1, NeedLevel.MEDIUM: 2, NeedLevel.HIGH: 3}


class NeedQuerySet(models.QuerySet["Need"]):
    def as_of(self, day: dt.date) -> NeedQuerySet:
        """The rows set on or before `day` (the latest per person and pathway is the level)."""
        return self.filter(set_on__lte=day)


class Need(models.Model):
    """A person's need on one pathway, as assessed on a day: append-only history.

    The current level is the latest row per (person, pathway); an earlier conference's
    level is the latest row on or before its date, which is how distance travelled is
    shown (000 §5.1, 001 §3.1)."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="needs"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="needs")
    level = models.CharField(max_length=10, choices=NeedLevel.choices)
    set_on = models.DateField(default=timezone.localdate)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    set_by_agency = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = BoundedTextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NeedQuerySet.as_manager()

    class Meta:
        ordering = ["offender_id", "pathway__order", "-set_on", "-pk"]
        indexes = [
            models.Index(fields=["offender", "pathway", "set_on"], name="need_person_pathway_idx")
        ]

    def __str__(self) -> str:
        return f"{self.pathway}: {self.get_level_display()} ({self.set_on})"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    NOT_ACHIEVED = "not_achieved", "Not achieved"


# An action still to be done; the others are finished (with an outcome).
OPEN_ACTION_STATUSES = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS})


class ActionQuerySet(models.QuerySet["Action"]):
    def still_open(self) -> ActionQuerySet:
        return self.filter(status__in=OPEN_ACTION_STATUSES)

    def overdue_on(self, day: dt.date) -> ActionQuerySet:
        """Still open and due before `day` (an action due today is not yet overdue)."""
        return self.still_open().filter(due_on__lt=day)


class Action(models.Model):
    """One action of a person's plan: on a pathway, owned by an agency (and a person in it).

    `version` is optimistic concurrency: a save names the version it was read at, and a
    save of an older version is refused rather than overwriting someone else's change."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="actions"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="actions")
    description = BoundedTextField(max_length=2000)
    owner_agency = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, related_name="owned_actions"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_actions",
    )
    due_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    outcome = BoundedTextField(blank=True, max_length=2000)
    # The day it was finished (done or not achieved): "done since the last conference".
    finished_on = models.DateField(null=True, blank=True)
    created_on = models.DateField(default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # Who made the latest change: a stale save is told who changed the action since.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["owner_agency", "status", "due_on"], name="action_owner_idx"),
            models.Index(fields=["offender", "status"], name="action_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pathway}: {self.description[:40]}"


class Provider(models.Model):
    """A local service provider in the directory: which agency runs it, the pathways it
    serves, and capacity reserved for the scheme ("four dwellings reserved for DIP/PPO
    clients", 001 §3.2d)."""

    name = models.CharField(max_length=200, unique=True)
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="providers")
    pathways = models.ManyToManyField(Pathway, related_name="providers")
    # Places reserved for the scheme's clients (None: no reserved capacity).
    reserved_places = models.PositiveIntegerField(null=True, blank=True)
    reserved_note = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = BoundedTextField(blank=True, max_length=500)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
