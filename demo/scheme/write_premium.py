"""Writing the plan's premium service (demo/scheme/premium.py, issue 10) through the
offenders services: per-person levels, enforcement cases and their steps, release dates,
release plans and reception assessments. (The treatment clocks are written with the
referrals, demo/scheme/write_casework.py.)

Each write is as the login the plan names and, where the service takes one, on the day
it names: `contact_level_set(as_of=...)`; enforcement steps as an actor of their day (the
services refuse a step dated after the actor's day) with `taken_on` / `closed_on`. What
the services cannot back-date, and so is stamped with the seeding time: an enforcement
case's `opened_at` (enforcement_open takes the failed contact and dates the case's
`failed_on` by it), a step's `recorded_at`, a release plan's `updated_at` and
`completed_at`, a reception assessment's `recorded_at` (its `assessed_at` is the planned
moment), and the alerts' `created_at`. The release dates and plans and the reception
assessments are today's work, so they are written as today.

Only for people created in the same run, so a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.models import Agency, AgencyKind, Scheme
from access.policy import Actor, actor_for
from offenders.contact_levels import contact_level_set, levels_for
from offenders.custody_release import (
    custody_release_date_set,
    reception_assessment_record,
    release_plan_save,
    start_of_day,
)
from offenders.enforcement import (
    ENFORCING_STEP,
    enforcement_close,
    enforcement_open,
    enforcement_step_record,
    overdue_q,
)
from offenders.models import (
    Alert,
    Contact,
    ContactOutcome,
    CustodyEpisode,
    EnforcementCase,
    EnforcementStatus,
    EnforcementStepKind,
    Offender,
    ProgrammeEpisode,
    ReceptionAssessment,
)
from offenders.working_days import add_working_days, bank_holidays
from pathways.models import Referral
from pathways.treatment import clocks_for

from .plan import DemoPlan, PersonPlan
from .premium import EnforcementPlan, LevelPlan, ReleasePlanPlan
from .specs import DemoSeedError

# Enough bank holidays either side of the last few weeks' failures.
HOLIDAYS_BACK_DAYS = 120
HOLIDAYS_AHEAD_DAYS = 60
FIRST_APPOINTMENT_HOUR = 10


class _Writer:
    def __init__(
        self,
        plan: DemoPlan,
        new: list[PersonPlan],
        ids: dict[str, int],
        today: dt.date,
        agencies: dict[str, Agency],
        users: dict[str, Any],
    ) -> None:
        self.plan, self.today, self.agencies, self.users = plan, today, agencies, users
        self.by_index = {p.index: p for p in new}
        self.ids = {p.index: ids[p.local_ref(plan.seed)] for p in new}
        self.usernames = {user.pk: name for name, user in users.items()}
        self.counts: dict[str, int] = {}
        self._actors: dict[tuple[str, dt.date], Actor] = {}
        self.holidays = bank_holidays(
            today - dt.timedelta(days=HOLIDAYS_BACK_DAYS),
            today + dt.timedelta(days=HOLIDAYS_AHEAD_DAYS),
        )
        self.standard_days = int(Scheme.current().enforcement_working_days)

    def actor(self, username: str, day: dt.date) -> Actor:
        key = (username, day)
        if key not in self._actors:
            self._actors[key] = actor_for(self.users[username], day)
        return self._actors[key]

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def count(self, label: str, n: int = 1) -> None:
        if n:
            self.counts[label] = self.counts.get(label, 0) + n

    def guard(self, what: str, run: Callable[[], Any]) -> Any:
        try:
            return run()
        except (ApplicationError, NotPermitted, OutOfScope) as error:
            raise DemoSeedError(
                f"The demo's premium service was refused at {what}: {error}"
            ) from error

    def current_custody(self, index: int) -> CustodyEpisode:
        episode = (
            CustodyEpisode.objects.filter(offender_id=self.ids[index], released_on__isnull=True)
            .select_related("establishment")
            .order_by("-started_on", "-pk")
            .first()
        )
        if episode is None:
            raise DemoSeedError(f"The demo planned custody work for person {index} out of custody")
        return episode

    def prison_login(self, episode: CustodyEpisode) -> str:
        key = next(
            k for k, agency in self.agencies.items() if agency.pk == episode.establishment_id
        )
        return f"prison.{key}"

    # levels (001 §3.2b) ---------------------------------------------------------------

    def levels(self) -> None:
        for level in self.plan.premium.levels:
            if level.person in self.by_index:
                self.guard(f"a contact level for person {level.person}", partial(self.level, level))

    def level(self, level: LevelPlan) -> None:
        nominal = self.day(level.starts_ago)
        # From a Monday: the week it starts in is measured against it (compliance).
        starts_on = nominal - dt.timedelta(days=nominal.weekday())
        contact_level_set(
            user=self.actor(level.by, starts_on),
            offender_id=self.ids[level.person],
            contacts_per_week=level.contacts,
            drug_tests_per_week=level.drug_tests,
            starts_on=starts_on,
            reason=level.reason,
            as_of=starts_on,
        )
        self.count("contact levels set by key workers")

    # enforcement (001 §3.2e) ------------------------------------------------------------

    def enforcement(self) -> None:
        cases = [c for c in self.plan.premium.enforcement if c.person in self.by_index]
        if not cases:
            return
        failed = {
            (c.offender_id, timezone.localtime(c.occurred_at).replace(tzinfo=None)): c
            for c in Contact.objects.filter(
                offender_id__in=[self.ids[c.person] for c in cases],
                outcome=ContactOutcome.FAILED,
                offender__supervision__in=list(ENFORCING_STEP),
            ).select_related("offender", "worker")
        }
        for case in cases:
            moment = dt.datetime.combine(self.day(case.failed_ago), dt.time(case.hour, case.minute))
            contact = failed.get((self.ids[case.person], moment))
            if contact is None:
                raise DemoSeedError(
                    f"The demo planned enforcement for a failure on {moment:%Y-%m-%d %H:%M} "
                    "that was not written"
                )
            self.guard(
                f"the enforcement of the failure on {moment:%Y-%m-%d}",
                partial(self.enforce, case, contact),
            )

    def on(self, start: dt.date, after: int) -> dt.date:
        """The working day `after` days after `start`, or today if it is still ahead."""
        return min(self.today, add_working_days(start, after, self.holidays))

    def enforce(self, plan: EnforcementPlan, contact: Contact) -> None:
        failed_on = timezone.localdate(contact.occurred_at)
        case = enforcement_open(user=self.actor(plan.logged_by, failed_on), contact=contact)
        if case is None:
            raise DemoSeedError(f"No enforcement case opened for the failure on {failed_on}")
        self.count("enforcement cases")
        # A failure whose standard still runs today stays open, as the standard allows.
        running = add_working_days(failed_on, self.standard_days, self.holidays) >= self.today
        owner = self.usernames[case.owner_id]
        version = case.version
        last = failed_on
        steps: list[tuple[int, str, str]] = []
        if plan.warning_after is not None:
            steps.append((plan.warning_after, EnforcementStepKind.WARNING, plan.warning_note))
        if plan.enforced_after is not None and not running:
            steps.append(
                (plan.enforced_after, ENFORCING_STEP[case.supervision], plan.enforced_note)
            )
        for after, kind, note in steps:
            last = max(last, self.on(failed_on, after))
            enforcement_step_record(
                user=self.actor(owner, last),
                case_id=case.pk,
                version=version,
                kind=kind,
                taken_on=last,
                note=note,
            )
            version += 1
            self.count("enforcement steps")
        if plan.closed_after is not None and not running:
            last = max(last, self.on(failed_on, plan.closed_after))
            enforcement_close(
                user=self.actor(owner, last),
                case_id=case.pk,
                version=version,
                outcome=plan.outcome,
                note=plan.outcome_note,
                closed_on=last,
            )
            self.count("enforcement cases closed")

    # release and reception (004 §4.2, 002) --------------------------------------------

    def release(self) -> None:
        premium = self.plan.premium
        for change in premium.release_dates:
            if change.person in self.by_index:
                self.guard(
                    f"a release date for person {change.person}",
                    partial(self.release_date, change.person, change.expected_ago),
                )
        for release in premium.release_plans:
            if release.person in self.by_index:
                self.guard(
                    f"a release plan for person {release.person}",
                    partial(self.release_plan, release),
                )
        for reception in premium.receptions:
            if reception.person in self.by_index:
                self.guard(
                    f"a reception assessment for person {reception.person}",
                    partial(self.reception, reception.person, reception.hours, reception.needs),
                )

    def release_date(self, index: int, expected_ago: int) -> None:
        episode = self.current_custody(index)
        custody_release_date_set(
            user=self.actor(self.prison_login(episode), self.today),
            custody_id=episode.pk,
            expected_release_on=self.day(expected_ago),
        )
        self.count("release dates changed")

    def release_plan(self, release: ReleasePlanPlan) -> None:
        """The prison's CARAT worker starts the plan with the treatment; the key worker
        adds the rest (all of it for a complete plan)."""
        episode = self.current_custody(release.person)
        person = self.by_index[release.person]
        saved = release_plan_save(
            user=self.actor(self.prison_login(episode), self.today),
            custody_id=episode.pk,
            version=0,
            data={"treatment": release.treatment, "treatment_owner": self.agencies["treatment"]},
        )
        rest: dict[str, Any] = {
            "supervision": release.supervision,
            "supervision_owner": self.agencies["probation"],
        }
        if release.accommodation:
            rest |= {
                "accommodation": release.accommodation,
                "accommodation_owner": self.agencies["housing"],
            }
        if release.first_appointment_with and episode.expected_release_on is not None:
            rest |= {
                "first_appointment_at": timezone.make_aware(
                    dt.datetime.combine(
                        episode.expected_release_on, dt.time(FIRST_APPOINTMENT_HOUR)
                    )
                ),
                "first_appointment_with": release.first_appointment_with,
                "first_appointment_owner": self.agencies["probation"],
            }
        release_plan_save(
            user=self.actor(person.key_worker or "manager", self.today),
            custody_id=episode.pk,
            version=saved.version,
            data=rest,
        )
        self.count("release plans")

    def reception(self, index: int, hours: int, needs: str) -> None:
        episode = self.current_custody(index)
        reception_assessment_record(
            user=self.actor(self.prison_login(episode), self.today),
            custody_id=episode.pk,
            assessed_at=start_of_day(episode.started_on) + dt.timedelta(hours=hours),
            needs=needs,
        )
        self.count("reception assessments")


def write_premium(
    plan: DemoPlan,
    new: list[PersonPlan],
    ids: dict[str, int],
    today: dt.date,
    agencies: dict[str, Agency],
    users: dict[str, Any],
) -> dict[str, int]:
    """The new people's levels, enforcement, release dates and plans and reception
    assessments; returns what was created."""
    writer = _Writer(plan, new, ids, today, agencies, users)
    writer.levels()
    writer.enforcement()
    writer.release()
    alerts = Alert.objects.filter(offender_id__in=writer.ids.values()).count()
    writer.count("alerts", alerts)
    return writer.counts


# --- the summary -------------------------------------------------------------------------


def premium_lines(demo: QuerySet[Offender], today: dt.date) -> list[str]:
    """What the summary says of the premium service. Seeding consults nobody, so it
    reads through the apps' unaudited parts (levels_for, overdue_q, the treatment
    clocks), not the selectors that audit a consultation (overdue_cases,
    release_plans_due), whose answers the demo's tests check."""
    manager = get_user_model().objects.filter(username="manager").first()
    if manager is None:
        return []
    actor = actor_for(manager, today)
    scheme = Scheme.current()
    on_tier = list(demo.filter(episodes__isnull=False).distinct().values_list("pk", flat=True))
    levels = levels_for(user=actor, offender_ids=on_tier, first_day=today, last_day=today)
    in_force = [week for weeks in levels.values() for week in weeks.values() if week]
    own = [level for level in in_force if level.is_own]
    targets = {level.tier: level.contacts for level in in_force if not level.is_own}
    tier_contacts = scheme.contact_target_per_week
    above = sum(1 for level in own if level.contacts > targets.get(level.tier, tier_contacts))
    below = sum(1 for level in own if level.contacts < targets.get(level.tier, tier_contacts))
    cases = EnforcementCase.objects.filter(offender__in=demo)
    overdue = cases.filter(overdue_q(today, int(scheme.enforcement_working_days))).count()
    treatment = list(
        Referral.objects.filter(offender__in=demo, provider__agency__kind=AgencyKind.TREATMENT)
    )
    clocks = clocks_for(treatment, as_of=today).values()
    assessed = [c.assessment for c in clocks if c.assessment.measured]
    seen = [c.first_appointment for c in clocks if c.first_appointment.measured]
    until = today + dt.timedelta(weeks=scheme.release_plan_weeks)
    # The scheme's own people (on a tier today), as the home pages' lists have them.
    due_out = CustodyEpisode.objects.filter(
        offender__in=demo.filter(pk__in=ProgrammeEpisode.objects.open_on(today).values("offender")),
        released_on__isnull=True,
        expected_release_on__gte=today,
        expected_release_on__lte=until,
    )
    incomplete = due_out.exclude(release_plan__completed_at__isnull=False).count()
    assessments = ReceptionAssessment.objects.filter(custody__offender__in=demo).count()
    return [
        f"Contact levels: {len(own)} people on a level of their own today ({above} above "
        f"their tier's, {below} below). Enforcement: {cases.count()} cases, "
        f"{cases.filter(status=EnforcementStatus.OPEN).count()} open ({overdue} overdue "
        f"against {scheme.enforcement_working_days} working days), "
        f"{cases.filter(status=EnforcementStatus.CLOSED).count()} closed "
        "(/offenders/enforcement/).",
        f"Treatment referrals: {sum(r.met for r in assessed)} of {len(assessed)} assessed "
        f"within {scheme.treatment_assessment_working_days} working days, "
        f"{sum(r.met for r in seen)} of {len(seen)} first seen within "
        f"{scheme.treatment_appointment_working_days}. Due out of custody within "
        f"{scheme.release_plan_weeks} weeks: {due_out.count()}, {incomplete} with the "
        f"release plan incomplete; reception assessments: {assessments}; alerts: "
        f"{Alert.objects.filter(offender__in=demo).count()}.",
    ]
