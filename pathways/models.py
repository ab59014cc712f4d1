"""The eight resettlement pathways and referrals of a person to a partner agency."""

from __future__ import annotations

import datetime as dt

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
