"""Reporting's own records: the NI30 cohorts the PPO manager confirms each year, and the
self-assessment (004) ratings and evidence. Every figure is computed from the casework
records for a date; these hold only what a person decides."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ppo_case.fields import BoundedTextField


class CohortStatus(models.TextChoices):
    # Drafted (by the scheduled task on 1 April, or by the manager): members can change.
    DRAFT = "draft", "Draft"
    # Confirmed at the year's start (003 Annex A): fixed for the year.
    CONFIRMED = "confirmed", "Confirmed"


class Ni30Cohort(models.Model):
    """The NI30 cohort of one financial year (1 April – 31 March, 003 §2.5, Annex A):
    fixed once confirmed; members stay tracked after de-selection, and PPOs selected during
    the year join the caseload, not the cohort."""

    # The first day of the financial year (always 1 April).
    year_starts_on = models.DateField(unique=True)
    # The 12-month baseline whose offences are compared (e.g. 1 October – 30 September
    # before the year): inclusive days.
    baseline_starts_on = models.DateField()
    baseline_ends_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=CohortStatus.choices, default=CohortStatus.DRAFT
    )
    drafted_at = models.DateTimeField(default=timezone.now)
    confirmed_on = models.DateField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # 003 §2.5: the year's improvement target (a percentage reduction), if set.
    target_reduction_percent = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True
    )

    class Meta:
        ordering = ["-year_starts_on"]

    def __str__(self) -> str:
        year = self.year_starts_on.year
        return f"NI30 cohort {year}/{(year + 1) % 100:02d}"


class CohortMember(models.Model):
    cohort = models.ForeignKey(Ni30Cohort, on_delete=models.CASCADE, related_name="members")
    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.PROTECT, related_name="ni30_memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "offender"], name="cohort_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.offender_id} in {self.cohort}"


class Rag(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class SelfAssessment(models.Model):
    """One subsection of the 004 self-assessment tool for one year: its RAG rating and the
    evidence for it. The criteria text is the tool's own (reporting.self_assessment)."""

    # The first day of the financial year assessed.
    year_starts_on = models.DateField()
    # The tool's subsection, e.g. "2.3".
    subsection = models.CharField(max_length=5)
    rag = models.CharField(max_length=5, choices=Rag.choices)
    evidence = BoundedTextField(max_length=8000)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["year_starts_on", "subsection"]
        constraints = [
            models.UniqueConstraint(
                fields=["year_starts_on", "subsection"], name="self_assessment_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subsection} {self.get_rag_display()} ({self.year_starts_on.year})"


class AnnualReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being made"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class AnnualReport(models.Model):
    """The steering group's PDF annual report for one financial year (issue 11 item 7),
    made by a Celery task (reporting.tasks.build_annual_report) that records its progress
    here section by section, and kept so it can be downloaded again later.

    The PDF is kept in the database (a BinaryField): the app has no media storage
    configured, a report is a few hundred KB, and a row that holds its own file cannot
    lose it. The list of reports never reads the bytes (`pdf_size` says how big)."""

    # The first day of the financial year reported on (always 1 April).
    year_starts_on = models.DateField()
    # ACCESS.md: an output "marked for publication" suppresses every small count.
    for_publication = models.BooleanField(default=False)
    # The "as at" day of the figures: the year's last day, or the day asked for a year
    # still running, so the same report can be made again for the same facts.
    as_of = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=AnnualReportStatus.choices, default=AnnualReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # 0 to 100
    step = models.CharField(max_length=120, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_size = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="annual_report_progress_at_most_100"
            )
        ]

    def __str__(self) -> str:
        year = self.year_starts_on.year
        kind = " for publication" if self.for_publication else ""
        return f"Annual report {year}/{(year + 1) % 100:02d}{kind}"

    @property
    def year_label(self) -> str:
        year = self.year_starts_on.year
        return f"{year}/{(year + 1) % 100:02d}"

    @property
    def in_progress(self) -> bool:
        return self.status in (AnnualReportStatus.QUEUED, AnnualReportStatus.RUNNING)
