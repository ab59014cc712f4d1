"""The plan's casework across the pathways: providers for the referrals, needs with their
history, action plans, two past case conferences, core-group meetings between them and a
conference booked for the coming week (issue 9; 000 §5.1, 001 §3.1-3.2).

Pure Python, dates as days before today, like the rest of the plan. It draws from its own
`random.Random`, after everything else is planned, so the people and records planned
before it are exactly what they were before it existed.

The two past conferences are about four months and about one month ago (the writer moves
each back to a Tuesday, at most six days, and arranges it two weeks before): the first
reviews most PPOs on the scheme by then, the second about half of those again and some
who were not there (a few selected since the first). Between them the needs and actions
move on (actions done, not achieved or overdue; needs down or up a level), so the plan
frozen at the second differs from the one frozen at the first. What is left is due a
conference today (conferences.due): those last reviewed at the first, over three months
ago, and a few PPOs selected since it who have never been conferenced; some of them are
booked for next week's conference, and so are no longer due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from offenders.models import IomGrade, Supervision
from pathways.models import ActionStatus, NeedLevel, ReferralStatus
from selection.models import DecisionKind

from .specs import (
    CONFERENCE_ARRANGED_BEFORE,
    CONFERENCE_MAX_SHIFT,
    FIRST_CONFERENCE_AGO,
    FIRST_CONFERENCE_SIZE,
    PLANNED_CONFERENCE_SIZE,
    SECOND_CONFERENCE_AGO,
    SECOND_CONFERENCE_REPEATS,
)

if TYPE_CHECKING:
    from .plan import PersonPlan

# Conferences by their index in DemoPlan.conferences.
FIRST, SECOND, PLANNED = 0, 1, 2

# Panel days move forward (towards today) by up to six days (write.panel_dates), so a
# person selected at a panel planned for day N was selected on day N-6 at the latest.
PANEL_MAX_SHIFT = 6
# The days between the two conferences, whatever weekday they move to: after the first
# (held FIRST_CONFERENCE_AGO to +6 days ago) and before the second.
BETWEEN = (SECOND_CONFERENCE_AGO + CONFERENCE_MAX_SHIFT + 2, FIRST_CONFERENCE_AGO - 2)
# After the second conference, up to yesterday.
SINCE_SECOND = (1, SECOND_CONFERENCE_AGO - 1)
# Before the first conference was arranged.
BEFORE_FIRST = FIRST_CONFERENCE_AGO + CONFERENCE_MAX_SHIFT + CONFERENCE_ARRANGED_BEFORE + 1

# 001 §3.2b: "four contacts a week (reviewed by Conference)".
PREMIUM_CONTACTS = 4
LEVELS = (NeedLevel.NONE, NeedLevel.LOW, NeedLevel.MEDIUM, NeedLevel.HIGH)
GAP_LEVELS = (NeedLevel.MEDIUM, NeedLevel.HIGH)


@dataclass
class ReferralPlan:
    """A referral to a partner agency's provider (pathways.services.referral_create, by
    `referrer`), accepted by the partner or closed with an outcome (referral_update)."""

    agency: str
    pathway: str
    opened_ago: int
    closed_ago: int | None
    reason: str
    provider: str = ""  # specs.PROVIDERS key
    status: str = ""
    outcome: str = ""
    referrer: str = ""
    # Treatment on a clock (001 §3.2c; planned by demo/scheme/premium.py): the working days
    # after the referral the person was assessed and first seen; None: not recorded.
    assessed_after: int | None = None
    first_seen_after: int | None = None


@dataclass
class NeedPlan:
    """A need level set on a pathway (pathways.services.need_set), by a login on a day,
    or at a conference (`conference`, its index; `days_ago` is then the nominal day)."""

    pathway: str
    level: str
    days_ago: int
    by: str
    conference: int | None = None
    note: str = ""


@dataclass
class ActionUpdatePlan:
    days_ago: int
    status: str
    outcome: str
    by: str
    # A new due date (days ago; negative: ahead), e.g. when work in progress needs longer.
    due_ago: int | None = None


@dataclass
class ActionPlan:
    """An action of a person's plan (pathways.services.action_create), agreed at a
    conference or added by a login; `due_ago` negative is a due date still ahead."""

    pathway: str
    description: str
    owner_agency: str
    owner: str | None
    created_ago: int
    due_ago: int
    by: str
    conference: int | None = None
    updates: list[ActionUpdatePlan] = field(default_factory=list)


@dataclass
class ReviewPlan:
    """One PPO reviewed at a conference (conferences.services.conference_person_record)."""

    person: int  # PersonPlan.index
    minutes: str = ""
    comment: str = ""
    contact_level: int | None = None


@dataclass
class ConferencePlan:
    """A case conference (001 §3.1): held `nominal_ago` days ago (negative: ahead),
    which the writer moves to a Tuesday; closed ones are recorded and closed on the day."""

    nominal_ago: int
    reviews: list[ReviewPlan]
    closed: bool
    # Invited agencies that sent apologies (the others attended).
    absent: tuple[str, ...] = ()


@dataclass
class CoreGroupPlan:
    """A core-group meeting between conferences (conferences.services.core_group_record)."""

    person: int
    days_ago: int
    notes: str
    agencies: tuple[str, ...]


# --- words -------------------------------------------------------------------------------

NEED_NOTES = {
    "accommodation": "Sofa-surfing with family; no tenancy.",
    "ete": "No qualifications; has not worked for two years.",
    "health": "Low mood; not registered with a GP.",
    "drugs_alcohol": "Daily heroin and crack use on arrest.",
    "finance": "Rent arrears and a benefit sanction.",
    "families": "No contact with their children since the last sentence.",
    "attitudes": "Blames others for the offending; impulsive.",
    "victims": "Victim awareness work outstanding since the RJ project closed.",
}
PARTNER_NEED_NOTE = "Assessed by the provider on accepting the referral."

# (pathway, description, who owns it: "probation", "partner" or "prison").
ACTIONS = {
    "accommodation": (
        "Housing options interview and a supported-housing application",
        "Bid for a tenancy through the choice-based lettings scheme",
        "Secure a release address before the parole date",
    ),
    "ete": (
        "Enrol on the CSCS card course at the Skills Hub",
        "Attend the college taster week",
        "Two job-search sessions a week with the employment adviser",
    ),
    "health": (
        "Register with the Riverside Health Centre GP",
        "Mental health assessment with the community team",
    ),
    "drugs_alcohol": (
        "Weekly DIP key-work sessions and drug testing",
        "Start the alcohol recovery group",
        "Script review with the CJIT prescriber",
    ),
    "finance": (
        "Debt advice appointment and a payment plan for the rent arrears",
        "Open a basic bank account and claim Universal Credit",
    ),
    "families": (
        "Supervised contact sessions with the children",
        "Family support worker to visit weekly",
    ),
    "attitudes": (
        "Complete the Thinking Skills Programme",
        "Weekly sessions with a Through the Gate mentor",
        "Victim awareness module with the key worker",
    ),
    "victims": ("Victim awareness module with the key worker",),
}
PRISON_ACTIONS = (
    ("ete", "Enrol on the prison education English and maths course"),
    ("attitudes", "Complete the Thinking Skills Programme in custody"),
    ("drugs_alcohol", "Engage with the CARAT team and the prison drug service"),
)
DONE_OUTCOMES = {
    "accommodation": "Tenancy signed at Ashdown House.",
    "ete": "Course completed; CSCS card issued.",
    "health": "Registered with the GP and seen twice.",
    "drugs_alcohol": "Attended every session; tests negative for six weeks.",
    "finance": "Payment plan agreed with the landlord; UC in payment.",
    "families": "Contact resumed fortnightly.",
    "attitudes": "Programme completed; positive report from the facilitator.",
    "victims": "Module completed.",
}
NOT_ACHIEVED_OUTCOMES = (
    "Did not attend three appointments running; to be re-planned at the next conference.",
    "Recalled to custody before it could start.",
    "Declined to take part; reason recorded in the minutes.",
)
COMMUNITY_MINUTES = (
    "Attending appointments as required; two missed contacts this month, both followed up.",
    "Police report no arrests since the last review; intelligence suggests they are "
    "still associating with known burglars.",
    "Drug tests mostly negative; one positive for cocaine discussed with them.",
    "Housing is the priority: without an address the other work cannot hold.",
    "Engaging well with the mentor; wants to move on to work.",
    "Red on the IOM grid this month: two arrests for shoplifting, charged once.",
)
CUSTODY_MINUTES = (
    "In custody; sentence plan reviewed with the prison's offender supervisor.",
    "Release planning: a release address and the first appointment are to be in place "
    "before the release date.",
    "Attending education in prison; CARAT worker reports good engagement.",
    "Adjudication for a positive test in prison; drug work to continue on release.",
)
COMMUNITY_COMMENTS = (
    "Says the plan is fair; wants the housing sorted first.",
    "Agrees the plan; asks for appointments after 2pm because of the course.",
    "Feels the drug testing is too often but will keep to it.",
    "Wants help to see their children again; happy with the rest.",
)
CUSTODY_COMMENTS = (
    "Not present (in custody): told the key worker at the prison visit they want a "
    "place at Ashdown House on release.",
    "Not present (in custody): agrees the plan by letter; worried about where they will live.",
)
CORE_GROUP_NOTES = (
    "Core group: housing offer made; DIP worker to go along to sign the tenancy.",
    "Core group after two missed appointments: warning given, contact level kept at four "
    "a week, mentor to collect them for appointments.",
)

# --- providers for the referrals ---------------------------------------------------------

# (agency, pathway) -> the providers a referral goes to, in turn (specs.PROVIDERS keys).
PROVIDER_FOR = {
    ("treatment", "drugs_alcohol"): ("dip", "alcohol"),
    ("housing", "accommodation"): ("ashdown", "tenancy"),
    ("ete", "ete"): ("skills", "college"),
    ("health", "health"): ("cmht", "riverside"),
    ("voluntary", "attitudes"): ("mentoring",),
    ("voluntary", "families"): ("families_first",),
    ("council", "finance"): ("debt_advice",),
    ("council", "families"): ("family_intervention",),
    ("council", "victims"): ("restorative",),
}
# Ashdown House has four dwellings reserved for the scheme (001 §3.2d): no more open
# referrals to it than that.
ASHDOWN_PLACES = 4
EXTRA_REFERRALS = {
    "finance": ("council", "Rent arrears and benefit sanctions."),
    "families": ("voluntary", "Rebuilding contact with their children."),
    "attitudes": ("voluntary", "Mentoring to support the thinking-skills work."),
    "accommodation": ("housing", "No fixed abode; needs a tenancy."),
    "ete": ("ete", "No qualifications; wants work."),
    "health": ("health", "Untreated depression; GP registration needed."),
    "drugs_alcohol": ("treatment", "Drinking daily; alcohol-related offending."),
}
VICTIMS_REASON = "Restorative justice: the victim has asked to meet them."
VICTIMS_OUTCOMES = (
    (
        ReferralStatus.COMPLETED,
        "Restorative conference held with the victim's family; letter of apology sent.",
    ),
    (
        ReferralStatus.WITHDRAWN,
        "The project closed when its funding ended, before the conference could be held.",
    ),
)
CLOSING = {
    "treatment": (ReferralStatus.COMPLETED, "Completed the structured day programme."),
    "ete": (ReferralStatus.COMPLETED, "Finished the course; CSCS card issued."),
    "health": (ReferralStatus.DECLINED, "Declined: registered with a GP out of the area."),
    "voluntary": (ReferralStatus.WITHDRAWN, "Withdrawn: stopped meeting the mentor."),
}
# A referral accepted by the partner after this many days; newer ones are still "made".
ACCEPTED_AFTER = 10


def ppo_since(person: PersonPlan) -> int:
    """Days ago (as planned) the current spell on the PPO tier began."""
    joined = [d for d in person.decisions if d.kind in (DecisionKind.SELECT, DecisionKind.STEP_UP)]
    return joined[-1].days_ago


def first_since(person: PersonPlan) -> int:
    """Days ago (as planned) the person was first on a tier: since then they are one of
    the scheme's people (`access.policy` Scope.SCHEME)."""
    return person.on_tier_since


def _in_community(person: PersonPlan) -> bool:
    return person.situation in ("supervised", "unsupervised")


def _open_on(referral: ReferralPlan, days_ago: int) -> bool:
    closed = referral.closed_ago if referral.closed_ago is not None else -1
    return referral.opened_ago >= days_ago > closed


class _Casework:
    def __init__(self, seed: int, people: list[PersonPlan]) -> None:
        self.rng = random.Random(f"demo-casework:{seed}")
        self.people = people
        self.ppos = [p for p in people if p.group == "ppo"]

    # referrals --------------------------------------------------------------------------

    def referrals(self) -> None:
        """Each planned referral goes to a provider; the pathways no referral is on gain
        one; the Restorative Justice Project (closed since) had two; some are closed with
        an outcome; the others are accepted by the partner, or still only made."""
        rng = self.rng
        covered = {r.pathway for p in self.people for r in p.referrals}
        community = [p for p in self.ppos if _in_community(p)]
        for pathway, (agency, reason) in EXTRA_REFERRALS.items():
            if pathway in covered:
                continue
            candidates = [
                p for p in community if not any(r.pathway == pathway for r in p.referrals)
            ]
            person = candidates[rng.randrange(len(candidates))]
            opened = rng.randint(20, max(21, min(first_since(person) - 7, 200)))
            person.referrals.append(ReferralPlan(agency, pathway, opened, None, reason))
        # Two past referrals to the Restorative Justice Project, closed before it did.
        long_standing = [p for p in self.ppos if first_since(p) > 460]
        for person, (status, outcome) in zip(
            rng.sample(long_standing, 2), VICTIMS_OUTCOMES, strict=True
        ):
            opened = rng.randint(330, 440)
            person.referrals.append(
                ReferralPlan(
                    "council",
                    "victims",
                    opened,
                    rng.randint(140, 200),
                    VICTIMS_REASON,
                    status=status,
                    outcome=outcome,
                )
            )
        turn: dict[tuple[str, str], int] = {}
        ashdown = 0
        for person in self.people:
            for referral in person.referrals:
                choices = PROVIDER_FOR[(referral.agency, referral.pathway)]
                if referral.agency == "treatment" and person.dip_client:
                    referral.provider = "dip"
                else:
                    n = turn.get((referral.agency, referral.pathway), 0)
                    turn[(referral.agency, referral.pathway)] = n + 1
                    referral.provider = choices[n % len(choices)]
                if referral.provider == "ashdown":
                    if referral.closed_ago is None and ashdown >= ASHDOWN_PLACES:
                        referral.provider = "tenancy"
                    elif referral.closed_ago is None:
                        ashdown += 1
        # Closed ones say how they ended; some more close, where the agency keeps an
        # open one (each partner login still sees somebody).
        for person in self.people:
            for referral in person.referrals:
                if referral.closed_ago is not None and not referral.status:
                    referral.status, referral.outcome = (
                        (ReferralStatus.COMPLETED, CLOSING["treatment"][1])
                        if referral.closed_ago < 100
                        else (
                            ReferralStatus.WITHDRAWN,
                            "Disengaged after three missed appointments; closed.",
                        )
                    )
        for agency, (status, outcome) in CLOSING.items():
            open_ones = [
                r
                for p in self.people
                for r in p.referrals
                if r.agency == agency and r.closed_ago is None and r.opened_ago >= 40
            ]
            if len(open_ones) >= 3:
                referral = open_ones[-1]
                referral.closed_ago = rng.randint(5, referral.opened_ago - 30)
                referral.status, referral.outcome = status, outcome
        for person in self.people:
            for referral in person.referrals:
                if not referral.status:
                    referral.status = (
                        ReferralStatus.ACCEPTED
                        if referral.opened_ago >= ACCEPTED_AFTER
                        else ReferralStatus.MADE
                    )
                referral.referrer = (
                    person.key_worker if person.group == "ppo" and person.key_worker else "yot"
                )

    # conferences ------------------------------------------------------------------------

    def conferences(self) -> tuple[list[ConferencePlan], list[CoreGroupPlan]]:
        rng = self.rng
        # On the PPO tier from before each conference was arranged.
        first_limit = FIRST_CONFERENCE_AGO + CONFERENCE_MAX_SHIFT + CONFERENCE_ARRANGED_BEFORE
        second_limit = SECOND_CONFERENCE_AGO + CONFERENCE_MAX_SHIFT + CONFERENCE_ARRANGED_BEFORE

        def selected_before(limit: int) -> list[PersonPlan]:
            return [p for p in self.ppos if ppo_since(p) - PANEL_MAX_SHIFT > limit]

        eligible_first = selected_before(first_limit)
        first = rng.sample(eligible_first, min(FIRST_CONFERENCE_SIZE, len(eligible_first)))
        at_first = {p.index for p in first}
        # The second reviews many of the first again, all those the first left out, and
        # half (rounded down) of those selected after the first was arranged; the others
        # are left for today, new PPOs never conferenced.
        new_since = [p for p in selected_before(second_limit) if p not in eligible_first]
        left_out = [p for p in eligible_first if p.index not in at_first]
        fresh = left_out + new_since[: len(new_since) // 2]
        repeats = rng.sample(first, min(SECOND_CONFERENCE_REPEATS, len(first)))
        second = repeats + fresh
        at_second = {p.index for p in second}
        # Next week: some last reviewed at the first conference, and some never, leaving
        # others of each due.
        first_only = [p for p in first if p.index not in at_second]
        never = [p for p in selected_before(second_limit) if p.index not in at_first | at_second]
        booked = rng.sample(first_only, min(PLANNED_CONFERENCE_SIZE // 2 + 1, len(first_only) // 2))
        booked += rng.sample(never, min(PLANNED_CONFERENCE_SIZE - len(booked), len(never) // 2))

        def in_order(people: list[PersonPlan]) -> list[PersonPlan]:
            return sorted(people, key=lambda p: p.index)

        plans = [
            ConferencePlan(
                FIRST_CONFERENCE_AGO, [self.review(p) for p in in_order(first)], True, ("ete",)
            ),
            ConferencePlan(
                SECOND_CONFERENCE_AGO,
                [self.review(p) for p in in_order(second)],
                True,
                ("ravensgate",),
            ),
            ConferencePlan(-1, [ReviewPlan(p.index) for p in in_order(booked)], False),
        ]
        core_groups = []
        in_community = [p for p in in_order(first) if _in_community(p)]
        for person, notes in zip(in_community, CORE_GROUP_NOTES, strict=False):
            day = rng.randint(BETWEEN[0] + 15, BETWEEN[1] - 15)
            referred = (r.agency for r in person.referrals if _open_on(r, day))
            agencies = ("probation", "police", *referred)
            core_groups.append(
                CoreGroupPlan(person.index, day, notes, tuple(dict.fromkeys(agencies)))
            )
        return plans, core_groups

    def review(self, person: PersonPlan) -> ReviewPlan:
        """The conference's record of one person. The contact level it sets becomes the
        person's own from the conference day (conferences.services, offenders.contact_levels):
        001 §3.2b's four a week, one fewer for those quiet for six months (green), one more
        for the red-graded with no statutory supervision; in custody, four from release."""
        rng = self.rng
        level = PREMIUM_CONTACTS
        if _in_community(person):
            minutes = " ".join(rng.sample(COMMUNITY_MINUTES, 3))
            comment = rng.choice(COMMUNITY_COMMENTS)
            if person.iom_grade == IomGrade.GREEN:
                level -= 1
            elif person.supervision == Supervision.NONE and person.iom_grade == IomGrade.RED:
                level += 1
        else:
            minutes = " ".join(rng.sample(CUSTODY_MINUTES, 2))
            comment = rng.choice(CUSTODY_COMMENTS)
        return ReviewPlan(person.index, minutes, comment, level)

    # needs and actions ------------------------------------------------------------------

    def needs_and_actions(self, conferences: list[ConferencePlan]) -> None:
        reviewed = {
            k: {r.person for r in conference.reviews}
            for k, conference in enumerate(conferences)
            if conference.closed
        }
        for person in self.ppos:
            at = [k for k, people in reviewed.items() if person.index in people]
            self.needs(person, at)
            self.actions(person, at)
        for person in [p for p in self.people if p.group == "dyo"][:2]:
            self.dyo(person)
        # partner.housing has open actions of its own ("my actions"): every PPO with an
        # open housing referral has an accommodation action the housing agency owns.
        housing = [
            (p, r)
            for p in self.ppos
            for r in p.referrals
            if r.agency == "housing" and r.closed_ago is None
        ]
        for n, (person, referral) in enumerate(housing):
            self.housing_action(person, referral, n, reviewed.get(SECOND, set()))

    def needs(self, person: PersonPlan, at: list[int]) -> None:
        """A baseline on most pathways by the key worker, the partners' own assessments
        when they take a referral, changes agreed at conferences and between them; the
        levels walk down (progress) more often than up."""
        rng = self.rng
        since = first_since(person)
        pathways = ["accommodation", "ete", "drugs_alcohol", "attitudes"]
        # Most pathways: the four above, one or more of these, and sometimes victims.
        others = ["health", "finance", "families"]
        first_other = others.pop(rng.randrange(3))
        pathways += [first_other, *(p for p in others if rng.random() < 0.15)]
        victims_referral = any(r.pathway == "victims" for r in person.referrals)
        if victims_referral or rng.random() < 0.3:
            pathways.append("victims")
        baseline = min(since - 7, rng.randint(BEFORE_FIRST, BEFORE_FIRST + 70))
        # (days ago, order, pathway, who, conference)
        slots: list[tuple[int, int, str, str, int | None]] = [
            (baseline, 0, pathway, person.key_worker or "manager", None) for pathway in pathways
        ]
        for k in at:
            nominal = (FIRST_CONFERENCE_AGO, SECOND_CONFERENCE_AGO)[k]
            for pathway in rng.sample(pathways[:4], 1):
                slots.append((nominal, 1, pathway, "manager", k))
        if FIRST in at and since > BETWEEN[1]:
            # The key worker's reviews between the conferences: distance travelled since
            # the first shows at the next one.
            for pathway in rng.sample(pathways, 1):
                day = rng.randint(*BETWEEN)
                slots.append((day, 2, pathway, person.key_worker or "manager", None))
        if not at and since - 7 > SINCE_SECOND[1]:
            pathway = rng.choice(pathways[:4])
            day = rng.randint(SINCE_SECOND[0], min(SINCE_SECOND[1], since - 8))
            slots.append((day, 2, pathway, person.key_worker or "manager", None))
        for referral in person.referrals:
            latest = referral.opened_ago - 2
            earliest = (referral.closed_ago or 0) + 1
            if referral.pathway == "victims" or latest < max(earliest, 1):
                continue
            day = rng.randint(max(earliest, latest - 12), latest)
            slots.append((day, 3, referral.pathway, f"partner.{referral.agency}", None))
        level: dict[str, str] = {}
        for days_ago, _, pathway, by, conference in sorted(slots, key=lambda s: (-s[0], s[1])):
            if pathway not in level:
                new = self.first_level(person, pathway)
                note = NEED_NOTES[pathway] if new in GAP_LEVELS else ""
            elif pathway == "victims":
                continue
            else:
                new = self.step(level[pathway])
                note = ""
            if by.startswith("partner."):
                note = PARTNER_NEED_NOTE
            level[pathway] = new
            person.needs.append(NeedPlan(pathway, new, days_ago, by, conference, note))

    def first_level(self, person: PersonPlan, pathway: str) -> str:
        rng = self.rng
        if pathway == "drugs_alcohol" and person.dip_client:
            return NeedLevel.HIGH
        if pathway == "victims":
            return NeedLevel.MEDIUM
        if pathway == "accommodation" and person.situation in ("custody", "unsupervised"):
            return rng.choice((NeedLevel.HIGH, NeedLevel.HIGH, NeedLevel.MEDIUM))
        return rng.choices(LEVELS, (8, 27, 38, 27))[0]

    def step(self, level: str) -> str:
        rank = LEVELS.index(NeedLevel(level))
        move = self.rng.choices((-1, 0, 1), (60, 15, 25))[0]
        return LEVELS[max(0, min(3, rank + move))]

    def owner_for(self, person: PersonPlan, pathway: str, days_ago: int) -> tuple[str, str | None]:
        """Who owns an action on `pathway` set on that day: the partner the person is
        referred to on it, if any; else their key worker (probation)."""
        for referral in person.referrals:
            if referral.pathway == pathway and _open_on(referral, days_ago):
                agency = referral.agency
                return agency, f"partner.{agency}" if self.rng.random() < 0.6 else None
        return "probation", person.key_worker

    def actions(self, person: PersonPlan, at: list[int]) -> None:
        rng = self.rng
        since = first_since(person)
        worker = person.key_worker or "manager"
        assessed = list(dict.fromkeys(n.pathway for n in person.needs))
        # Before the first conference: one action set by the key worker, long due.
        if since > BEFORE_FIRST + 10:
            created = rng.randint(BEFORE_FIRST, min(since - 7, BEFORE_FIRST + 60))
            pathway = rng.choice(assessed)
            owner_agency, owner = self.owner_for(person, pathway, created)
            action = ActionPlan(
                pathway,
                rng.choice(ACTIONS[pathway]),
                owner_agency,
                owner,
                created,
                rng.randint(BETWEEN[0] + 30, created - 20),
                worker,
            )
            self.finish(person, action, (action.due_ago - 5, action.due_ago + 15), (55, 20, 25))
            person.actions.append(action)
        for k in at:
            nominal = (FIRST_CONFERENCE_AGO, SECOND_CONFERENCE_AGO)[k]
            chosen = rng.sample(assessed, 1)
            if person.situation == "custody" and rng.random() < 0.3:
                # The prison they are in now (custody is planned newest first).
                prison = person.custody[0].prison
                pathway, description = rng.choice(PRISON_ACTIONS)
                person.actions.append(
                    ActionPlan(
                        pathway,
                        description,
                        prison,
                        f"prison.{prison}",
                        nominal,
                        -rng.randint(30, 120),
                        "manager",
                        conference=k,
                    )
                )
            for pathway in chosen:
                owner_agency, owner = self.owner_for(person, pathway, nominal)
                if k == FIRST:
                    due = rng.randint(BETWEEN[0] + 10, BETWEEN[1] - 25)
                else:
                    overdue = rng.random() < 0.25
                    due = rng.randint(3, SINCE_SECOND[1] - 8) if overdue else -rng.randint(14, 70)
                action = ActionPlan(
                    pathway,
                    rng.choice(ACTIONS[pathway]),
                    owner_agency,
                    owner,
                    nominal,
                    due,
                    "manager",
                    conference=k,
                )
                if k == FIRST:
                    window = (max(BETWEEN[0], due - 10), min(BETWEEN[1] - 5, due + 20))
                    self.finish(person, action, window, (45, 15, 15, 25))
                elif rng.random() < 0.3:
                    day = rng.randint(*SINCE_SECOND)
                    by = self.updater(person, action, day)
                    action.updates.append(ActionUpdatePlan(day, ActionStatus.IN_PROGRESS, "", by))
                person.actions.append(action)
        if not at:
            # Never conferenced: the key worker's first action.
            latest = min(since - 8, 40)
            if latest >= 1:
                created = rng.randint(max(1, latest - 20), latest)
                pathway = rng.choice(assessed)
                owner_agency, owner = self.owner_for(person, pathway, created)
                person.actions.append(
                    ActionPlan(
                        pathway,
                        rng.choice(ACTIONS[pathway]),
                        owner_agency,
                        owner,
                        created,
                        -rng.randint(7, 60),
                        worker,
                    )
                )

    def updater(self, person: PersonPlan, action: ActionPlan, days_ago: int) -> str:
        """Who records progress on an action: its partner owner while the referral that
        gives them the person is open, otherwise the key worker."""
        if action.owner_agency not in ("probation", "eastmoor", "ravensgate"):
            for referral in person.referrals:
                if referral.agency == action.owner_agency and _open_on(referral, days_ago):
                    return f"partner.{action.owner_agency}"
        return person.key_worker or "manager"

    def finish(
        self,
        person: PersonPlan,
        action: ActionPlan,
        window: tuple[int, int],
        weights: tuple[int, ...],
    ) -> None:
        """Done, not achieved, left open (overdue by now) or (with a fourth weight) in
        progress with a later due date, recorded on a day in `window` (days ago, after it
        was created)."""
        rng = self.rng
        outcome_kinds = ("done", "not_achieved", "open", "in_progress")[: len(weights)]
        kind = rng.choices(outcome_kinds, weights)[0]
        low, high = window
        high = min(high, action.created_ago - 3)
        low = max(1, min(low, high))
        if kind == "open" or high < 1:
            return
        day = rng.randint(low, high)
        by = self.updater(person, action, day)
        if kind == "done":
            action.updates.append(
                ActionUpdatePlan(day, ActionStatus.DONE, DONE_OUTCOMES[action.pathway], by)
            )
        elif kind == "not_achieved":
            action.updates.append(
                ActionUpdatePlan(
                    day, ActionStatus.NOT_ACHIEVED, rng.choice(NOT_ACHIEVED_OUTCOMES), by
                )
            )
        else:
            action.updates.append(
                ActionUpdatePlan(
                    day, ActionStatus.IN_PROGRESS, "", by, due_ago=-rng.randint(14, 60)
                )
            )

    def housing_action(
        self, person: PersonPlan, referral: ReferralPlan, n: int, at_second: set[int]
    ) -> None:
        rng = self.rng
        if any(
            a.owner_agency == "housing" and a.pathway == "accommodation" and not a.updates
            for a in person.actions
        ):
            return
        owner = "partner.housing" if n % 2 == 0 else None
        if person.index in at_second and referral.opened_ago > SECOND_CONFERENCE_AGO + 14:
            created, by, conference = SECOND_CONFERENCE_AGO, "manager", SECOND
            due = -rng.randint(10, 45)
        else:
            latest = min(referral.opened_ago - 1, first_since(person) - 7)
            created = max(1, min(latest, rng.randint(5, 25)))
            # The housing agency adds its own, once it has the person (an open referral).
            by = "partner.housing" if n % 3 == 1 else person.key_worker or "manager"
            conference = None
            due = -rng.randint(7, 40) if n != 1 else max(0, min(created - 1, 3))
        person.actions.append(
            ActionPlan(
                "accommodation",
                ACTIONS["accommodation"][n % len(ACTIONS["accommodation"])],
                "housing",
                owner,
                created,
                due,
                by,
                conference=conference,
            )
        )

    def dyo(self, person: PersonPlan) -> None:
        """Deter Young Offenders: the YOT's assessment and one action (003 §7)."""
        rng = self.rng
        since = first_since(person)
        first = min(since - 7, rng.randint(60, 150))
        later = max(1, first - rng.randint(30, 50))
        if first < 2:
            return
        for pathway in ("ete", "families", "attitudes", "drugs_alcohol"):
            level = rng.choices(LEVELS, (10, 30, 40, 20))[0]
            person.needs.append(NeedPlan(pathway, level, first, "yot"))
            if pathway in ("ete", "families"):
                person.needs.append(NeedPlan(pathway, self.step(level), later, "yot"))
        person.actions.append(
            ActionPlan(
                "ete",
                "Attend the college taster course with the YOT education worker",
                "yot",
                "yot",
                later,
                -rng.randint(14, 45),
                "yot",
            )
        )


def plan_casework(
    seed: int, people: list[PersonPlan]
) -> tuple[list[ConferencePlan], list[CoreGroupPlan]]:
    """Add the casework to the planned people (referrals' providers, needs, actions), and
    return the conferences and core-group meetings."""
    work = _Casework(seed, people)
    work.referrals()
    conferences, core_groups = work.conferences()
    work.needs_and_actions(conferences)
    return conferences, core_groups
