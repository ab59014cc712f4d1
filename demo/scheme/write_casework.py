"""Writing the casework of the plan (demo/scheme/casework.py) through the apps' services:
referrals to providers, needs, actions, case conferences and core-group meetings.

Providers are reference data, made as the admin would (found by name, so a second run
finds them). Everything else goes through `pathways.services` and
`conferences.services`, as the login the plan names and on the day it names (`as_of`;
a referral's date is its `opened_on`), oldest first, so each conference freezes the plans
as they stood on its day. Those services audit what they write, as on a live scheme.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from access.errors import ApplicationError, OutOfScope
from access.models import Agency, Role
from access.policy import Actor, actor_for
from conferences import services as conference_services
from conferences.due import months_after
from conferences.models import (
    CaseConference,
    ConferencePerson,
    ConferenceStatus,
    CoreGroupMeeting,
)
from conferences.selectors import due_count
from offenders.models import Offender
from offenders.working_days import add_working_days, bank_holidays
from pathways import services as pathway_services
from pathways.models import (
    Action,
    ActionStatus,
    Need,
    Pathway,
    Provider,
    Referral,
    ReferralStatus,
)

from .casework import (
    ActionPlan,
    ActionUpdatePlan,
    ConferencePlan,
    CoreGroupPlan,
    NeedPlan,
    ReferralPlan,
    ReviewPlan,
)
from .plan import DemoPlan, PersonPlan
from .specs import (
    CONFERENCE_AGENCIES,
    CONFERENCE_ARRANGED_BEFORE,
    CONFERENCE_LOCATION,
    CONFERENCE_WEEKDAY,
    HISTORY_DAYS,
    LOGINS,
    PROVIDERS,
    DemoSeedError,
)

# The months to a reviewed person's next conference when no later one is planned
# (Scheme.conference_interval_months' default, 001 §3.2a).
NEXT_CONFERENCE_MONTHS = 3


def conference_days(plan: DemoPlan, today: dt.date) -> list[dt.date]:
    """Each planned conference's day: a past one moved back to CONFERENCE_WEEKDAY (at
    most six days), the one ahead on the first such weekday after today."""
    days = []
    for conference in plan.conferences:
        if conference.nominal_ago > 0:
            nominal = today - dt.timedelta(days=conference.nominal_ago)
            days.append(nominal - dt.timedelta(days=(nominal.weekday() - CONFERENCE_WEEKDAY) % 7))
        else:
            tomorrow = today + dt.timedelta(days=1)
            days.append(tomorrow + dt.timedelta(days=(CONFERENCE_WEEKDAY - tomorrow.weekday()) % 7))
    return days


def providers(agencies: dict[str, Agency]) -> tuple[dict[str, Provider], list[str], int]:
    """The directory's providers, found by name or made; returns them by key, the keys of
    those made now that have closed (`close_providers`, once their past referrals are
    written), and how many were made."""
    pathways = {p.code: p for p in Pathway.objects.all()}
    found: dict[str, Provider] = {}
    closing = []
    made = 0
    for spec in PROVIDERS:
        provider, created = Provider.objects.get_or_create(
            name=spec.name,
            defaults={
                "agency": agencies[spec.agency],
                "phone": spec.phone,
                "email": spec.email,
                "address": spec.address,
                "reserved_places": spec.reserved_places,
                "reserved_note": spec.reserved_note,
            },
        )
        if created:
            made += 1
            provider.pathways.set([pathways[code] for code in spec.pathways if code in pathways])
            if not spec.active:
                closing.append(spec.key)
        found[spec.key] = provider
    return found, closing, made


def close_providers(found: dict[str, Provider], closing: list[str]) -> None:
    """The providers that have closed since their referrals were made (a closed provider
    takes no new referrals, and no longer counts as serving its pathways)."""
    Provider.objects.filter(pk__in=[found[key].pk for key in closing]).update(active=False)


@dataclass(order=True)
class _Step:
    day: dt.date
    # Within a day: other casework first, then a conference's arranging, attendance,
    # each person's review, and its closing.
    stage: int
    seq: int
    run: Callable[[], None] = field(compare=False)
    what: str = field(compare=False, default="")


@dataclass
class _Held:
    """A conference being written: arranged first, then recorded on its day."""

    index: int
    plan: ConferencePlan
    held_on: dt.date
    made: CaseConference | None = None

    @property
    def pk(self) -> int:
        assert self.made is not None, "arranged first"
        return self.made.pk

    def version(self) -> int:
        # Each recording service moves the version on: read it as the next form would.
        return CaseConference.objects.values_list("version", flat=True).get(pk=self.pk)


class _Writer:
    def __init__(
        self,
        plan: DemoPlan,
        new: list[PersonPlan],
        ids: dict[str, int],
        today: dt.date,
        agencies: dict[str, Agency],
        users: dict[str, Any],
        found: dict[str, Provider],
    ) -> None:
        self.plan, self.new, self.ids, self.today = plan, new, ids, today
        self.agencies, self.users, self.providers = agencies, users, found
        self.pathways = {p.code: p.pk for p in Pathway.objects.all()}
        self.by_index = {p.index: p for p in new}
        self.steps: list[_Step] = []
        self.actions: dict[int, Action] = {}  # id(ActionPlan) -> its Action
        self.counts: dict[str, int] = {}
        self._actors: dict[tuple[str, dt.date], Actor] = {}
        self._holidays: frozenset[dt.date] | None = None

    def actor(self, username: str, day: dt.date) -> Actor:
        """The login acting on that day (one membership look-up per login and day)."""
        key = (username, day)
        if key not in self._actors:
            self._actors[key] = actor_for(self.users[username], day)
        return self._actors[key]

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def offender(self, person: PersonPlan) -> int:
        return self.ids[person.local_ref(self.plan.seed)]

    def count(self, label: str, n: int = 1) -> None:
        self.counts[label] = self.counts.get(label, 0) + n

    def step(self, day: dt.date, stage: int, run: Callable[[], None], what: str) -> None:
        self.steps.append(_Step(day, stage, len(self.steps), run, what))

    # referrals: written first (their dates give the partners their people) -------------

    def referrals(self) -> None:
        for person in self.new:
            for referral in person.referrals:
                provider = self.providers[referral.provider]
                if not provider.active:
                    continue  # closed before this run: it takes no new referrals
                ref = person.local_ref(self.plan.seed)
                self.guard(
                    f"a referral of {ref} to {provider.name}",
                    partial(self.refer, self.offender(person), referral, provider),
                )

    def refer(self, offender_id: int, referral: ReferralPlan, provider: Provider) -> None:
        """Made by the key worker (or the YOT) on its day; accepted by the partner, or
        closed by it with an outcome on the day it closed."""
        made = pathway_services.referral_create(
            user=self.actor(referral.referrer, self.today),
            offender_id=offender_id,
            provider_id=provider.pk,
            pathway_id=self.pathways[referral.pathway],
            opened_on=self.day(referral.opened_ago),
            reason=referral.reason,
        )
        self.count("referrals")
        partner = self.actor(f"partner.{referral.agency}", self.today)
        if referral.status not in (ReferralStatus.MADE, ReferralStatus.DECLINED):
            days = self.treatment_days(made.opened_on, referral)
            made = pathway_services.referral_update(
                user=partner,
                referral_id=made.pk,
                version=made.version,
                status=ReferralStatus.ACCEPTED,
                assessed_on=days.get("assessed_on"),
                first_appointment_on=days.get("first_appointment_on"),
            )
        if referral.closed_ago is not None:
            pathway_services.referral_update(
                user=partner,
                referral_id=made.pk,
                version=made.version,
                status=referral.status,
                outcome=referral.outcome,
                closed_on=self.day(referral.closed_ago),
            )
            self.count("referrals closed")

    def treatment_days(self, opened_on: dt.date, referral: ReferralPlan) -> dict[str, dt.date]:
        """Treatment on a clock (001 §3.2c, demo/scheme/premium.py): the days the person
        was assessed and first seen, the plan's working days after the referral, as far
        as they have come by today (and by the referral's closing)."""
        if referral.assessed_after is None:
            return {}
        if self._holidays is None:
            self._holidays = bank_holidays(self.today - dt.timedelta(days=HISTORY_DAYS), self.today)
        closed = self.day(referral.closed_ago) if referral.closed_ago is not None else self.today
        days: dict[str, dt.date] = {}
        for name, after in (
            ("assessed_on", referral.assessed_after),
            ("first_appointment_on", referral.first_seen_after),
        ):
            if after is None:
                break
            day = add_working_days(opened_on, after, self._holidays)
            if day > min(self.today, closed):
                break
            days[name] = day
        if days:
            self.count("treatment clock dates", len(days))
        return days

    # needs and actions ----------------------------------------------------------------

    def casework(self) -> None:
        for person in self.new:
            offender_id = self.offender(person)
            ref = person.local_ref(self.plan.seed)
            for need in person.needs:
                if need.conference is not None:
                    continue
                day = self.day(need.days_ago)
                self.step(
                    day,
                    0,
                    partial(self.need, need.by, offender_id, need, day),
                    f"{ref}'s {need.pathway} need",
                )
            for action in person.actions:
                if action.conference is None:
                    day = self.day(action.created_ago)
                    self.step(
                        day,
                        0,
                        partial(self.action, action, offender_id, day),
                        f"{ref}'s {action.pathway} action",
                    )
                for update in action.updates:
                    day = self.day(update.days_ago)
                    self.step(
                        day,
                        0,
                        partial(self.update, action, update, day),
                        f"an update of {ref}'s {action.pathway} action",
                    )

    def need(self, by: str, offender_id: int, need: NeedPlan, day: dt.date) -> None:
        pathway_services.need_set(
            user=self.actor(by, day),
            offender_id=offender_id,
            pathway_id=self.pathways[need.pathway],
            level=need.level,
            note=need.note,
            as_of=day,
        )
        self.count("need levels")

    def owner_ids(self, action: ActionPlan) -> tuple[int, int | None]:
        owner = self.users[action.owner].pk if action.owner else None
        return self.agencies[action.owner_agency].pk, owner

    def action(self, action: ActionPlan, offender_id: int, day: dt.date) -> None:
        agency_id, owner_id = self.owner_ids(action)
        self.actions[id(action)] = pathway_services.action_create(
            user=self.actor(action.by, day),
            offender_id=offender_id,
            pathway_id=self.pathways[action.pathway],
            description=action.description,
            owner_agency_id=agency_id,
            owner_id=owner_id,
            due_on=self.day(action.due_ago),
            as_of=day,
        )
        self.count("actions")

    def update(self, action: ActionPlan, update: ActionUpdatePlan, day: dt.date) -> None:
        current = self.actions[id(action)]
        changes: dict[str, Any] = {"status": update.status, "outcome": update.outcome}
        if update.due_ago is not None:
            changes["due_on"] = self.day(update.due_ago)
        self.actions[id(action)] = pathway_services.action_update(
            user=self.actor(update.by, day),
            action_id=current.pk,
            version=current.version,
            as_of=day,
            **changes,
        )
        self.count("action updates")

    # conferences ----------------------------------------------------------------------

    def conferences(self) -> None:
        days = conference_days(self.plan, self.today)
        # Each person's conferences, for the date of their next one.
        next_on: dict[tuple[int, int], dt.date] = {}
        for k, conference in enumerate(self.plan.conferences):
            for review in conference.reviews:
                later = [
                    days[j]
                    for j in range(k + 1, len(self.plan.conferences))
                    if any(r.person == review.person for r in self.plan.conferences[j].reviews)
                ]
                next_on[(k, review.person)] = (
                    later[0] if later else months_after(days[k], NEXT_CONFERENCE_MONTHS)
                )
        for k, conference in enumerate(self.plan.conferences):
            if not all(r.person in self.by_index for r in conference.reviews):
                continue  # some of its people were seeded before: leave it to that run
            held_on = days[k]
            arranged = min(self.today, held_on - dt.timedelta(days=CONFERENCE_ARRANGED_BEFORE))
            state = _Held(k, conference, held_on)
            what = f"the case conference of {held_on}"
            self.step(arranged, 1, partial(self.arrange, state, arranged), what)
            if not conference.closed:
                continue
            self.step(held_on, 2, partial(self.attend, state), what)
            for review in conference.reviews:
                next_conference = next_on[(k, review.person)]
                self.step(held_on, 3, partial(self.review, state, review, next_conference), what)
            self.step(held_on, 4, partial(self.close, state), what)

    def arrange(self, held: _Held, arranged: dt.date) -> None:
        manager = self.actor("manager", arranged)
        held.made = conference_services.conference_create(
            user=manager,
            held_on=held.held_on,
            chair_id=self.users["manager"].pk,
            people_ids=[self.offender(self.by_index[r.person]) for r in held.plan.reviews],
            agency_ids=[self.agencies[key].pk for key in CONFERENCE_AGENCIES],
            location=CONFERENCE_LOCATION,
            as_of=arranged,
        )
        self.count("case conferences")

    def attend(self, held: _Held) -> None:
        manager = self.actor("manager", held.held_on)
        names: dict[str, list[str]] = {}
        for spec in LOGINS:
            if spec.role in (Role.STEERING_GROUP, Role.ADMINISTRATOR):
                continue
            user = self.users[spec.username]
            names.setdefault(spec.agency, []).append(user.get_full_name())
        attendance: dict[int, tuple[bool | None, str]] = {
            self.agencies[key].pk: (
                (False, "") if key in held.plan.absent else (True, ", ".join(names.get(key, [])))
            )
            for key in CONFERENCE_AGENCIES
        }
        conference_services.attendance_record(
            user=manager,
            conference_id=held.pk,
            version=held.version(),
            attendance=attendance,
            as_of=held.held_on,
        )

    def review(self, held: _Held, review: ReviewPlan, next_on: dt.date) -> None:
        k, held_on = held.index, held.held_on
        manager = self.actor("manager", held_on)
        person = self.by_index[review.person]
        offender_id = self.offender(person)
        row = ConferencePerson.objects.get(conference_id=held.pk, offender_id=offender_id)
        conference_services.conference_person_record(
            user=manager,
            conference_person_id=row.pk,
            version=row.version,
            minutes=review.minutes,
            offender_comment=review.comment,
            contact_level_per_week=review.contact_level,
            next_conference_on=next_on,
            as_of=held_on,
        )
        self.count("people reviewed at conferences")
        for need in person.needs:
            if need.conference == k:
                conference_services.conference_need_set(
                    user=manager,
                    conference_person_id=row.pk,
                    pathway_id=self.pathways[need.pathway],
                    level=need.level,
                    note=need.note,
                    as_of=held_on,
                )
                self.count("need levels")
        for action in person.actions:
            if action.conference == k:
                agency_id, owner_id = self.owner_ids(action)
                self.actions[id(action)] = conference_services.conference_action_create(
                    user=manager,
                    conference_person_id=row.pk,
                    pathway_id=self.pathways[action.pathway],
                    description=action.description,
                    owner_agency_id=agency_id,
                    owner_id=owner_id,
                    due_on=self.day(action.due_ago),
                    as_of=held_on,
                )
                self.count("actions")

    def close(self, held: _Held) -> None:
        manager = self.actor("manager", held.held_on)
        conference_services.conference_close(
            user=manager, conference_id=held.pk, version=held.version(), as_of=held.held_on
        )

    def core_groups(self) -> None:
        for meeting in self.plan.core_groups:
            person = self.by_index.get(meeting.person)
            if person is None:
                continue
            day = self.day(meeting.days_ago)
            self.step(
                day,
                0,
                partial(self.core_group, meeting, day, self.offender(person)),
                f"a core-group meeting about {person.local_ref(self.plan.seed)}",
            )

    def core_group(self, meeting: CoreGroupPlan, day: dt.date, offender_id: int) -> None:
        conference_services.core_group_record(
            user=self.actor("manager", day),
            offender_id=offender_id,
            held_on=day,
            notes=meeting.notes,
            agency_ids=[self.agencies[key].pk for key in meeting.agencies],
            as_of=day,
        )
        self.count("core-group meetings")

    # ---------------------------------------------------------------------------------

    def guard(self, what: str, run: Callable[[], Any]) -> Any:
        try:
            return run()
        except (ApplicationError, OutOfScope) as error:
            raise DemoSeedError(f"The demo's casework was refused at {what}: {error}") from error

    def run(self) -> dict[str, int]:
        for step in sorted(self.steps):
            self.guard(f"{step.what} ({step.day})", step.run)
        return self.counts


def write_casework(
    plan: DemoPlan,
    new: list[PersonPlan],
    ids: dict[str, int],
    today: dt.date,
    agencies: dict[str, Agency],
    users: dict[str, Any],
    found: dict[str, Provider],
) -> dict[str, int]:
    """The new people's referrals, needs, actions, conferences and core-group meetings,
    oldest first; returns what was created."""
    writer = _Writer(plan, new, ids, today, agencies, users, found)
    writer.referrals()
    writer.casework()
    writer.conferences()
    writer.core_groups()
    return writer.run()


# --- the summary -------------------------------------------------------------------------


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def casework_lines(demo: QuerySet[Offender], today: dt.date) -> list[str]:
    """What the summary says of the providers, referrals, plans and conferences."""
    active = Provider.objects.filter(active=True, agency__active=True)
    served = Pathway.objects.filter(providers__in=active).distinct()
    unserved = [p.name for p in Pathway.objects.exclude(pk__in=served).order_by("order")]
    reserved = sum(p.reserved_places or 0 for p in active)
    closed_providers = Provider.objects.filter(active=False).count()
    referrals = Referral.objects.filter(offender__in=demo)
    on_pathways = referrals.values("pathway").distinct().count()
    open_today = referrals.open_on(today).count()
    needs = Need.objects.filter(offender__in=demo)
    actions = Action.objects.filter(offender__in=demo)
    conferences = CaseConference.objects.filter(people__offender__in=demo).distinct()
    closed = [
        f"{_long(c.held_on)} ({c.people.count()} PPOs)"
        for c in conferences.filter(status=ConferenceStatus.CLOSED).order_by("held_on")
    ]
    planned = [
        f"{_long(c.held_on)} ({c.people.count()} PPOs booked)"
        for c in conferences.filter(status=ConferenceStatus.PLANNED).order_by("held_on")
    ]
    core_groups = CoreGroupMeeting.objects.filter(offender__in=demo).count()
    manager = get_user_model().objects.filter(username="manager").first()
    due = due_count(user=manager) if manager is not None else None
    lines = [
        f"Providers: {active.count()} in the directory ({reserved} places reserved for the "
        f"scheme), {closed_providers} closed; no provider on: {', '.join(unserved) or 'none'} "
        "(/pathways/providers/, /pathways/gaps/).",
        f"Referrals: {referrals.count()} on {on_pathways} of the {Pathway.objects.count()} "
        f"pathways, {open_today} open today. Needs: {needs.count()} levels set for "
        f"{needs.values('offender').distinct().count()} people. Actions: {actions.count()}, "
        f"{actions.still_open().count()} open ({actions.overdue_on(today).count()} overdue), "
        f"{actions.filter(status=ActionStatus.DONE).count()} done, "
        f"{actions.filter(status=ActionStatus.NOT_ACHIEVED).count()} not achieved.",
        "Case conferences: "
        + (f"closed on {' and '.join(closed)}" if closed else "none closed")
        + (f"; planned for {', '.join(planned)}" if planned else "")
        + f"; {core_groups} core-group meetings.",
    ]
    if due is not None:
        lines.append(
            f"Due a case conference today: {due[0]} PPOs, {due[1]} of them overdue "
            "(/conferences/due/)."
        )
    return lines
