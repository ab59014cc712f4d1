"""The plan's premium service (issue 10; 001 §3.2b–e, 002, 004 §4.2): per-person contact
levels, enforcement cases for the failures to attend, treatment referrals on a clock,
release plans for the two PPOs due out soonest, and reception needs assessments.

Pure Python, like the rest of the plan: dates as days before today, and (for the clocks)
steps as working days after the day the clock started, which the writer turns into dates
with the scheme's bank holidays (offenders.working_days). It draws from its own
`random.Random`, after everything else is planned, so the people and records planned
before it, the casework included, are exactly what they were before it existed.

* **Levels** (001 §3.2b): the conferences already set a level for everyone they review
  (demo/scheme/casework.py `review`: four a week, three for the quiet, five for the
  red-graded without supervision). Between conferences a key worker raises one red-graded
  PPO who keeps missing appointments to five a week, and lowers one quiet (green) PPO to
  three contacts and one test.
* **Enforcement** (001 §3.2e): every failure to attend by someone on a licence or an
  order opens a case, as `contact_log` does; each case gets a part to play. Exactly one is
  left overdue: the latest failure at least OVERDUE_AFTER_DAYS ago (two weeks always hold
  more than the standard's 5 working days, Christmas and New Year included), with a
  warning but no recall or breach. Orders are breached on time (one proven at court, one
  awaiting the hearing), once late, or closed with a warning only or the absence found
  acceptable; licences, whose recall would put the person back in custody, are closed
  with a warning only or the absence found acceptable. The writer records only what is
  dated up to today, and leaves a failure whose standard still runs today open as the
  standard allows (a warning at most).
* **Treatment** (001 §3.2c–d): referrals to the treatment agency's providers accepted by
  it are assessed and first seen within the standards (5 and 10 working days), late, or
  assessed on time and first seen late; a recent one still waits for its assessment.
* **Release** (004 §4.2): of the PPOs serving sentences, exactly two are due out within
  the scheme's six weeks: the soonest has a complete release plan, the next an
  incomplete one. If more are due, the prison puts the others' release dates back
  (added days); if fewer, it brings the next ones forward (remand time credited): through
  `custody_release_date_set`, which tells the key worker and police (alerts).
* **Reception** (002): the two PPOs received into custody most recently (three days ago
  or more) have their needs assessed by the prison: the first within the 24 hours, the
  second late.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from offenders.models import ContactOutcome, CustodyKind, IomGrade, Supervision
from offenders.premium_models import EnforcementOutcome
from pathways.models import ReferralStatus

if TYPE_CHECKING:
    from .casework import ConferencePlan
    from .plan import PersonPlan

# 001 §3.2e: the supervision a failure to attend is enforced on (offenders.enforcement
# ENFORCING_STEP: a licence by recall, an order by a breach laid).
LICENCE = Supervision.LICENCE
ORDERS = (Supervision.COMMUNITY_ORDER, Supervision.SUSPENDED_SENTENCE, Supervision.YOUTH_ORDER)
# A failure this many days ago is past a 5-working-day standard whatever the weekday and
# whichever bank holidays fall in between (14 days hold at least 6 working days).
OVERDUE_AFTER_DAYS = 14

# The parts an enforcement case plays.
ENFORCED = "enforced"  # breach laid within the standard, proven at court
ENFORCED_OPEN = "enforced_open"  # breach laid within the standard, awaiting the hearing
LATE = "late"  # breach laid after the standard, awaiting the hearing
WARNING_ONLY = "warning_only"
ACCEPTABLE = "acceptable"
OVERDUE = "overdue"  # a warning, no breach or recall, past the standard
ORDER_ROLES = (ENFORCED, LATE, WARNING_ONLY, ENFORCED_OPEN, ACCEPTABLE)
LICENCE_ROLES = (WARNING_ONLY, ACCEPTABLE)

WARNING_NOTE = "Warning letter sent: a further unacceptable absence will be enforced."
BREACH_NOTE = "Breach laid at Northfield Magistrates' Court; hearing listed."
LATE_BREACH_NOTE = "Breach laid late: the key worker was on leave and the case was not passed on."
BREACH_PROVEN_NOTE = "Breach proven; the order continues with an added curfew requirement."
WARNING_ONLY_NOTE = "Attended the next two appointments; the warning stands."
ACCEPTABLE_NOTES = (
    "Hospital appointment that morning; the appointment letter was seen.",
    "Rang in ill before the appointment; GP's fit note seen.",
    "The appointment letter went to an old address; absence accepted.",
)
OVERDUE_WARNING_NOTE = "Warning given by phone; recall to be considered with the manager."

# The levels set between conferences (001 §3.2b).
RAISED_CONTACTS = 5
QUIET_CONTACTS, QUIET_TESTS = 3, 1
RAISED_REASON = (
    "Raised to five contacts a week after missed appointments this month, red on the IOM "
    "grid; to be reviewed at the next case conference (001 §3.2b)."
)
QUIET_REASON = (
    "Keeping every appointment and testing negative: three contacts and one drug test a "
    "week until the next case conference (001 §3.2b)."
)

# Treatment referrals' parts (working days after the referral: assessed, first seen).
ON_STANDARD = "on_standard"
LATE_TREATMENT = "late"
FIRST_LATE = "first_late"
WAITING = "waiting"
TREATMENT_ROLES = (ON_STANDARD, LATE_TREATMENT, ON_STANDARD, FIRST_LATE, WAITING)
# Only a recent referral waits for its assessment; an older one was seen, late.
WAITING_AT_MOST_DAYS = 30

# The scheme's default "due out within N weeks" (Scheme.release_plan_weeks), less a day
# at each end so the two stay inside it on the seeding day.
RELEASE_WINDOW_DAYS = 6 * 7 - 1
PUT_BACK_DAYS = 14
RELEASE_PLANS = 2
RECEPTION_AT_LEAST_DAYS_AGO = 3
RECEPTION_NEEDS = (
    "Heroin and crack use before reception; on a methadone script from the CARAT team. "
    "No release address. Wants to go on the education course.",
    "Drinking daily before reception; alcohol withdrawal monitored. Tenancy at risk "
    "through rent arrears. No contact with their children.",
)


@dataclass
class LevelPlan:
    """A person's own level set by their key worker between conferences
    (offenders.contact_levels.contact_level_set), from the Monday on or before
    `starts_ago`."""

    person: int  # PersonPlan.index
    contacts: int
    drug_tests: int
    starts_ago: int
    by: str
    reason: str


@dataclass
class EnforcementPlan:
    """The case a failure to attend opens (offenders.enforcement.enforcement_open, as the
    worker who logged it), its steps and outcome, in working days after the failure."""

    person: int
    failed_ago: int  # the failed contact (ContactPlan.days_ago, hour, minute)
    hour: int
    minute: int
    logged_by: str
    role: str
    warning_after: int | None = None
    warning_note: str = ""
    enforced_after: int | None = None
    enforced_note: str = ""
    closed_after: int | None = None
    outcome: str = ""
    outcome_note: str = ""


@dataclass
class ReleaseDatePlan:
    """The prison moves an expected release date (custody_release_date_set)."""

    person: int
    expected_ago: int  # the new date, days ago (negative: ahead)
    why: str


@dataclass
class ReleasePlanPlan:
    """A release plan for the current custody (custody_release.release_plan_save): the
    prison starts it with the treatment part, the key worker adds the rest; an
    incomplete one leaves the accommodation and the first appointment for later."""

    person: int
    complete: bool
    accommodation: str
    treatment: str
    supervision: str
    first_appointment_with: str


@dataclass
class ReceptionPlan:
    """The needs assessment on reception (reception_assessment_record), `hours` after the
    start of the day the custody began (the reception, as the prison did not record it)."""

    person: int
    hours: int
    needs: str


@dataclass
class PremiumPlan:
    levels: list[LevelPlan] = field(default_factory=list)
    enforcement: list[EnforcementPlan] = field(default_factory=list)
    release_dates: list[ReleaseDatePlan] = field(default_factory=list)
    release_plans: list[ReleasePlanPlan] = field(default_factory=list)
    receptions: list[ReceptionPlan] = field(default_factory=list)


def _in_community(person: PersonPlan) -> bool:
    return person.situation in ("supervised", "unsupervised")


def _failures(person: PersonPlan) -> list[tuple[int, int, int, str]]:
    return [
        (c.days_ago, c.hour, c.minute, c.worker)
        for c in person.contacts
        if c.outcome == ContactOutcome.FAILED and c.this_week is None
    ]


class _Premium:
    def __init__(self, seed: int, people: list[PersonPlan], conferences: list[ConferencePlan]):
        self.rng = random.Random(f"demo-premium:{seed}")
        self.people = people
        self.ppos = [p for p in people if p.group == "ppo"]
        self.conferences = conferences
        self.plan = PremiumPlan()

    # levels -----------------------------------------------------------------------------

    def levels(self) -> None:
        community = [p for p in self.ppos if _in_community(p) and p.key_worker]
        if not community:
            return
        red = [p for p in community if p.iom_grade == IomGrade.RED] or community
        raised = max(red, key=lambda p: (len(_failures(p)), -p.index))
        self.plan.levels.append(
            LevelPlan(
                raised.index,
                RAISED_CONTACTS,
                3 if raised.dip_client else 2,
                self.rng.randint(8, 11),
                raised.key_worker or "manager",
                RAISED_REASON,
            )
        )
        # The quiet one: green, and preferably not given a level at the last conference.
        at_last = {r.person for r in (self.conferences[1].reviews if self.conferences else [])}
        quiet = [p for p in community if p is not raised and not _failures(p)]
        green = [p for p in quiet if p.iom_grade == IomGrade.GREEN] or quiet
        if not green:
            return
        chosen = min(green, key=lambda p: (p.index in at_last, p.index))
        self.plan.levels.append(
            LevelPlan(
                chosen.index,
                QUIET_CONTACTS,
                QUIET_TESTS,
                self.rng.randint(12, 16),
                chosen.key_worker or "manager",
                QUIET_REASON,
            )
        )

    # enforcement ------------------------------------------------------------------------

    def enforcement(self) -> None:
        failures = sorted(
            (
                (days_ago, person.index, hour, minute, worker, person)
                for person in self.people
                if person.supervision == LICENCE or person.supervision in ORDERS
                for days_ago, hour, minute, worker in _failures(person)
            ),
            key=lambda f: (-f[0], f[1]),
        )
        if not failures:
            return
        old_enough = [f for f in failures if f[0] >= OVERDUE_AFTER_DAYS]
        overdue = old_enough[-1] if old_enough else failures[0]
        turns = {"licence": 0, "order": 0}
        for failure in failures:
            days_ago, index, hour, minute, worker, person = failure
            case = EnforcementPlan(index, days_ago, hour, minute, worker, "")
            if failure is overdue:
                case.role = OVERDUE
            else:
                kind = "licence" if person.supervision == LICENCE else "order"
                roles = LICENCE_ROLES if kind == "licence" else ORDER_ROLES
                case.role = roles[turns[kind] % len(roles)]
                turns[kind] += 1
            self.steps(case)
            self.plan.enforcement.append(case)

    def steps(self, case: EnforcementPlan) -> None:
        rng = self.rng
        role = case.role
        if role in (ENFORCED, ENFORCED_OPEN):
            case.warning_after = rng.choice((None, 1))
            case.enforced_after = rng.randint((case.warning_after or 0) + 1, 5)
            case.enforced_note = BREACH_NOTE
            if role == ENFORCED:
                case.closed_after = case.enforced_after + rng.randint(4, 8)
                case.outcome = EnforcementOutcome.BREACH_PROVEN
                case.outcome_note = BREACH_PROVEN_NOTE
        elif role == LATE:
            case.warning_after = rng.randint(1, 2)
            case.enforced_after = rng.randint(6, 8)
            case.enforced_note = LATE_BREACH_NOTE
        elif role == WARNING_ONLY:
            case.warning_after = rng.randint(1, 2)
            case.closed_after = case.warning_after + rng.randint(3, 6)
            case.outcome = EnforcementOutcome.WARNING_ONLY
            case.outcome_note = WARNING_ONLY_NOTE
        elif role == ACCEPTABLE:
            case.closed_after = rng.randint(1, 3)
            case.outcome = EnforcementOutcome.ACCEPTABLE_ABSENCE
            case.outcome_note = rng.choice(ACCEPTABLE_NOTES)
        elif role == OVERDUE:
            case.warning_after = rng.randint(1, 2)
            case.warning_note = OVERDUE_WARNING_NOTE
        if case.warning_after is not None and not case.warning_note:
            case.warning_note = WARNING_NOTE

    # treatment --------------------------------------------------------------------------

    def treatment(self) -> None:
        rng = self.rng
        referrals = sorted(
            (
                (r.opened_ago, person.index, n, r)
                for person in self.people
                for n, r in enumerate(person.referrals)
                if r.agency == "treatment"
                and r.status not in (ReferralStatus.MADE, ReferralStatus.DECLINED)
            ),
            key=lambda x: (-x[0], x[1], x[2]),
        )
        for turn, (opened_ago, _, _, referral) in enumerate(referrals):
            role = TREATMENT_ROLES[turn % len(TREATMENT_ROLES)]
            if role == WAITING and opened_ago > WAITING_AT_MOST_DAYS:
                role = LATE_TREATMENT
            if role == ON_STANDARD:
                referral.assessed_after = rng.randint(1, 4)
                referral.first_seen_after = rng.randint(referral.assessed_after + 1, 10)
            elif role == LATE_TREATMENT:
                referral.assessed_after = rng.randint(7, 12)
                referral.first_seen_after = referral.assessed_after + rng.randint(2, 6)
            elif role == FIRST_LATE:
                referral.assessed_after = rng.randint(2, 5)
                referral.first_seen_after = rng.randint(12, 18)

    # release and reception --------------------------------------------------------------

    def release(self) -> None:
        rng = self.rng
        serving = [
            (p.custody[0].expected_ago, p.index, p)
            for p in self.ppos
            if p.situation == "custody"
            and p.custody
            and p.custody[0].kind == CustodyKind.SENTENCE
            and p.custody[0].released_ago is None
            and p.custody[0].expected_ago is not None
            and p.custody[0].expected_ago <= -1
        ]
        # Soonest first (the least negative days ago).
        serving.sort(key=lambda s: (-s[0], s[1]))
        due = [s for s in serving if s[0] >= -RELEASE_WINDOW_DAYS]
        later = [s for s in serving if s[0] < -RELEASE_WINDOW_DAYS]
        for expected_ago, _, person in due[RELEASE_PLANS:]:
            moved = min(expected_ago - PUT_BACK_DAYS, -(RELEASE_WINDOW_DAYS + PUT_BACK_DAYS))
            self.plan.release_dates.append(
                ReleaseDatePlan(person.index, moved, "days added for a proven adjudication")
            )
        chosen = [(e, p) for e, _, p in due[:RELEASE_PLANS]]
        for _, _, person in later[: RELEASE_PLANS - len(chosen)]:
            moved = -rng.randint(20, 35)
            self.plan.release_dates.append(
                ReleaseDatePlan(person.index, moved, "remand time credited")
            )
            chosen.append((moved, person))
        chosen.sort(key=lambda c: -c[0])
        for n, (_, person) in enumerate(chosen):
            episode = person.custody[0]
            on_licence = episode.supervision_on_release == Supervision.LICENCE
            self.plan.release_plans.append(
                ReleasePlanPlan(
                    person.index,
                    complete=n == 0,
                    accommodation=(
                        "Ashdown House supported housing: a room from the day of release, "
                        "signed up for at a prison visit."
                        if n == 0
                        else ""
                    ),
                    treatment=(
                        "DIP assessment at The Bridge Centre on the day of release; the "
                        "prison's script continues."
                        if person.dip_client
                        else "Alcohol Recovery Service group from the week of release."
                    ),
                    supervision=(
                        "Licence supervision by the key worker: weekly reporting at the "
                        "probation office."
                        if on_licence
                        else "No statutory supervision: PPO contact four times a week with "
                        "the key worker, agreed with them before release (001 §3.2b)."
                    ),
                    first_appointment_with="The key worker at Northfield probation office"
                    if n == 0
                    else "",
                )
            )

    def receptions(self) -> None:
        rng = self.rng
        received = sorted(
            (
                (p.custody[0].started_ago, p.index, p)
                for p in self.ppos
                if p.situation in ("custody", "remand")
                and p.custody
                and p.custody[0].released_ago is None
                and p.custody[0].started_ago >= RECEPTION_AT_LEAST_DAYS_AGO
            ),
            key=lambda r: (r[0], r[1]),
        )
        for n, (_, _, person) in enumerate(received[:2]):
            hours = rng.randint(11, 20) if n == 0 else rng.randint(40, 60)
            self.plan.receptions.append(ReceptionPlan(person.index, hours, RECEPTION_NEEDS[n]))


def plan_premium(
    seed: int, people: list[PersonPlan], conferences: list[ConferencePlan]
) -> PremiumPlan:
    """The premium service's records of the planned people (the treatment clocks are set
    on their referrals)."""
    work = _Premium(seed, people, conferences)
    work.levels()
    work.enforcement()
    work.treatment()
    work.release()
    work.receptions()
    return work.plan
