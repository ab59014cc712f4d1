"""Agencies, the scheme's settings, staff memberships and the audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import UserObjectPermissionBase


class AgencyKind(models.TextChoices):
    POLICE = "police", "Police"
    PROBATION = "probation", "Probation"
    PRISON = "prison", "Prison"
    YOT = "yot", "Youth Offending Team"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    HOUSING = "housing", "Housing"
    TREATMENT = "treatment", "Treatment / CJIT"
    ETE = "ete", "Education, training and employment"
    VOLUNTARY = "voluntary", "Voluntary sector"
    HEALTH = "health", "Health"


# Agencies whose staff work as partners (ACCESS.md "Partner"): scope follows referrals.
PARTNER_AGENCY_KINDS = frozenset(
    {
        AgencyKind.LOCAL_AUTHORITY,
        AgencyKind.HOUSING,
        AgencyKind.TREATMENT,
        AgencyKind.ETE,
        AgencyKind.VOLUNTARY,
        AgencyKind.HEALTH,
    }
)


class Agency(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=AgencyKind.choices)
    # The pathways a partner agency serves limit which needs it may record
    # (ACCESS.md, "pathway needs and action plan").
    pathways_served = models.ManyToManyField("pathways.Pathway", blank=True, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Scheme(models.Model):
    """The local scheme's configurable settings; one per deployment.

    Defaults are the guidance values, each cited where it comes from.
    """

    name = models.CharField(max_length=200)
    area = models.CharField(max_length=200)
    # 003 §4.3: 15-20 PPOs in smaller areas, 60-100 in larger ones.
    capacity_min = models.PositiveIntegerField(default=15)
    capacity_max = models.PositiveIntegerField(default=20)
    # 001 §3.2a: each PPO is conferenced every 3 (up to 6) months.
    conference_interval_months = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    # 003 §6.2(1): no arrest and no intelligence report for 6 months.
    no_arrest_review_months = models.PositiveSmallIntegerField(default=6)
    # 003 §6.2(3): sentenced and likely in custody for over 2 years.
    long_sentence_months = models.PositiveSmallIntegerField(default=24)
    # 003 §6.2(3): re-selection review three months before release.
    reselection_lead_months = models.PositiveSmallIntegerField(default=3)
    # 003 §6.2(5): every PPO reviewed after two years on the scheme.
    programme_review_months = models.PositiveSmallIntegerField(default=24)
    # 003 §6.2(4): the list reviewed against all known offenders at least quarterly.
    list_review_interval_months = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    # 004 §5.1: Deter Young Offenders "regularly assessed and refreshed"; no interval is
    # given, so the default is the PPO's conference interval (3 months, 001 §3.2a).
    dyo_review_months = models.PositiveSmallIntegerField(
        "DYO review interval (months)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    # 003 §7.5: a DYO turning 18 needs an exit strategy: the review falls due this many
    # months before the 18th birthday so the strategy is agreed by then (0: on the day).
    dyo_exit_lead_months = models.PositiveSmallIntegerField(
        "DYO exit review lead (months before 18)",
        default=3,
        validators=[MaxValueValidator(12)],
    )
    # 003 §6.2(6): new offending in an offence category at or above this harm weight
    # (HARM.md: 10 is robbery and violence with injury) flags a MAPPA referral.
    mappa_harm_weight = models.DecimalField(
        "harm weight that flags a MAPPA referral",
        max_digits=3,
        decimal_places=1,
        default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("1.0")), MaxValueValidator(Decimal("10.0"))],
    )
    # Contact levels per tier (offenders.compliance.tier_targets): attended contacts a week,
    # and drug tests a week for people on licence. 0 sets no target for that tier.
    # PPO — 001 §3.2b: four contacts a week; §3.2f: twice-weekly drug testing of licensees.
    contact_target_per_week = models.PositiveSmallIntegerField(
        "PPO contacts a week", default=4, validators=[MaxValueValidator(21)]
    )
    drug_test_target_per_week = models.PositiveSmallIntegerField(
        "PPO drug tests a week (licensees)", default=2, validators=[MaxValueValidator(14)]
    )
    # IOM — 003 §4.6: "a less intensive management regime than the local PPO scheme", with
    # no number given. The default is half the PPO level (2 and 1): less intensive, still
    # weekly supervision; the scheme sets its own.
    iom_contact_target_per_week = models.PositiveSmallIntegerField(
        "IOM contacts a week", default=2, validators=[MaxValueValidator(21)]
    )
    iom_drug_test_target_per_week = models.PositiveSmallIntegerField(
        "IOM drug tests a week (licensees)", default=1, validators=[MaxValueValidator(14)]
    )
    # DYO — 003 §7.4 and §7.7: DYOs are on the intensive level of the YJB Scaled Approach,
    # "a more stringent management/supervision regime"; no number given. The default
    # contact level is the PPO's four (no less intensive than the PPO's). Drug testing:
    # 001 §3.2f's twice-weekly testing is a condition of adult licences (PC 34/2005) and the
    # guidance sets none for young people, so no DYO test target by default.
    dyo_contact_target_per_week = models.PositiveSmallIntegerField(
        "DYO contacts a week", default=4, validators=[MaxValueValidator(21)]
    )
    dyo_drug_test_target_per_week = models.PositiveSmallIntegerField(
        "DYO drug tests a week (licensees)", default=0, validators=[MaxValueValidator(14)]
    )
    # 003 §7.6-7.8: whether juveniles may be PPOs is "very much a local decision"; the
    # guidance leans to managing all juveniles as DYOs through Prevent and Deter under the
    # intensive Scaled Approach (§7.8), so by default an under-18 is not selected as a PPO.
    under_18s_may_be_ppos = models.BooleanField(
        "Under-18s may be selected as PPOs",
        default=False,
        help_text="003 §7.6–7.8: otherwise young people who meet the threshold are managed "
        "as Deter Young Offenders until they turn 18",
    )
    # --- The premium service's standards (001 §3.2, 002 "speedy enforcement", 004 §4.2) ---
    # 001 §3.2e "fast-tracked recalls and breaches", 002 "speedy enforcement": no number is
    # given; the local standard is that a breach is laid or a recall requested within this
    # many working days of the failure (weekends and `BankHoliday`s do not count).
    enforcement_working_days = models.PositiveSmallIntegerField(
        "enforcement standard (working days)",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    # 001 §3.2c "fast-tracked into treatment": no number given; local standards from the
    # referral to the assessment and to the first appointment, in working days.
    treatment_assessment_working_days = models.PositiveSmallIntegerField(
        "treatment: referral to assessment (working days)",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    treatment_appointment_working_days = models.PositiveSmallIntegerField(
        "treatment: referral to first appointment (working days)",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    # 002 (inspection): "within 24 hours of arrival in prison custody a protective factor
    # assessment of needs is carried out".
    reception_assessment_hours = models.PositiveSmallIntegerField(
        "reception needs assessment within (hours)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    # 004 §4.2, 003 §6.2(3): the release plan complete this many weeks before release; the
    # "due out, plan incomplete" lists look this far ahead.
    release_plan_weeks = models.PositiveSmallIntegerField(
        "release plan complete (weeks before release)",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(26)],
    )
    # The arrival check (002: PPOs "identifiable on arrival in prison custody") answers at
    # most this many checks a minute per person checking; more are refused and audited.
    arrival_checks_per_minute = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    # How far ahead an expected date (a release) may be before it is taken for a typing
    # mistake (offenders.dates): long enough for the longest sentences a PPO serves.
    date_horizon_years = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.capacity_min > self.capacity_max:
            raise ValidationError(
                {"capacity_max": "Maximum capacity must not be below the minimum capacity."}
            )

    @classmethod
    def current(cls) -> Scheme:
        scheme = cls.objects.order_by("pk").first()
        if scheme is None:
            scheme = cls.objects.create(name="PPO scheme", area="Local area")
        return scheme


class BankHoliday(models.Model):
    """A day that is not a working day besides Saturdays and Sundays: the premium
    service's clocks (enforcement, treatment) count working days. Reference data, kept by
    the administrator; the England and Wales bank holidays ship with the app."""

    day = models.DateField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.name} ({self.day:%d %B %Y})"


class Role(models.TextChoices):
    PPO_MANAGER = "ppo_manager", "PPO manager"
    KEY_WORKER = "key_worker", "Key worker / offender manager"
    POLICE_OFFICER = "police_officer", "Police officer (OMU)"
    PRISON_WORKER = "prison_worker", "Prison / CARAT worker"
    YOT_WORKER = "yot_worker", "YOT worker"
    PARTNER_WORKER = "partner_worker", "Partner agency worker"
    STEERING_GROUP = "steering_group", "Steering group member"
    ADMINISTRATOR = "administrator", "Administrator"


# Which agencies a role can belong to. The steering group and administrators
# come from any agency (DESIGN.md "People who use it").
ROLE_AGENCY_KINDS: dict[str, frozenset[str]] = {
    Role.PPO_MANAGER: frozenset({AgencyKind.PROBATION, AgencyKind.POLICE}),
    Role.KEY_WORKER: frozenset({AgencyKind.PROBATION}),
    Role.POLICE_OFFICER: frozenset({AgencyKind.POLICE}),
    Role.PRISON_WORKER: frozenset({AgencyKind.PRISON}),
    Role.YOT_WORKER: frozenset({AgencyKind.YOT}),
    Role.PARTNER_WORKER: PARTNER_AGENCY_KINDS,
    Role.STEERING_GROUP: frozenset(AgencyKind.values),
    Role.ADMINISTRATOR: frozenset(AgencyKind.values),
}


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active_on(self, day: dt.date) -> MembershipQuerySet:
        return self.filter(started_on__lte=day).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=day)
        )


class Membership(models.Model):
    """A person's role in an agency for a period. Access follows the active one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    started_on = models.DateField(default=timezone.localdate)
    # The first day on which the membership no longer applies.
    ended_on = models.DateField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["user", "-started_on"]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}, {self.agency}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.ended_on and self.ended_on <= self.started_on:
            errors["ended_on"] = "The end date must be after the start date."
        if self.agency_id and self.role:
            allowed = ROLE_AGENCY_KINDS.get(self.role, frozenset())
            if self.agency.kind not in allowed:
                errors["role"] = (
                    f"A {self.get_role_display()} cannot belong to a "
                    f"{self.agency.get_kind_display()} agency."
                )
        if self.user_id and self.started_on:
            overlapping = Membership.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
            overlapping = overlapping.filter(
                Q(ended_on__isnull=True) | Q(ended_on__gt=self.started_on)
            )
            if self.ended_on:
                overlapping = overlapping.filter(started_on__lt=self.ended_on)
            if overlapping.exists():
                errors["started_on"] = (
                    "This person already has a membership for part of this period; "
                    "end it first. A person holds one role at a time."
                )
        if errors:
            raise ValidationError(errors)


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed a record"
    LIST = "list", "Listed or searched records"
    EXPORT = "export", "Exported records"
    DISCLOSE = "disclose", "Disclosed records"
    CREATE = "create", "Created a record"
    UPDATE = "update", "Updated a record"
    DELETE = "delete", "Deleted a record"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed to sign in"
    SIGN_OUT = "sign_out", "Signed out"
    DENIED = "denied", "Was refused access"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")


class AuditTrailIsAppendOnly(Exception):
    pass


# Past this many people or records, an event's ids are kept as rows of their own
# (AuditEventPerson, AuditEventRecord) and not in the event's row: a 100,000-row import
# would otherwise be one 900 KB value, read whole whenever the row is.
AUDIT_IDS_IN_ROW = 1000


class AuditEvent(models.Model):
    """One append-only line of the DPA 2018 s.62 log.

    Consultation, alteration, disclosure and sign-in: when, who, which agency,
    what, which records, from where and, for a disclosure, to whom. Copies of
    the person's name and agency are kept so the log still reads after a
    membership ends.

    The people an event touched are also rows of AuditEventPerson (one per person,
    indexed by person): "who looked at this person?" is an index lookup there. Up to
    AUDIT_IDS_IN_ROW people and records the row itself lists them (`offender_refs`,
    `record_ids`) and the database links the people as the row is inserted (a trigger,
    access migration 0009); past it (`ids_listed_apart`) the row lists neither and the
    link rows audit.record writes are the whole list: people in AuditEventPerson,
    records in AuditEventRecord.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    username = models.CharField(max_length=150, blank=True)
    agency_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices, db_index=True)
    record_type = models.CharField(max_length=100, blank=True)
    record_ids = models.JSONField(default=list, blank=True)
    # The people whose data was touched, as ",12,40,": readable in the row and in the
    # admin. The person filter reads AuditEventPerson, which an index serves.
    offender_refs = models.TextField(blank=True)
    # True when the people and records are listed only in AuditEventPerson and
    # AuditEventRecord (more than AUDIT_IDS_IN_ROW of either).
    ids_listed_apart = models.BooleanField(default=False)
    channel = models.CharField(max_length=20, blank=True)  # web, api, admin, command, task
    path = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    recipient = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        permissions = [("read_audit_log", "Can read the audit log")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or 'anonymous'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")

    @property
    def detail_summary(self) -> str:
        """What changed and why, in a line for the audit log page."""
        parts: list[str] = []
        fields = self.detail.get("fields")
        if isinstance(fields, dict):
            for name, change in fields.items():
                if isinstance(change, dict) and "old" in change:
                    parts.append(f"{name}: {change.get('old')} → {change.get('new')}")
                else:
                    parts.append(f"{name} changed")
        elif isinstance(fields, list) and fields:
            parts.append(f"changed {', '.join(map(str, fields))}")
        for key in ("view", "reason"):
            if self.detail.get(key):
                parts.append(f"{key}: {self.detail[key]}")
        return "; ".join(parts)

    @property
    def offender_ids(self) -> list[int]:
        """Every person the event touched, in order: from the row, or (listed apart) from
        its AuditEventPerson rows."""
        if self.ids_listed_apart:
            return list(
                AuditEventPerson.objects.filter(event=self)
                .order_by("offender_id")
                .values_list("offender_id", flat=True)
            )
        return [int(part) for part in self.offender_refs.split(",") if part]

    @property
    def all_record_ids(self) -> list[int]:
        """Every record the event touched: `record_ids`, or (listed apart) its
        AuditEventRecord rows, in order."""
        if self.ids_listed_apart:
            return list(
                AuditEventRecord.objects.filter(event=self)
                .order_by("record_id")
                .values_list("record_id", flat=True)
            )
        return list(self.record_ids)

    @staticmethod
    def refs_for(ids: list[int]) -> str:
        return f",{','.join(str(i) for i in ids)}," if ids else ""


class AuditLinkQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise AuditTrailIsAppendOnly("The audit trail's links cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("The audit trail's links cannot be deleted.")


class AuditLink(models.Model):
    """A row of an audit event's list (append-only like the event, by trigger as well:
    access migration 0009)."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+")

    objects = AuditLinkQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AuditTrailIsAppendOnly("The audit trail's links cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("The audit trail's links cannot be deleted.")


class AuditEventPerson(AuditLink):
    """One person an audit event touched: "who looked at this person?" by index.

    The person's record number only, not a foreign key: the audit trail outlives an
    erased record (offenders.retention) and still says whose record it was."""

    offender_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["offender_id", "event"], name="audit_person_idx")]

    def __str__(self) -> str:
        return f"event {self.event_id}: person {self.offender_id}"


class AuditEventRecord(AuditLink):
    """One record of an event whose records are listed apart (`ids_listed_apart`)."""

    record_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"event {self.event_id}: record {self.record_id}"


class OffenderUserObjectPermission(UserObjectPermissionBase):
    """An explicit one-off grant of one person's record to one user (django-guardian).

    Attribute rules (age, referral, custody) live in access.policy; this is only for
    the exception a PPO manager makes by hand, and it grants reading, never writing.
    """

    content_object = models.ForeignKey("offenders.Offender", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "explicit grant of a person's record"


class FormSubmission(models.Model):
    """A form that has been posted, by its one-time token (access.submissions).

    A double click, a browser's "resubmit" or going back and saving again posts the same
    token twice; the second post finds this row and is shown what the first one did
    instead of saving a duplicate. The row holds no personal data: who, when, and where
    the first post led.
    """

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Where the first post sent the person, and the message it showed them.
    result_url = models.CharField(max_length=500, blank=True)
    result_message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.token} by {self.user_id} at {self.submitted_at:%Y-%m-%d %H:%M}"


# Partner systems' API clients and their idempotency keys (access/api_models.py).
from .api_models import ApiClient, IdempotencyKey  # noqa: E402, F401
