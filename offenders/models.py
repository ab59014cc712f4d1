"""The offender record and what happens to a person: offending, custody, contacts, tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Now, Upper
from django.utils import timezone

from ppo_case.fields import BoundedTextField

from . import dates, identifiers


class OffenceCategory(models.Model):
    """Reference data: an offence group and its harm weight (HARM.md), edited by the scheme."""

    name = models.CharField(max_length=120, unique=True)
    home_office_codes = models.CharField(max_length=120, blank=True)
    cchi_median_days = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    crime_severity_score = models.PositiveIntegerField(null=True, blank=True)
    harm_weight = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1.0")), MaxValueValidator(Decimal("10.0"))],
    )
    acquisitive = models.BooleanField(default=False)
    note = BoundedTextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "offence categories"

    def __str__(self) -> str:
        return self.name


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    OTHER = "X", "Other"
    UNKNOWN = "U", "Not known"


class Ethnicity(models.TextChoices):
    # The ONS 2021 census top-level groups used for equality monitoring.
    ASIAN = "asian", "Asian or Asian British"
    BLACK = "black", "Black, Black British, Caribbean or African"
    MIXED = "mixed", "Mixed or multiple ethnic groups"
    WHITE = "white", "White"
    OTHER = "other", "Other ethnic group"
    NOT_STATED = "not_stated", "Not stated"


class Status(models.TextChoices):
    COMMUNITY = "community", "Community"
    CUSTODY = "custody", "Custody"
    REMAND = "remand", "Remand"


class Supervision(models.TextChoices):
    NONE = "none", "No statutory supervision"
    COMMUNITY_ORDER = "community_order", "Community order"
    LICENCE = "licence", "Licence"
    SUSPENDED_SENTENCE = "suspended_sentence", "Suspended sentence order"
    YOUTH_ORDER = "youth_order", "Youth order"


class IomGrade(models.TextChoices):
    # 003 §5.6 (Safer Bristol grading).
    RED = "red", "Red – known to be offending"
    AMBER = "amber", "Amber – incomplete intelligence picture"
    GREEN = "green", "Green – no intelligence of current offending"
    BLUE = "blue", "Blue – in custody"


class Strand(models.TextChoices):
    CATCH_CONVICT = "catch_convict", "Catch and Convict"
    REHABILITATE_RESETTLE = "rehabilitate_resettle", "Rehabilitate and Resettle"
    PREVENT_DETER = "prevent_deter", "Prevent and Deter"


class MappaLevel(models.IntegerChoices):
    LEVEL_1 = 1, "MAPPA level 1"
    LEVEL_2 = 2, "MAPPA level 2"
    LEVEL_3 = 3, "MAPPA level 3"


class ScaledApproach(models.TextChoices):
    # 003 §7.4: the YJB Scaled Approach tiers.
    STANDARD = "standard", "Standard"
    ENHANCED = "enhanced", "Enhanced"
    INTENSIVE = "intensive", "Intensive"


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class OffenderQuerySet(models.QuerySet["Offender"]):
    def with_status(self, as_of: dt.date | None = None) -> OffenderQuerySet:
        """Annotate `current_status` from custody episodes open on `as_of`."""
        as_of = as_of or timezone.localdate()
        open_episodes = CustodyEpisode.objects.filter(offender=OuterRef("pk")).open_on(as_of)
        return self.annotate(
            current_status=Case(
                When(
                    Exists(open_episodes.filter(kind=CustodyKind.SENTENCE)),
                    then=Value(Status.CUSTODY),
                ),
                When(
                    Exists(open_episodes.filter(kind=CustodyKind.REMAND)),
                    then=Value(Status.REMAND),
                ),
                default=Value(Status.COMMUNITY),
                output_field=models.CharField(),
            )
        )

    def under_18_on(self, as_of: dt.date) -> OffenderQuerySet:
        return self.filter(date_of_birth__gt=years_before(as_of, 18))


class Offender(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    aliases = models.CharField(max_length=300, blank=True, help_text="Other names, comma separated")
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    ethnicity = models.CharField(
        max_length=20, choices=Ethnicity.choices, default=Ethnicity.NOT_STATED
    )
    address = BoundedTextField(blank=True, max_length=500)
    phone = models.CharField(max_length=40, blank=True)

    pnc_id = models.CharField("PNC ID", max_length=13, unique=True, null=True, blank=True)
    cro_number = models.CharField("CRO number", max_length=10, blank=True)
    prison_number = models.CharField(max_length=7, blank=True)
    crn = models.CharField("probation CRN", max_length=7, blank=True)
    local_ref = models.CharField("local reference", max_length=40, blank=True)

    supervision = models.CharField(
        max_length=20, choices=Supervision.choices, default=Supervision.NONE
    )
    dip_client = models.BooleanField("DIP client", default=False)
    crasbo = models.BooleanField("CRASBO", default=False)
    mappa_level = models.PositiveSmallIntegerField(
        "MAPPA level", choices=MappaLevel.choices, null=True, blank=True
    )
    iom_grade = models.CharField("IOM grade", max_length=5, choices=IomGrade.choices, blank=True)
    asset_score = models.PositiveSmallIntegerField(
        "Asset score", null=True, blank=True, validators=[MaxValueValidator(64)]
    )
    scaled_approach = models.CharField(max_length=10, choices=ScaledApproach.choices, blank=True)

    key_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="key_worker_for",
    )
    offender_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offender_manager_for",
    )
    police_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="police_officer_for",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OffenderQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def strand_values(self) -> list[str]:
        """The person's strands in the order `Strand` lists them; reads a prefetch of
        `strands` when there is one, so a list of people costs one query, not one each."""
        held = {row.strand for row in self.strands.all()}
        return [value for value in Strand.values if value in held]

    @property
    def strand_labels(self) -> list[str]:
        return [Strand(value).label for value in self.strand_values]

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.date_of_birth.year
        if years_before(day, years) < self.date_of_birth:
            years -= 1
        return years

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}

        def normalise(field: str, fn: object) -> None:
            value = getattr(self, field)
            if not value:
                return
            try:
                setattr(self, field, fn(value))  # type: ignore[operator]
            except ValidationError as error:
                errors.setdefault(field, []).append(error)

        normalise("pnc_id", identifiers.normalise_pnc)
        normalise("cro_number", identifiers.normalise_cro)
        normalise("prison_number", identifiers.normalise_prison_number)
        normalise("crn", identifiers.normalise_crn)
        if self.pnc_id == "":
            self.pnc_id = None
        if self.date_of_birth and (problem := dates.date_of_birth_problem(self.date_of_birth)):
            errors.setdefault("date_of_birth", []).append(ValidationError(problem))
        if errors:
            raise ValidationError(errors)


class OffenderStrand(models.Model):
    """One strand a person is on. Strands are not mutually exclusive (000 §2.2): a person
    holds a set of them, one row each, so "who is on Catch and Convict" is a filter in
    the database on SQLite and PostgreSQL alike (no arrays, no JSON containment)."""

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="strands")
    strand = models.CharField(max_length=25, choices=Strand.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["offender", "strand"], name="unique_strand_per_offender"
            ),
            models.CheckConstraint(
                condition=Q(strand__in=Strand.values), name="offender_strand_is_a_strand"
            ),
        ]

    def __str__(self) -> str:
        return self.get_strand_display()


def _date_of_birth(record: models.Model) -> dt.date | None:
    """The date of birth of the person a record is about, if it is known yet."""
    if getattr(record, "offender_id", None) is None:
        return None
    return record.offender.date_of_birth  # type: ignore[attr-defined]


def _check_life_date(
    errors: dict[str, str], record: models.Model, field: str, day: dt.date | None, **rule: object
) -> None:
    """offenders.dates.life_date_problem for one field, unless it already has an error."""
    if day is None or field in errors:
        return
    problem = dates.life_date_problem(day, date_of_birth=_date_of_birth(record), **rule)  # type: ignore[arg-type]
    if problem:
        errors[field] = problem


class ProgrammeKind(models.TextChoices):
    """The tiers a person moves between; at most one at a time (DESIGN.md rule 7)."""

    PPO = "ppo", "PPO"
    DYO = "dyo", "Deter Young Offender"
    # 003 §4.6: the local step-down / step-up cohort, a less intensive regime.
    IOM = "iom", "IOM"


class DeselectionReason(models.TextChoices):
    # The six criteria of 003 §6.2.
    STOPPED_OFFENDING = (
        "stopped_offending",
        "Stopped offending (6 months without arrest or intelligence)",
    )
    MOVED_AREA = "moved_area", "Moved to another area"
    LONG_CUSTODY = "long_custody", "Significant custodial sentence (over 2 years)"
    LIST_REVIEW = "list_review", "Replaced at the regular review of the list"
    TWO_YEAR_REVIEW = "two_year_review", "Reviewed after two years on the scheme"
    HIGH_RISK_OF_HARM = "high_risk_of_harm", "High risk of harm (MAPPA)"
    # 003 §1.4, §4.5, Annex A Q2: responding positively, stepped down to make way for
    # more actively prolific offenders.
    STEPPED_DOWN = "stepped_down", "Responding positively – stepped down"
    OTHER = "other", "Other (for example, died)"


class ExitRoute(models.TextChoices):
    IOM = "iom", "Integrated Offender Management"
    DIP_CJIT = "dip_cjit", "DIP / CJIT"
    TRANSFER = "transfer", "Transfer to another scheme"
    NONE = "none", "None"


class ProgrammeEpisodeQuerySet(models.QuerySet["ProgrammeEpisode"]):
    def open_on(self, day: dt.date) -> ProgrammeEpisodeQuerySet:
        return self.filter(selected_on__lte=day).filter(
            Q(deselected_on__isnull=True) | Q(deselected_on__gt=day)
        )


class ProgrammeEpisode(models.Model):
    """A period on the scheme, as a PPO or a DYO. Time on the programme is derived from it."""

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="episodes")
    kind = models.CharField(max_length=3, choices=ProgrammeKind.choices, default=ProgrammeKind.PPO)
    selected_on = models.DateField()
    selection_decision = models.CharField(
        max_length=200, blank=True, help_text="The panel decision that selected this person"
    )
    # The first day off the scheme; for a DYO, the day the exit review closed (003 §7.5).
    deselected_on = models.DateField(null=True, blank=True)
    deselection_reason = models.CharField(
        max_length=20, choices=DeselectionReason.choices, blank=True
    )
    exit_route = models.CharField(max_length=10, choices=ExitRoute.choices, blank=True)

    objects = ProgrammeEpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-selected_on"]

    def __str__(self) -> str:
        end = f" to {self.deselected_on}" if self.deselected_on else ""
        return f"{self.get_kind_display()} from {self.selected_on}{end}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        _check_life_date(
            errors,
            self,
            "selected_on",
            self.selected_on,
            what="the selection date",
            from_age=dates.AGE_OF_CRIMINAL_RESPONSIBILITY,
        )
        if self.deselected_on:
            if self.selected_on and self.deselected_on <= self.selected_on:
                errors["deselected_on"] = "De-selection must be after selection"
            if not self.deselection_reason and self.kind == ProgrammeKind.PPO:
                errors["deselection_reason"] = "Choose the reason for de-selection"
        elif self.deselection_reason or self.exit_route:
            errors["deselected_on"] = "Enter the de-selection date"
        if self.offender_id and self.selected_on and not errors:
            # At most one tier at a time, whatever the kind (PPO, IOM, DYO).
            others = ProgrammeEpisode.objects.filter(offender_id=self.offender_id).exclude(
                pk=self.pk
            )
            others = others.filter(
                Q(deselected_on__isnull=True) | Q(deselected_on__gt=self.selected_on)
            )
            if self.deselected_on:
                others = others.filter(selected_on__lt=self.deselected_on)
            if others.exists():
                errors["selected_on"] = (
                    "This person is already on a tier (PPO, IOM or DYO) for part of this period"
                )
        if errors:
            raise ValidationError(errors)


class EventKind(models.TextChoices):
    ARREST = "arrest", "Arrest"
    INTELLIGENCE = "intelligence", "Intelligence report"
    CHARGE = "charge", "Charge"
    CONVICTION = "conviction", "Conviction"
    CAUTION = "caution", "Caution"
    BREACH = "breach", "Breach"
    RECALL = "recall", "Recall"


class OffendingEvent(models.Model):
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=15, choices=EventKind.choices)
    category = models.ForeignKey(
        OffenceCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    occurred_on = models.DateField()
    recorded_on = models.DateField()
    source_agency = models.ForeignKey(
        "access.Agency", on_delete=models.PROTECT, related_name="reported_events"
    )
    source_reference = models.CharField(max_length=60)
    summary = BoundedTextField(blank=True, max_length=4000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the record last changed, for the API's `updated_since` (issue 12); the
    # database fills it for rows written by COPY (imports, the benchmark builder).
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            # A source's references are not case-sensitive: "FZ-R3" and "fz-r3" from the
            # same source are one event (docs/import-formats.md, "References").
            models.UniqueConstraint(
                F("source_agency"),
                Upper("source_reference"),
                name="unique_event_source_reference_any_case",
                violation_error_message=(
                    "This source already has a record with this reference "
                    "(references are not case-sensitive)"
                ),
            )
        ]
        indexes = [
            # A person's events of one kind in a window, recorded by a day (the reviews'
            # latest arrest, NI30's convictions): from the index alone on PostgreSQL.
            models.Index(
                fields=["offender", "kind", "occurred_on"],
                include=["recorded_on"],
                name="event_person_kind_idx",
            ),
            # A selection run reads each person's events in a window, in person order,
            # from this index alone: covering on PostgreSQL (INCLUDE is ignored elsewhere).
            # benchmarks/README.md, "selection_run.py". The record number as the last key
            # lets "the person's latest event of a kind, the latest record on a tied day"
            # (the review rules) stop at the first match, walking back from the day.
            # The date recorded too, so the reports' per-person counts ("convictions
            # for offences committed in the window, recorded by the as-at day": the
            # local measure, NI30, proven re-offending) read the index alone as well.
            models.Index(
                fields=["offender", "occurred_on", "id"],
                include=["kind", "category", "recorded_on"],
                name="event_person_window_idx",
            ),
            # A partner system's incremental sync (`updated_since`) reads the few events
            # changed since its last call.
            models.Index(fields=["updated_at"], name="event_updated_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_on}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        _check_life_date(
            errors,
            self,
            "occurred_on",
            self.occurred_on,
            what="the date it happened",
            from_age=dates.AGE_OF_CRIMINAL_RESPONSIBILITY,
        )
        _check_life_date(errors, self, "recorded_on", self.recorded_on, what="the date recorded")
        if self.occurred_on and self.recorded_on and self.recorded_on < self.occurred_on:
            errors["recorded_on"] = "The date recorded cannot be before the date it happened"
        if (
            self.kind != EventKind.INTELLIGENCE
            and self.kind
            not in (
                EventKind.BREACH,
                EventKind.RECALL,
            )
            and not self.category_id
        ):
            errors["category"] = "Choose the offence category"
        if errors:
            raise ValidationError(errors)


class CustodyKind(models.TextChoices):
    REMAND = "remand", "Remand"
    SENTENCE = "sentence", "Sentence"


class CustodyEpisodeQuerySet(models.QuerySet["CustodyEpisode"]):
    def open_on(self, day: dt.date) -> CustodyEpisodeQuerySet:
        return self.filter(started_on__lte=day).filter(
            Q(released_on__isnull=True) | Q(released_on__gt=day)
        )


class CustodyEpisode(models.Model):
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="custody")
    kind = models.CharField(max_length=10, choices=CustodyKind.choices)
    # A prison Agency, so prison staff scope follows the establishment.
    establishment = models.ForeignKey(
        "access.Agency",
        on_delete=models.PROTECT,
        related_name="custody_episodes",
        limit_choices_to={"kind": "prison"},
    )
    started_on = models.DateField()
    sentence_length_months = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1200)]
    )
    expected_release_on = models.DateField(null=True, blank=True)
    # The first day back in the community.
    released_on = models.DateField(null=True, blank=True)
    supervision_on_release = models.CharField(
        max_length=20, choices=Supervision.choices, blank=True
    )
    # When the prison recorded the person's reception (002: "identifiable on arrival in
    # prison custody"); the reception needs assessment is due within
    # `Scheme.reception_assessment_hours` of it. None for episodes recorded otherwise.
    received_at = models.DateTimeField(null=True, blank=True)
    # When the record last changed, for the API's `updated_since` (issue 12); the
    # database fills it for rows written by COPY (imports, the benchmark builder).
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    objects = CustodyEpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.establishment} from {self.started_on}"

    def clean(self) -> None:
        from access.models import Scheme

        errors: dict[str, str] = {}
        _check_life_date(
            errors,
            self,
            "started_on",
            self.started_on,
            what="the start date",
            from_age=dates.AGE_OF_CRIMINAL_RESPONSIBILITY,
        )
        _check_life_date(errors, self, "released_on", self.released_on, what="the release date")
        if self.expected_release_on is not None:
            _check_life_date(
                errors,
                self,
                "expected_release_on",
                self.expected_release_on,
                what="the expected release date",
                expected=True,
                horizon_years=Scheme.current().date_horizon_years,
            )
        if self.establishment_id and self.establishment.kind != "prison":
            errors["establishment"] = "Choose a prison"
        if self.kind == CustodyKind.SENTENCE and not self.sentence_length_months:
            errors["sentence_length_months"] = "Enter the sentence length in months"
        if self.kind == CustodyKind.REMAND and self.sentence_length_months:
            errors["sentence_length_months"] = "A remand has no sentence length"
        if self.started_on and self.released_on and self.released_on < self.started_on:
            errors["released_on"] = "Release cannot be before the start of custody"
        if (
            self.started_on
            and self.expected_release_on
            and self.expected_release_on < self.started_on
        ):
            errors["expected_release_on"] = "Expected release cannot be before the start of custody"
        if self.offender_id and self.started_on and not errors:
            overlapping = CustodyEpisode.objects.filter(offender_id=self.offender_id).exclude(
                pk=self.pk
            )
            overlapping = overlapping.filter(
                Q(released_on__isnull=True) | Q(released_on__gt=self.started_on)
            )
            if self.released_on:
                overlapping = overlapping.filter(started_on__lt=self.released_on)
            if overlapping.exists():
                errors["started_on"] = (
                    "This person is already in custody for part of this period: "
                    "record the release from the earlier episode first"
                )
        if errors:
            raise ValidationError(errors)


class ContactKind(models.TextChoices):
    OFFICE = "office", "Office"
    HOME_VISIT = "home_visit", "Home visit"
    PHONE = "phone", "Phone"
    PRISON_VISIT = "prison_visit", "Prison visit"
    REPORT_CENTRE = "report_centre", "Report centre"
    OUTREACH = "outreach", "Outreach"


class ContactOutcome(models.TextChoices):
    ATTENDED = "attended", "Attended"
    FAILED = "failed", "Failed to attend"
    EXCUSED = "excused", "Acceptable absence"


class Contact(models.Model):
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="contacts")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts_made"
    )
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="contacts")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=15, choices=ContactKind.choices, default=ContactKind.OFFICE)
    face_to_face = models.BooleanField(default=True)
    outcome = models.CharField(
        max_length=10, choices=ContactOutcome.choices, default=ContactOutcome.ATTENDED
    )
    note = BoundedTextField(blank=True, max_length=4000)
    # 001 §3.2e: a failed-to-attend on a licence or order is flagged for fast-track
    # breach or recall; set by services.contact_log, never by hand.
    enforcement_flagged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["offender", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} contact on {self.occurred_at:%Y-%m-%d}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.occurred_at and self.occurred_at > timezone.now():
            errors["occurred_at"] = "A contact cannot be logged in the future"
        if self.occurred_at:
            _check_life_date(
                errors,
                self,
                "occurred_at",
                timezone.localdate(self.occurred_at),
                what="the date of the contact",
            )
        if errors:
            raise ValidationError(errors)


class DrugTestResult(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    REFUSED = "refused", "Refused"
    INVALID = "invalid", "Invalid sample"


class DrugTest(models.Model):
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="drug_tests")
    tested_at = models.DateTimeField()
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="drug_tests")
    tester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.CharField(max_length=10, choices=DrugTestResult.choices)
    substances = models.CharField(max_length=200, blank=True)
    note = BoundedTextField(blank=True, max_length=4000)
    # When the record last changed, for the API's `updated_since` (issue 12); the
    # database fills it for rows written by COPY (imports, the benchmark builder).
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["-tested_at", "-pk"]
        indexes = [models.Index(fields=["offender", "tested_at"])]

    def __str__(self) -> str:
        return f"Drug test on {self.tested_at:%Y-%m-%d}: {self.get_result_display()}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.tested_at and self.tested_at > timezone.now():
            errors["tested_at"] = "A drug test cannot be recorded in the future"
        if self.tested_at:
            _check_life_date(
                errors,
                self,
                "tested_at",
                timezone.localdate(self.tested_at),
                what="the date of the test",
            )
        if self.result == DrugTestResult.POSITIVE and not self.substances:
            errors["substances"] = "Enter the substances found"
        if errors:
            raise ValidationError(errors)


class GradeChange(models.Model):
    """The history of a person's IOM grade (003 §5.6): who, when, from, to, and why."""

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="grade_changes")
    from_grade = models.CharField(max_length=5, choices=IomGrade.choices, blank=True)
    to_grade = models.CharField(max_length=5, choices=IomGrade.choices)
    reason = BoundedTextField(max_length=2000)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(
        "access.Agency", null=True, on_delete=models.SET_NULL, related_name="grade_changes"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.from_grade or 'none'} → {self.to_grade} on {self.changed_at:%Y-%m-%d}"


# The premium service's records (offenders/premium_models.py), models of this app.
from .premium_models import (  # noqa: E402, F401
    Alert,
    AlertKind,
    ContactLevel,
    EnforcementCase,
    EnforcementOutcome,
    EnforcementStatus,
    EnforcementStep,
    EnforcementStepKind,
    ReceptionAssessment,
    ReleasePlan,
)

# How long each kind of record is kept after a person leaves (offenders/retention_models.py).
from .retention_models import RetentionKind, RetentionRule  # noqa: E402, F401
