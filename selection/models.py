"""Selection: a versioned matrix, risk assessments, and the runs that score the pool.

DESIGN.md "selection"; 003 §4 (priority areas for review), §6.1 (selection criteria are
developed and agreed locally), 002 on §6.2(4) (a gravity/frequency threshold below which
a known offender is not considered).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from offenders.models import ScaledApproach
from ppo_case.fields import BoundedTextField


class MatrixStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ADOPTED = "adopted", "Adopted"
    RETIRED = "retired", "Retired"


class MatrixVersion(models.Model):
    """One version of the scheme's selection matrix: its criteria, weights and threshold.

    A PPO manager edits a draft; adopting it makes it the matrix every run uses until the
    next is adopted. An adopted version never changes again (a run records the version
    it used, so its scores can always be explained).
    """

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(
        max_length=10, choices=MatrixStatus.choices, default=MatrixStatus.DRAFT
    )
    description = BoundedTextField(blank=True, max_length=2000)
    # Offending is counted over this many months before the run's date.
    window_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    # "Recent" offending: within this many months (the recency criterion).
    recent_months = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    # 003 §4.2: people in custody whose release is imminent are in the pool: due out
    # within this many days.
    release_window_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(0), MaxValueValidator(730)]
    )
    # 002 on §6.2(4): below this score a known offender is not considered.
    threshold = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("10"), validators=[MinValueValidator(0)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adopted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            # One adopted version at a time.
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="adopted"),
                name="one_adopted_matrix_version",
            )
        ]

    def __str__(self) -> str:
        return f"Selection matrix version {self.number} ({self.get_status_display().lower()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = MatrixVersion.objects.filter(pk=self.pk).values_list("status", flat=True)
            was = stored.first()
            # Adopted and retired versions are fixed: the one change left is retiring an
            # adopted version when the next is adopted.
            retiring = (
                was == MatrixStatus.ADOPTED
                and self.status == MatrixStatus.RETIRED
                and set(kwargs.get("update_fields") or ()) == {"status"}
            )
            if was is not None and was != MatrixStatus.DRAFT and not retiring:
                raise ValidationError("An adopted matrix version cannot be changed")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # "Recent" offending is a part of the window's (selection.scoring counts it from
        # the window's events): a recent period longer than the window means nothing.
        if self.recent_months and self.window_months and self.recent_months > self.window_months:
            raise ValidationError(
                {"recent_months": "The recent months cannot be more than the window's months"}
            )

    @property
    def editable(self) -> bool:
        return self.status == MatrixStatus.DRAFT


class CriterionKind(models.TextChoices):
    # DESIGN.md "selection": the criteria of a matrix, 000 §1.2, 003 §6.1.
    EVENTS = "events", "Offending events of a kind in the window (points each)"
    RECENT = "recent", "Arrested or charged in the recent months (points once)"
    HARM = "harm", "Harm of the offences in the window (points per harm weight)"
    PRIORITY_CRIME = "priority_crime", "Local priority crime in the window (points each)"
    COMMUNITY_IMPACT = "community_impact", "Community impact: subject to a CRASBO (points once)"
    DRUG_MISUSE = "drug_misuse", "Drug misuse: a DIP client (points once)"
    POSITIVE_TESTS = "positive_tests", "Positive drug tests in the window (points each)"
    LIKELIHOOD = "likelihood", "Likelihood of re-offending, latest assessment (points per 10)"
    SHORT_SENTENCE = (
        "short_sentence",
        "Released, or due out, from under 12 months with no supervision (points once)",
    )


class Criterion(models.Model):
    """One criterion of a matrix version and its weight: points per unit of its measure."""

    version = models.ForeignKey(MatrixVersion, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(max_length=20, choices=CriterionKind.choices)
    # For EVENTS: which kind of event.
    event_kind = models.CharField(max_length=15, blank=True)
    # For PRIORITY_CRIME: which offence category.
    category = models.ForeignKey(
        "offenders.OffenceCategory", null=True, blank=True, on_delete=models.PROTECT
    )
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["version", "pk"]
        constraints = [
            # A criterion once per version: the empty category counts as one value (a
            # plain unique constraint treats every NULL as different, letting "harm"
            # in twice and scoring it twice).
            models.UniqueConstraint(
                F("version"),
                F("kind"),
                F("event_kind"),
                Coalesce(F("category"), Value(0)),
                name="one_criterion_each",
                violation_error_message="This version already has that criterion",
            ),
            models.CheckConstraint(condition=models.Q(weight__gte=0), name="weight_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.weight}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not MatrixVersion.objects.filter(pk=self.version_id, status=MatrixStatus.DRAFT).exists():
            raise ValidationError("Only a draft matrix version's criteria can be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if not MatrixVersion.objects.filter(pk=self.version_id, status=MatrixStatus.DRAFT).exists():
            raise ValidationError("Only a draft matrix version's criteria can be changed")
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        from offenders.models import EventKind

        errors: dict[str, str] = {}
        if self.kind == CriterionKind.EVENTS and self.event_kind not in EventKind.values:
            errors["event_kind"] = "Choose the kind of offending event"
        if self.kind != CriterionKind.EVENTS and self.event_kind:
            errors["event_kind"] = "Only an offending-events criterion has an event kind"
        if self.kind == CriterionKind.PRIORITY_CRIME and self.category_id is None:
            errors["category"] = "Choose the local priority crime's offence category"
        if self.kind != CriterionKind.PRIORITY_CRIME and self.category_id is not None:
            errors["category"] = "Only a priority-crime criterion has an offence category"
        if errors:
            raise ValidationError(errors)

    @property
    def label(self) -> str:
        from offenders.models import EventKind

        if self.kind == CriterionKind.EVENTS:
            return f"{EventKind(self.event_kind).label} events in the window"
        if self.kind == CriterionKind.PRIORITY_CRIME and self.category is not None:
            return f"Local priority crime: {self.category.name}"
        return str(CriterionKind(self.kind).label).split(" (")[0]


class RiskTool(models.TextChoices):
    OASYS = "oasys", "OASys"
    OGRS = "ogrs", "OGRS"
    ASSET = "asset", "Asset (YOT)"
    OTHER = "other", "Other"


class RoshLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    VERY_HIGH = "very_high", "Very high"


class RiskAssessment(models.Model):
    """A dated risk assessment: likelihood of re-offending and risk of serious harm."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="risk_assessments"
    )
    assessed_on = models.DateField()
    tool = models.CharField(max_length=10, choices=RiskTool.choices)
    # Likelihood of re-offending as a percentage (OGRS/OASys give 0-100).
    likelihood_score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    rosh_level = models.CharField("risk of serious harm", max_length=10, choices=RoshLevel.choices)
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="+")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-assessed_on", "-pk"]
        indexes = [models.Index(fields=["offender", "assessed_on"])]

    def __str__(self) -> str:
        return f"{self.get_tool_display()} on {self.assessed_on}: {self.likelihood_score}%"

    def clean(self) -> None:
        from offenders.dates import life_date_problem

        if self.assessed_on and self.offender_id:
            problem = life_date_problem(
                self.assessed_on,
                what="the assessment date",
                date_of_birth=self.offender.date_of_birth,
            )
            if problem:
                raise ValidationError({"assessed_on": problem})


class SelectionRun(models.Model):
    """A saved ranking: the pool scored with one matrix version on one day."""

    version = models.ForeignKey(MatrixVersion, on_delete=models.PROTECT, related_name="runs")
    as_of = models.DateField()
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    run_at = models.DateTimeField(default=timezone.now)
    pool_size = models.PositiveIntegerField(default=0)
    # The scheme's capacity and the guidance's minimum when the run was made (003 §4.3).
    capacity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-run_at", "-pk"]

    def __str__(self) -> str:
        return f"Selection run of {self.as_of} with matrix version {self.version.number}"


class RunEntry(models.Model):
    """One person's place in a run, with the score explained criterion by criterion."""

    run = models.ForeignKey(SelectionRun, on_delete=models.CASCADE, related_name="entries")
    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.CASCADE, related_name="run_entries"
    )
    rank = models.PositiveIntegerField()
    score = models.DecimalField(max_digits=10, decimal_places=2)
    above_threshold = models.BooleanField(default=True)
    # The tier the person was on when the run was made ("" = known-offender pool).
    tier = models.CharField(max_length=3, blank=True)
    in_custody = models.BooleanField(default=False)
    due_out_on = models.DateField(null=True, blank=True)
    # [{"criterion": id, "label": ..., "measure": ..., "weight": ..., "points": ...}]:
    # the parts add up to `score`.
    explanation = models.JSONField(default=list)

    class Meta:
        ordering = ["run", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "offender"], name="one_entry_per_person"),
            models.UniqueConstraint(fields=["run", "rank"], name="one_person_per_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.offender_id}: {self.score}"


class PanelKind(models.TextChoices):
    # DESIGN.md "selection": the multi-agency panel deciding PPOs and the IOM tier.
    SELECTION = "selection", "Selection panel"
    # 003 §7.2: Deter Young Offenders are identified by the YOT (selection.panel).
    DYO = "dyo", "DYO panel"


class SelectionPanel(models.Model):
    """A multi-agency panel meeting that decides who is on which tier (DESIGN.md)."""

    kind = models.CharField(max_length=10, choices=PanelKind.choices, default=PanelKind.SELECTION)
    held_on = models.DateField()
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panels_chaired"
    )
    agencies = models.ManyToManyField("access.Agency", blank=True, related_name="+")
    notes = BoundedTextField(blank=True, max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.held_on}"


class DecisionKind(models.TextChoices):
    SELECT = "select", "Select as a PPO"
    STEP_DOWN = "step_down", "Step down to IOM"
    STEP_UP = "step_up", "Step up from IOM to PPO"
    DESELECT = "deselect", "De-select"
    DEFER = "defer", "Defer"
    # 001 §4.4: a managed exit into the Drug Interventions Programme / CJIT.
    EXIT_DIP = "exit_dip", "Managed exit to DIP/CJIT"
    # 003 §7.2-7.4: the YOT marks a Deter Young Offender (Asset score, Scaled Approach).
    MARK_DYO = "mark_dyo", "Mark as a Deter Young Offender"
    # 003 §7.5: the exit review that ends a DYO, with its exit strategy.
    END_DYO = "end_dyo", "End DYO (exit review)"


class ExitOutcome(models.TextChoices):
    EMPLOYMENT = "employment", "In employment"
    TREATMENT = "treatment", "In treatment"
    MOVED_AWAY = "moved_away", "Moved away"
    CUSTODY = "custody", "Long custodial sentence"
    OTHER = "other", "Other"


class PanelDecision(models.Model):
    """One decision about one person at a panel. Only a decision changes a tier: it opens
    or closes the person's `ProgrammeEpisode` on the panel's date (selection.panel)."""

    panel = models.ForeignKey(SelectionPanel, on_delete=models.PROTECT, related_name="decisions")
    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.PROTECT, related_name="panel_decisions"
    )
    kind = models.CharField(max_length=10, choices=DecisionKind.choices)
    # The tier before and after ("" = not on a tier).
    from_tier = models.CharField(max_length=3, blank=True)
    to_tier = models.CharField(max_length=3, blank=True)
    deselection_reason = models.CharField(max_length=20, blank=True)
    exit_outcome = models.CharField(max_length=12, choices=ExitOutcome.choices, blank=True)
    # Required when the decision departs from the ranking, or de-selects for "other".
    reason = BoundedTextField(blank=True, max_length=2000)
    departs_from_ranking = models.BooleanField(default=False)
    # Marking a DYO: the Asset score and Scaled Approach tier it was decided on
    # (003 §7.3-7.4), kept as they were that day whatever later assessments say.
    asset_score = models.PositiveSmallIntegerField(
        "Asset score", null=True, blank=True, validators=[MaxValueValidator(64)]
    )
    scaled_approach = models.CharField(max_length=10, choices=ScaledApproach.choices, blank=True)
    # Ending a DYO: the exit strategy and the one agency leading it (003 §7.5).
    exit_lead_agency = models.ForeignKey(
        "access.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exit_strategy = BoundedTextField(blank=True, max_length=2000)
    run_entry = models.ForeignKey(
        RunEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_episode = models.OneToOneField(
        "offenders.ProgrammeEpisode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opened_by_decision",
    )
    closed_episode = models.OneToOneField(
        "offenders.ProgrammeEpisode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="closed_by_decision",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["panel", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.offender_id} at {self.panel}"


class TransferRecord(models.Model):
    """A transfer summary sent to the scheme a de-selected PPO has moved to.

    003 §6.2(2), DESIGN.md rule 2: "The PPO scheme in the receiving area should be
    informed wherever possible." One per moved-area de-selection; what was sent is kept
    as it was on the day (`contents`), so the record shows exactly what was disclosed.
    """

    decision = models.OneToOneField(
        PanelDecision, on_delete=models.PROTECT, related_name="transfer"
    )
    receiving_scheme = models.CharField("receiving scheme", max_length=200)
    receiving_area = models.CharField("area", max_length=200)
    receiving_contact = BoundedTextField("contact", max_length=500)
    # The summary as sent: [{"title": ..., "rows": [[label, text], ...]}, ...].
    contents = models.JSONField(default=list)
    as_of = models.DateField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"Transfer summary to {self.receiving_scheme} ({self.receiving_area})"

    @property
    def recipient(self) -> str:
        """Who it was disclosed to, as the audit trail names them."""
        return f"{self.receiving_scheme}, {self.receiving_area}: {self.receiving_contact}"[:200]


class TransferIn(models.Model):
    """A PPO arriving from another area's scheme (003 §6.2(2): "The receiving area should
    consider whether or not to select the PPO in accordance with their prevailing
    selection policy"). Nothing else records an arrival, so the PPO manager records it
    (selection.reviews.transfer_in_record) and the sweep raises a selection review."""

    offender = models.ForeignKey(
        "offenders.Offender", on_delete=models.PROTECT, related_name="transfers_in"
    )
    from_scheme = models.CharField("sending scheme", max_length=200)
    from_area = models.CharField("area", max_length=200)
    arrived_on = models.DateField()
    note = BoundedTextField(blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-arrived_on", "-pk"]

    def __str__(self) -> str:
        return f"Transfer in from {self.from_scheme} ({self.from_area}) on {self.arrived_on}"


class ReviewKind(models.TextChoices):
    """The reviews that fall due by themselves (DESIGN.md rules 1-7; selection.reviews)."""

    # 003 §6.2(1): no arrest and no intelligence report for 6 months at liberty.
    NO_ARREST = "no_arrest", "No arrest or intelligence for 6 months at liberty"
    # 003 §6.2(3): sentenced and likely to be in custody more than 2 years from now.
    LONG_CUSTODY = "long_custody", "Likely in custody for more than 2 years"
    # 003 §6.2(3): de-selected for custody, 3 months before the expected release.
    RESELECTION_RELEASE = "reselection_release", "Re-selection before release"
    # 002 on §6.2(3): release dates "may not be readily available": chase the date.
    RELEASE_DATE_CHASE = "release_date_chase", "Chase the expected release date"
    # 003 §6.2(5): every PPO reviewed after two years on the scheme.
    TWO_YEARS = "two_years", "Two years on the scheme"
    # 003 §6.2(4), §4.2: the list against the pool, at least quarterly and before NI30.
    LIST_REVIEW = "list_review", "The list reviewed against the pool"
    # 003 §6.2(6): new offending indicating high risk of harm: MAPPA referral flagged.
    MAPPA_REFERRAL = "mappa_referral", "High risk of harm: consider a MAPPA referral"
    # 003 §5.7: a former PPO or IOM person arrested or charged again.
    FORMER_REOFFENDING = "former_reoffending", "Former PPO or IOM arrested or charged"
    # 003 §6.2(2): a PPO transferring in from another area.
    TRANSFER_IN = "transfer_in", "Transferred in from another area"
    # 003 §7.5: a DYO turning 18 needs an exit strategy with a lead agency.
    DYO_TURNING_18 = "dyo_turning_18", "DYO turning 18: exit strategy"
    # 004 §5.1: DYOs reviewed periodically.
    DYO_PERIODIC = "dyo_periodic", "DYO periodic review"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Due"
    CLOSED = "closed", "Closed"


class ReviewOutcome(models.TextChoices):
    # Closed by a panel decision about the person (selection.panel).
    DECISION = "decision", "Decided at a panel"
    # Looked at and left as it is, with the reason recorded.
    NO_CHANGE = "no_change", "No change, reviewed"
    # The fact that raised it no longer holds (e.g. the release date was recorded).
    RESOLVED = "resolved", "No longer applies"


class Review(models.Model):
    """A review that fell due: raised by the sweep (selection.reviews), closed only by a
    panel decision or a recorded outcome with a reason.

    `basis` names the fact the review is about (the episode, custody spell, event or
    quarter), so the sweep raises each occurrence once: the unique constraint below makes
    a repeated or retried sweep a no-op in the database itself, not only by a check.
    """

    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    # Empty for the review of the whole list (003 §6.2(4)).
    offender = models.ForeignKey(
        "offenders.Offender",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    basis = models.CharField(max_length=60)
    due_on = models.DateField()
    status = models.CharField(max_length=6, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    # What the sweep found, for the panel: e.g. positive drug tests in the quiet period.
    detail = models.JSONField(default=dict, blank=True)
    raised_on = models.DateField()
    raised_at = models.DateTimeField(default=timezone.now)
    # The sweep that inserted the row (selection.reviews.sweeper): with conflicts ignored,
    # a sweep finds and audits exactly the rows it won, not a concurrent sweep's.
    sweep_token = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    outcome = models.CharField(max_length=10, choices=ReviewOutcome.choices, blank=True)
    outcome_reason = BoundedTextField(blank=True, max_length=2000)
    decision = models.ForeignKey(
        PanelDecision, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    closed_on = models.DateField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]
        constraints = [
            models.UniqueConstraint(
                F("kind"),
                Coalesce(F("offender"), Value(0)),
                F("basis"),
                name="one_review_per_occurrence",
                violation_error_message="This review has already been raised",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", outcome="", closed_on__isnull=True)
                | models.Q(status="closed", closed_on__isnull=False) & ~models.Q(outcome=""),
                name="a_closed_review_has_its_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_on}"
