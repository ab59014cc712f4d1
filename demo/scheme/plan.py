"""The plan: every demo person and record as plain data, dates as days before today."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from faker import Faker

from offenders.models import (
    ContactKind,
    ContactOutcome,
    CustodyKind,
    DeselectionReason,
    DrugTestResult,
    EventKind,
    ExitRoute,
    IomGrade,
    MappaLevel,
    ScaledApproach,
    Sex,
    Strand,
    Supervision,
)
from selection.models import DecisionKind, ExitOutcome, RiskTool, RoshLevel

from .casework import (
    ActionPlan,
    ConferencePlan,
    CoreGroupPlan,
    NeedPlan,
    ReferralPlan,
    plan_casework,
)
from .premium import PremiumPlan, plan_premium
from .specs import (
    AGE_OF_CRIMINAL_RESPONSIBILITY,
    CATEGORY_WEIGHTS,
    CONTACT_KINDS,
    CONTACT_NOTES,
    DEMO_REF_PREFIX,
    DYOS,
    ENGAGEMENT_THIS_WEEK,
    ETHNICITY_WEIGHTS,
    FORMER_PPOS,
    HISTORY_DAYS,
    IOM_COHORT,
    KEY_WORKERS,
    LOGINS,
    PANEL_EVERY_DAYS,
    POOL_EMERGING,
    POOL_LOG_MEDIAN,
    POOL_MAX_EVENTS,
    POOL_SIZE,
    POSITIVE_SUBSTANCES,
    PPO_COMMUNITY_SUPERVISED,
    PPO_COMMUNITY_UNSUPERVISED,
    PPO_CRASBOS,
    PPO_CUSTODY,
    PPO_REMAND,
    PPO_TOTAL,
    PRISONS,
    RECENT_DAYS,
    RECENT_PANEL_AGO,
    RUN_BEFORE_PANEL_DAYS,
    SCHEME_AREA,
    STREET_KINDS,
    TOP_DECILE_SHARE,
)

# --- the plan: pure Python, dates as days before today ----------------------------------


@dataclass
class CustodyPlan:
    kind: str
    prison: str
    started_ago: int
    sentence_months: int | None
    expected_ago: int | None  # negative: expected in the future
    released_ago: int | None
    supervision_on_release: str = ""

    def holds(self, days_ago: int) -> bool:
        """In custody on that day: from the first day up to, not including, release."""
        released = -1 if self.released_ago is None else self.released_ago
        return self.started_ago >= days_ago > released


@dataclass
class DecisionPlan:
    """One panel decision about a person, on a panel day (`panel_day_*`): a selection
    panel's, or for a Deter Young Offender the YOT's DYO panel's.

    The writer records it through `selection.panel.panel_decide`, which opens and closes
    the person's programme episodes on the panel's date: there are no others. `reason` is
    always recorded: it is required where a decision departs from the latest run's
    ranking, and every selection before the demo's one run departs from it (there is
    none to follow).
    """

    days_ago: int
    kind: str
    reason: str
    deselection_reason: str = ""
    exit_outcome: str = ""
    # Marking a DYO: what the YOT decided on (003 §7.3-7.4).
    asset_score: int | None = None
    scaled_approach: str = ""


@dataclass
class RiskPlan:
    """A risk assessment (selection.services.risk_assessment_record)."""

    days_ago: int
    tool: str
    likelihood: int  # of re-offending, % (OGRS / OASys)
    rosh: str  # risk of serious harm


# Decisions that put a person on a tier (selection.panel MOVES).
OPENING_DECISIONS = (
    DecisionKind.SELECT,
    DecisionKind.STEP_UP,
    DecisionKind.STEP_DOWN,
    DecisionKind.MARK_DYO,
)


def panel_day_on_or_before(days_ago: int) -> int:
    """The panel held on that day or nearest before it, among those before the demo's
    selection run (RECENT_PANEL_AGO is the one panel after it)."""
    k = max(1, math.ceil((days_ago - RECENT_PANEL_AGO) / PANEL_EVERY_DAYS))
    return RECENT_PANEL_AGO + k * PANEL_EVERY_DAYS


def panel_day_on_or_after(days_ago: int) -> int:
    """The panel held on that day or nearest after it, among those before the run (so
    never later than the last of them)."""
    k = max(1, (days_ago - RECENT_PANEL_AGO) // PANEL_EVERY_DAYS)
    return RECENT_PANEL_AGO + k * PANEL_EVERY_DAYS


RUN_AGO = RECENT_PANEL_AGO + RUN_BEFORE_PANEL_DAYS
# Every decision before the run departs from "the latest ranking" (there is none):
# panel.py asks for the reason, and this is the true one.
BEFORE_ANY_RUN = "Selected before PPO Case: there is no selection run to compare with."


@dataclass
class ContactPlan:
    days_ago: int
    hour: int
    minute: int
    kind: str
    outcome: str
    note: str
    worker: str
    agency: str
    # (k, n): the k-th of n moments spread evenly over this week so far, so the
    # caseload's "this week" shows green, amber and red whatever day it is.
    this_week: tuple[int, int] | None = None


@dataclass
class DrugTestPlan:
    days_ago: int
    hour: int
    minute: int
    result: str
    substances: str
    agency: str
    tester: str
    this_week: tuple[int, int] | None = None


@dataclass
class TransferPlan:
    """A PPO arriving from another area's scheme (selection.reviews.transfer_in_record)."""

    from_scheme: str
    from_area: str
    arrived_ago: int
    note: str


# (kind, index into the category list or None, occurred days ago, recorded days ago)
EventPlan = tuple[str, int | None, int, int]


@dataclass
class PersonPlan:
    index: int
    group: str  # "ppo", "former", "iom", "dyo" or "pool"
    situation: str  # for a PPO: "supervised", "unsupervised", "custody" or "remand"
    age: int
    birthday_offset: int
    first_name: str
    last_name: str
    sex: str
    ethnicity: str
    address: str
    phone: str
    pnc_serial: int
    first_arrest_age: int
    aliases: str = ""
    cro_serial: int | None = None
    prison_number: str = ""
    crn: str = ""
    supervision: str = Supervision.NONE
    dip_client: bool = False
    crasbo: bool = False
    mappa_level: int | None = None
    iom_grade: str = ""
    # 000 §2.2: strands are not mutually exclusive.
    strands: tuple[str, ...] = ()
    asset_score: int | None = None
    scaled_approach: str = ""
    key_worker: str | None = None
    police_officer: str | None = None
    event_count: int = 0
    window: tuple[int, int, float] = (1, HISTORY_DAYS, 1.0)  # recent end, far end, recency
    custody: list[CustodyPlan] = field(default_factory=list)
    # Spells on a tier (PPO, IOM, DYO), as the decisions that open and close them, oldest
    # first.
    decisions: list[DecisionPlan] = field(default_factory=list)
    risk_assessments: list[RiskPlan] = field(default_factory=list)
    events: list[EventPlan] = field(default_factory=list)
    contacts: list[ContactPlan] = field(default_factory=list)
    drug_tests: list[DrugTestPlan] = field(default_factory=list)
    referrals: list[ReferralPlan] = field(default_factory=list)
    transfer_in: TransferPlan | None = None
    # The plan across the pathways (demo/scheme/casework.py).
    needs: list[NeedPlan] = field(default_factory=list)
    actions: list[ActionPlan] = field(default_factory=list)

    def local_ref(self, seed: int) -> str:
        return f"{DEMO_REF_PREFIX}{seed}-{self.index:04d}"

    @property
    def oldest_custody_ago(self) -> int:
        return max((c.started_ago for c in self.custody), default=0)

    @property
    def on_tier_since(self) -> int:
        """Days ago the person joined the tier they are on now."""
        joined = [d.days_ago for d in self.decisions if d.kind in OPENING_DECISIONS]
        return min(joined)


@dataclass
class DemoPlan:
    seed: int
    password: str
    staff_names: dict[str, tuple[str, str]]
    people: list[PersonPlan]
    # Case conferences, oldest first (the last one ahead), and core-group meetings.
    conferences: list[ConferencePlan] = field(default_factory=list)
    core_groups: list[CoreGroupPlan] = field(default_factory=list)
    # The premium service's records (demo/scheme/premium.py, issue 10).
    premium: PremiumPlan = field(default_factory=PremiumPlan)


def demo_password(seed: int) -> str:
    """One password for every demo login: 19 characters, the same for the same seed."""
    rng = random.Random(f"demo-password:{seed}")
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(rng.choice(alphabet) for _ in range(4)) for _ in range(4))


def top_decile_share(counts: Iterable[int]) -> float:
    """The share of all events held by the top 10% of people by event count (000 §1.1)."""
    ordered = sorted(counts, reverse=True)
    total = sum(ordered)
    if not total:
        return 0.0
    return sum(ordered[: max(1, len(ordered) // 10)]) / total


class _Planner:
    def __init__(self, seed: int, category_weights: list[float]) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.category_cum_weights = list(_accumulate(category_weights))
        self.category_indexes = list(range(len(category_weights)))
        self.pnc_serials = iter(self.rng.sample(range(10_000, 9_999_999), 4000))
        self.cro_serials = iter(self.rng.sample(range(1_000, 999_999), 4000))
        self.crns = iter(self.rng.sample(range(100_000, 999_999), 4000))
        self.prison_numbers = iter(self.rng.sample(range(26 * 26 * 10_000), 4000))

    # identity ---------------------------------------------------------------------------

    def person(self, index: int, group: str, *, age: int, male_share: float) -> PersonPlan:
        rng, fake = self.rng, self.fake
        sex = Sex.MALE if rng.random() < male_share else Sex.FEMALE
        first = fake.first_name_male() if sex == Sex.MALE else fake.first_name_female()
        last = fake.last_name()
        street = f"{fake.building_number()} {fake.last_name()} {rng.choice(STREET_KINDS)}"
        phone = fake.cellphone_number() if rng.random() < 0.85 else fake.phone_number()
        ethnicity = rng.choices(
            [e for e, _ in ETHNICITY_WEIGHTS], weights=[w for _, w in ETHNICITY_WEIGHTS]
        )[0]
        return PersonPlan(
            index=index,
            group=group,
            situation="",
            age=age,
            birthday_offset=rng.randint(0, 364),
            first_name=first,
            last_name=last,
            sex=sex,
            ethnicity=ethnicity,
            address=f"{street}\n{SCHEME_AREA}\n{fake.postcode()}",
            phone=phone if rng.random() < 0.8 else "",
            pnc_serial=next(self.pnc_serials),
            first_arrest_age=rng.randint(12, min(age, 25)),
        )

    def with_records(self, person: PersonPlan) -> None:
        """The identifiers a person with a custodial history and supervision would have."""
        if person.custody and not person.prison_number:
            number = next(self.prison_numbers)
            letters, digits = divmod(number, 10_000)
            first, second = divmod(letters, 26)
            person.prison_number = f"A{digits:04d}{chr(65 + first)}{chr(65 + second)}"
        if person.custody and person.cro_serial is None:
            person.cro_serial = next(self.cro_serials)
        if not person.crn and (
            person.group in ("ppo", "former", "iom")
            or person.supervision
            in (Supervision.COMMUNITY_ORDER, Supervision.LICENCE, Supervision.SUSPENDED_SENTENCE)
        ):
            person.crn = f"X{next(self.crns):06d}"

    # custody ----------------------------------------------------------------------------

    def prior_custody(
        self, person: PersonPlan, before_ago: int, count: int, *, gap: tuple[int, int] = (160, 700)
    ) -> None:
        """Up to `count` served sentences, each ending before the one after it starts."""
        rng = self.rng
        cursor = before_ago + rng.randint(*gap)
        oldest_allowed = max(0, (person.age - 15) * 365)
        for _ in range(count):
            months = rng.choice((3, 4, 6, 8, 10, 12, 16, 18, 24))
            served = _served_days(months)
            if cursor + served > oldest_allowed:
                break
            person.custody.append(
                CustodyPlan(
                    kind=CustodyKind.SENTENCE,
                    prison=rng.choice(PRISONS),
                    started_ago=cursor + served,
                    sentence_months=months,
                    expected_ago=cursor,
                    released_ago=cursor,
                    supervision_on_release=_release_supervision(months),
                )
            )
            cursor += served + rng.randint(*gap)

    def released(
        self, person: PersonPlan, prison: str, months: int, released_ago: int
    ) -> CustodyPlan:
        episode = CustodyPlan(
            kind=CustodyKind.SENTENCE,
            prison=prison,
            started_ago=released_ago + _served_days(months),
            sentence_months=months,
            expected_ago=released_ago,
            released_ago=released_ago,
            supervision_on_release=_release_supervision(months),
        )
        person.custody.append(episode)
        return episode

    def serving(
        self, person: PersonPlan, prison: str, months: int, *, due_within: int | None = None
    ) -> CustodyPlan:
        """An open sentence with its automatic-release date still ahead."""
        served = _served_days(months)
        if due_within is not None:
            started_ago = max(1, served - self.rng.randint(10, due_within))
        else:
            started_ago = self.rng.randint(min(14, served - 11), max(15, served - 11))
        episode = CustodyPlan(
            kind=CustodyKind.SENTENCE,
            prison=prison,
            started_ago=started_ago,
            sentence_months=months,
            expected_ago=started_ago - served,
            released_ago=None,
            supervision_on_release=_release_supervision(months),
        )
        person.custody.append(episode)
        return episode

    # offending --------------------------------------------------------------------------

    def category(self) -> int:
        return self.rng.choices(self.category_indexes, cum_weights=self.category_cum_weights)[0]

    def index_offence(self, episode: CustodyPlan) -> list[EventPlan]:
        """The arrest, charge and conviction (or remand) that led to a custody episode."""
        rng = self.rng
        category = self.category()
        start = episode.started_ago
        if episode.kind == CustodyKind.REMAND:
            offence = start + rng.randint(0, 2)
            return [
                (EventKind.ARREST, category, offence, start),
                (EventKind.CHARGE, category, offence, start),
            ]
        offence = start + rng.randint(20, 150)
        return [
            (EventKind.ARREST, category, offence, offence - rng.choice((0, 0, 1))),
            (EventKind.CHARGE, category, offence, offence - rng.randint(1, 3)),
            # Sentenced, so convicted, on the day custody began.
            (EventKind.CONVICTION, category, offence, start),
        ]

    def offence_day(self, person: PersonPlan) -> int:
        recent, far, recency = person.window
        for _ in range(40):
            day = recent + int((far - recent) * self.rng.random() ** recency)
            if not any(c.holds(day) for c in person.custody):
                return day
        return person.oldest_custody_ago + self.rng.randint(1, 200)

    def incident(self, day: int) -> list[EventPlan]:
        rng = self.rng
        category = self.category()
        if rng.random() < 0.18:
            known = category if rng.random() < 0.6 else None
            return [(EventKind.INTELLIGENCE, known, day, max(0, day - rng.randint(0, 3)))]
        rows: list[EventPlan] = [
            (EventKind.ARREST, category, day, max(0, day - rng.choice((0, 0, 1))))
        ]
        if rng.random() < 0.68:
            rows.append((EventKind.CHARGE, category, day, max(0, day - rng.randint(0, 2))))
            convicted = day - rng.randint(21, 160)
            if rng.random() < 0.78 and convicted >= 0:
                rows.append((EventKind.CONVICTION, category, day, convicted))
        elif rng.random() < 0.4:
            rows.append((EventKind.CAUTION, category, day, max(0, day - rng.randint(0, 10))))
        return rows

    def offending(self, person: PersonPlan) -> None:
        """Exactly `event_count` events: the custody index offences, then the rest."""
        recent, far, recency = person.window
        far = max(recent + 30, min(far, (person.age - AGE_OF_CRIMINAL_RESPONSIBILITY) * 365))
        person.window = (recent, far, recency)
        rows: list[EventPlan] = []
        for episode in person.custody:
            rows.extend(self.index_offence(episode))
        person.event_count = max(person.event_count, len(rows))
        while len(rows) < person.event_count:
            rows.extend(self.incident(self.offence_day(person)))
        person.events = rows[: person.event_count]


def _accumulate(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _served_days(months: int) -> int:
    # Automatic release at the halfway point of the sentence.
    return max(1, round(months * 30.44 / 2))


def _release_supervision(months: int) -> str:
    # 003 §4.5: sentences under 12 months end with no statutory supervision.
    return Supervision.LICENCE if months >= 12 else Supervision.NONE


def _pool_counts(fixed: list[int], draws: list[float]) -> list[int]:
    """Pool event counts, log-normal, spread so the top decile holds about half (000 §1.1)."""

    def counts(spread: float) -> list[int]:
        return [
            min(POOL_MAX_EVENTS, max(1, round(math.exp(POOL_LOG_MEDIAN + spread * z))))
            for z in draws
        ]

    low, high = 0.1, 3.0
    for _ in range(40):
        middle = (low + high) / 2
        if top_decile_share(fixed + counts(middle)) < TOP_DECILE_SHARE:
            low = middle
        else:
            high = middle
    return counts((low + high) / 2)


def build_plan(seed: int, category_names: list[str], acquisitive: list[bool]) -> DemoPlan:
    """Everything to be created, as plain data: the same arguments give the same plan."""
    weights = [
        CATEGORY_WEIGHTS.get(name, 3.0 if is_acquisitive else 1.0)
        for name, is_acquisitive in zip(category_names, acquisitive, strict=True)
    ]
    planner = _Planner(seed, weights)
    rng = planner.rng
    staff_names = {
        login.username: (planner.fake.first_name(), planner.fake.last_name()) for login in LOGINS
    }
    people: list[PersonPlan] = []
    people.extend(_current_ppos(planner, start=0))
    people.extend(_former_ppos(planner, start=len(people)))
    people.extend(_dyos(planner, start=len(people)))

    # The pool: identities and propensity first, then counts calibrated over everyone.
    pool_start = len(people)
    emerging = set(rng.sample(range(POOL_SIZE), POOL_EMERGING))
    youths = set(rng.sample(sorted(set(range(POOL_SIZE)) - emerging), 40))
    pool: list[PersonPlan] = []
    draws: list[float] = []
    for offset in range(POOL_SIZE):
        if offset in youths:
            age = rng.randint(14, 17)
        elif offset in emerging:
            age = rng.randint(18, 29)
        else:
            age = int(rng.triangular(18, 62, 26))
        person = planner.person(pool_start + offset, "pool", age=age, male_share=0.82)
        draws.append(rng.gauss(0.0, 1.0))
        if offset in emerging:
            person.event_count = rng.randint(30, 55)
            person.window = (1, rng.randint(250, 500), 1.3)
        pool.append(person)
    fixed = [p.event_count for p in people] + [pool[i].event_count for i in sorted(emerging)]
    ordinary = [i for i in range(POOL_SIZE) if i not in emerging]
    counts = _pool_counts(fixed, [draws[i] for i in ordinary])
    for i, count in zip(ordinary, counts, strict=True):
        person = pool[i]
        person.event_count = count
        first_event = rng.randint(30, HISTORY_DAYS)
        still_active = rng.random() < 0.45
        last_event = 1 if still_active else rng.randint(1, first_event)
        person.window = (last_event, first_event, rng.uniform(0.8, 1.6))
    _pool_custody(planner, pool)
    for person in pool:
        # Those inside or just out keep what their custody episode says.
        if person.supervision == Supervision.NONE and not any(
            c.released_ago is None or c.released_ago < 180 for c in person.custody
        ):
            roll = rng.random()
            if person.age < 18:
                if roll < 0.25:
                    person.supervision = Supervision.YOUTH_ORDER
            elif roll < 0.07:
                person.supervision = Supervision.COMMUNITY_ORDER
            elif roll < 0.10:
                person.supervision = Supervision.SUSPENDED_SENTENCE
        planner.with_records(person)
    people.extend(pool)

    for person in people:
        planner.offending(person)
    _reoffended(people)
    _transferred_in(pool, emerging)
    _recent_work(planner, people)
    _referrals(planner, people)
    # Last, so that adding them left every person and record above as it was.
    people.extend(_iom_cohort(planner, start=len(people)))
    _stepped_up(planner, people)
    _deferred(people, [pool[i] for i in sorted(emerging)])
    _dyo_markings(planner, people)
    _risk_assessments(planner, people, [pool[i] for i in sorted(emerging)])
    # Last again, from its own random numbers: everything above is as it was before.
    conferences, core_groups = plan_casework(seed, people)
    # And again: the premium service after the casework, from random numbers of its own.
    premium = plan_premium(seed, people, conferences)
    return DemoPlan(
        seed=seed,
        password=demo_password(seed),
        staff_names=staff_names,
        people=people,
        conferences=conferences,
        core_groups=core_groups,
        premium=premium,
    )


# Sentences of the current PPOs in custody that fall due for review (003 §6.2(3)): the
# 60-month one is expected out LONG_CUSTODY_RELEASE_IN days from now (over 26 months), so
# more than two years; the 48-month one has no expected release date recorded.
LONG_CUSTODY_MONTHS = 60
LONG_CUSTODY_RELEASE_IN = 800
UNDATED_MONTHS = 48
# The first five of the PPOs in custody are due out within 85 days.
DUE_OUT_SOON = 5


# 003 §5.7: the former PPO de-selected at a two-year review, out on licence, was
# arrested last week (days ago); 003 §6.2(2): a PPO arrived from another area.
REOFFENDED_AGO = 6
TRANSFER_IN = TransferPlan(
    from_scheme="Westbridge PPO scheme",
    from_area="Westbridge",
    arrived_ago=12,
    note=(
        "Moved back to Northfield to live with family; a PPO on the Westbridge scheme, "
        "whose PPO manager sent the case summary."
    ),
)


def _reoffended(people: list[PersonPlan]) -> None:
    """The former PPO de-selected at a two-year review is arrested last week, for the
    kind of offence they were last arrested for: a re-selection review is due (003
    §5.7). No draw from rng, so everyone else's records stay as they were."""
    person = next(
        p
        for p in people
        if p.group == "former"
        and any(d.deselection_reason == DeselectionReason.TWO_YEAR_REVIEW for d in p.decisions)
    )
    category = next(
        (c for kind, c, _, _ in person.events if kind == EventKind.ARREST and c is not None), None
    )
    person.events.append((EventKind.ARREST, category, REOFFENDED_AGO, REOFFENDED_AGO))


def _transferred_in(pool: list[PersonPlan], emerging: set[int]) -> None:
    """One adult of the pool, at liberty, arrived from another area's scheme where they
    were a PPO: a selection review is due (003 §6.2(2))."""
    person = next(
        p
        for offset, p in enumerate(pool)
        if offset not in emerging
        and p.age >= 21
        and p.event_count >= 6
        and not any(c.holds(day) for c in p.custody for day in range(TRANSFER_IN.arrived_ago + 1))
    )
    person.transfer_in = TRANSFER_IN


def _current_ppos(planner: _Planner, *, start: int) -> list[PersonPlan]:
    rng = planner.rng
    situations = (
        ["supervised"] * PPO_COMMUNITY_SUPERVISED
        + ["unsupervised"] * PPO_COMMUNITY_UNSUPERVISED
        + ["custody"] * PPO_CUSTODY
        + ["remand"] * PPO_REMAND
    )
    rng.shuffle(situations)
    crasbos = set(rng.sample(range(PPO_TOTAL), PPO_CRASBOS))
    mappa = dict(
        zip(
            rng.sample(range(PPO_TOTAL), 3),
            (MappaLevel.LEVEL_1, MappaLevel.LEVEL_1, MappaLevel.LEVEL_2),
            strict=True,
        )
    )
    supervised_kinds = [Supervision.LICENCE] * 5 + [Supervision.COMMUNITY_ORDER] * 4
    # Community grades 003 §5.6: red offending, amber unclear, green quiet for six months.
    community_grades = [IomGrade.RED] * 7 + [IomGrade.AMBER] * 6 + [IomGrade.GREEN] * 4
    rng.shuffle(community_grades)
    custody_prisons = ["eastmoor"] * 14 + ["ravensgate"] * 9
    rng.shuffle(custody_prisons)
    # Four long sentences: 003 §6.2(3) de-selection to be considered.
    custody_months = [30, 36, 48, 60] + [
        rng.choice((6, 8, 10, 12, 12, 16, 18, 20, 24)) for _ in range(PPO_CUSTODY - 4)
    ]
    rng.shuffle(custody_months)
    # The 60- and 48-month sentences are not among the five due out soon (below): one is
    # out more than two years from now, the other has no expected release date recorded
    # (both 003 §6.2(3) reviews). Swapping values draws nothing from rng.
    for long_months in (LONG_CUSTODY_MONTHS, UNDATED_MONTHS):
        i = custody_months.index(long_months)
        if i < DUE_OUT_SOON:
            j = next(k for k in range(DUE_OUT_SOON, PPO_CUSTODY) if custody_months[k] < 30)
            custody_months[i], custody_months[j] = custody_months[j], custody_months[i]
    counters = {"supervised": 0, "unsupervised": 0, "custody": 0, "community": 0}

    people = []
    for offset, situation in enumerate(situations):
        person = planner.person(
            start + offset, "ppo", age=int(rng.triangular(19, 45, 27)), male_share=0.9
        )
        person.situation = situation
        person.key_worker = KEY_WORKERS[offset % len(KEY_WORKERS)]
        person.police_officer = "police"
        person.crasbo = offset in crasbos
        person.mappa_level = mappa.get(offset)
        person.dip_client = rng.random() < 0.4
        person.event_count = rng.randint(28, 65)
        if rng.random() < 0.2:
            person.aliases = f"{planner.fake.first_name_male()} {person.last_name}"
        selected_ago = rng.randint(30, 3 * 365)
        person.decisions.append(_selected(person, selected_ago))
        if situation in ("supervised", "unsupervised"):
            grade = community_grades[counters["community"]]
            counters["community"] += 1
            person.iom_grade = grade
            # Known to be offending: caught and convicted, and still offered resettlement.
            person.strands = (
                (Strand.CATCH_CONVICT, Strand.REHABILITATE_RESETTLE)
                if grade == IomGrade.RED
                else (Strand.REHABILITATE_RESETTLE,)
            )
            last_event = {
                IomGrade.RED: rng.randint(1, 20),
                IomGrade.AMBER: rng.randint(30, 120),
                IomGrade.GREEN: rng.randint(190, 260),
            }[grade]
            person.window = (last_event, last_event + rng.randint(600, 1100), 2.0)
        if situation == "supervised":
            n = counters["supervised"]
            counters["supervised"] += 1
            person.supervision = supervised_kinds[n]
            if person.supervision == Supervision.LICENCE:
                # Three released within the last three months, from each prison in turn.
                released_ago = rng.randint(10, 80) if n < 3 else rng.randint(100, 300)
                episode = planner.released(
                    person, PRISONS[n % 2], rng.choice((12, 16, 18, 24, 30)), released_ago
                )
                planner.prior_custody(person, episode.started_ago, rng.randint(0, 2))
            else:
                planner.prior_custody(person, rng.randint(200, 900), rng.randint(0, 2))
        elif situation == "unsupervised":
            n = counters["unsupervised"]
            counters["unsupervised"] += 1
            person.supervision = Supervision.NONE
            if n < 3:
                # 003 §4.5: out of a short sentence with no statutory supervision.
                episode = planner.released(
                    person, PRISONS[(n + 1) % 2], rng.choice((3, 4, 6, 8, 10)), rng.randint(7, 80)
                )
                planner.prior_custody(person, episode.started_ago, rng.randint(0, 2))
            else:
                planner.prior_custody(person, rng.randint(200, 900), rng.randint(0, 2))
        elif situation == "custody":
            n = counters["custody"]
            counters["custody"] += 1
            person.iom_grade = IomGrade.BLUE
            person.strands = (rng.choice((Strand.CATCH_CONVICT, Strand.REHABILITATE_RESETTLE)),)
            months = custody_months[n]
            episode = planner.serving(
                person, custody_prisons[n], months, due_within=85 if n < DUE_OUT_SOON else None
            )
            if months == LONG_CUSTODY_MONTHS:
                # 003 §6.2(3): likely to be in custody more than 2 years from now.
                episode.started_ago = _served_days(months) - LONG_CUSTODY_RELEASE_IN
                episode.expected_ago = -LONG_CUSTODY_RELEASE_IN
            elif months == UNDATED_MONTHS:
                # 002: release dates "may not be readily available"; chased.
                episode.expected_ago = None
            planner.prior_custody(person, episode.started_ago, rng.randint(0, 2))
            person.window = (
                episode.started_ago + 1,
                episode.started_ago + rng.randint(700, 1300),
                1.6,
            )
        else:  # remand
            person.iom_grade = IomGrade.BLUE
            person.strands = (Strand.CATCH_CONVICT,)
            started_ago = rng.randint(10, 45)
            person.custody.append(
                CustodyPlan(
                    kind=CustodyKind.REMAND,
                    prison="eastmoor",
                    started_ago=started_ago,
                    sentence_months=None,
                    expected_ago=None,
                    released_ago=None,
                )
            )
            planner.prior_custody(person, started_ago, rng.randint(1, 2))
            person.window = (started_ago + 1, started_ago + rng.randint(700, 1200), 2.0)
        person.custody.sort(key=lambda c: c.started_ago)
        planner.with_records(person)
        people.append(person)

    # One PPO was on the scheme before: de-selected for a long sentence (the longest of
    # those now on licence), re-selected ahead of release (003 §6.2(3)).
    licensed = [p for p in people if p.supervision == Supervision.LICENCE]
    # Old enough to have been selected, as an adult, before that sentence.
    adults_then = [p for p in licensed if _adult_since(p) > p.custody[0].started_ago + 530]
    again = max(adults_then or licensed, key=lambda p: p.custody[0].sentence_months or 0)
    current = again.decisions[0]
    last_release = again.custody[0]
    current.days_ago = _selection_day(
        again, min(current.days_ago, max(1, (last_release.released_ago or 1) - 5))
    )
    current.reason = (
        "Re-selected three months before release, as planned at de-selection "
        "(003 §6.2(3)); before PPO Case, so there is no selection run to compare with."
    )
    first_selected = _selected(again, last_release.started_ago + rng.randint(200, 500))
    deselected = panel_day_on_or_after(last_release.started_ago - rng.randint(20, 60))
    if first_selected.days_ago > deselected > current.days_ago:
        again.decisions[:0] = [
            first_selected,
            _leaving(deselected, DeselectionReason.LONG_CUSTODY, ExitRoute.NONE),
        ]
    _newcomers(people)
    return people


def _newcomers(ppos: list[PersonPlan]) -> None:
    """Two of the PPOs were selected at the most recent panel, from the run's pool: out
    of, or about to leave, a short sentence with no supervision to follow (003 §4.5)."""

    def priority(p: PersonPlan) -> tuple[bool, int, int]:
        grades: dict[str, int] = {IomGrade.RED: 0, IomGrade.AMBER: 1}
        return (not _short_release(p), grades.get(p.iom_grade, 2), p.index)

    unsupervised = sorted((p for p in ppos if p.situation == "unsupervised"), key=priority)
    for person in unsupervised[:2]:
        # Whether they were out by the panel's day depends on the weekday it moves to.
        reason = (
            "Prolific, and out of (or about to leave) a short sentence with no statutory "
            "supervision to follow (003 §4.5): selected."
            if _short_release(person)
            else "Prolific and offending now, with no statutory supervision: selected."
        )
        person.decisions = [DecisionPlan(RECENT_PANEL_AGO, DecisionKind.SELECT, reason)]


def _short_release(person: PersonPlan) -> CustodyPlan | None:
    """The person's latest sentence, if under 12 months with no supervision after it."""
    latest = person.custody[0] if person.custody else None
    if (
        latest is not None
        and latest.kind == CustodyKind.SENTENCE
        and (latest.sentence_months or 0) < 12
        and latest.supervision_on_release == Supervision.NONE
    ):
        return latest
    return None


def _adult_since(person: PersonPlan) -> int:
    """Days ago the person turned 18, or a few days less (leap days are not counted)."""
    return (person.age - 18) * 365 + person.birthday_offset


def _selection_day(person: PersonPlan, days_ago: int) -> int:
    """The panel on or before that day, or if they were under 18 then, the first after
    their 18th birthday: this scheme takes no under-18s as PPOs (003 §7.6-7.8)."""
    day = panel_day_on_or_before(days_ago)
    return day if day <= _adult_since(person) else panel_day_on_or_after(_adult_since(person))


def _selected(person: PersonPlan, days_ago: int) -> DecisionPlan:
    return DecisionPlan(_selection_day(person, days_ago), DecisionKind.SELECT, BEFORE_ANY_RUN)


# What the panel said when each former PPO left (003 §6.2 (1)-(6)).
LEAVING_REASONS: dict[str, str] = {
    DeselectionReason.STOPPED_OFFENDING: (
        "No arrest or intelligence report for six months (003 §6.2(1)) and engaging with "
        "the resettlement work: stepped down to IOM for continuing support (003 §4.6)."
    ),
    DeselectionReason.MOVED_AREA: (
        "Moved to live with family in another force area; the receiving scheme has been "
        "told (003 §6.2(2))."
    ),
    DeselectionReason.LONG_CUSTODY: (
        "Sentenced to a long term, with release more than two years away; the risk "
        "assessment does not put them among those of greatest risk (003 §6.2(3)). "
        "Re-selection review three months before release."
    ),
    DeselectionReason.TWO_YEAR_REVIEW: (
        "Reviewed after two years on the scheme (003 §6.2(5)): the approach is not "
        "working for them; de-selected to free the place, with enforcement continuing."
    ),
    DeselectionReason.LIST_REVIEW: (
        "Replaced at the quarterly list review (003 §6.2(4)); the remaining offending is "
        "drug-driven, so a managed exit into DIP/CJIT (001 §4.4)."
    ),
    DeselectionReason.HIGH_RISK_OF_HARM: (
        "Latest offending presents a high risk of harm: managed under MAPPA level 2 "
        "instead (003 §6.2(6))."
    ),
}
EXIT_OUTCOMES: dict[str, str] = {
    DeselectionReason.MOVED_AREA: ExitOutcome.MOVED_AWAY,
    DeselectionReason.LONG_CUSTODY: ExitOutcome.CUSTODY,
    DeselectionReason.LIST_REVIEW: ExitOutcome.TREATMENT,
}


def _leaving(days_ago: int, reason: str, route: str) -> DecisionPlan:
    """The decision that ends a PPO's spell: a step down to IOM, a managed exit to
    DIP/CJIT, or a de-selection (selection.panel records the exit route each implies)."""
    if route == ExitRoute.IOM:
        return DecisionPlan(days_ago, DecisionKind.STEP_DOWN, LEAVING_REASONS[reason])
    kind = DecisionKind.EXIT_DIP if route == ExitRoute.DIP_CJIT else DecisionKind.DESELECT
    return DecisionPlan(
        days_ago, kind, LEAVING_REASONS[reason], reason, EXIT_OUTCOMES.get(reason, "")
    )


def _former_ppos(planner: _Planner, *, start: int) -> list[PersonPlan]:
    rng = planner.rng
    exits = [
        (DeselectionReason.STOPPED_OFFENDING, ExitRoute.IOM),
        (DeselectionReason.MOVED_AREA, ExitRoute.TRANSFER),
        (DeselectionReason.LONG_CUSTODY, ExitRoute.NONE),
        (DeselectionReason.TWO_YEAR_REVIEW, ExitRoute.NONE),
        (DeselectionReason.LIST_REVIEW, ExitRoute.DIP_CJIT),
        (DeselectionReason.HIGH_RISK_OF_HARM, ExitRoute.NONE),
    ]
    people = []
    for offset, (reason, route) in enumerate(exits[:FORMER_PPOS]):
        person = planner.person(
            start + offset, "former", age=int(rng.triangular(21, 48, 30)), male_share=0.9
        )
        person.police_officer = "police"
        person.event_count = rng.randint(14, 32)
        selected_ago = rng.randint(900, 1800)
        # On a panel day first: what follows (six months quiet, custody) is counted from it.
        deselected_ago = panel_day_on_or_after(rng.randint(40, 400))
        if reason == DeselectionReason.TWO_YEAR_REVIEW:
            selected_ago = deselected_ago + 2 * 365 + rng.randint(0, 60)
        person.decisions += [
            _selected(person, selected_ago),
            _leaving(deselected_ago, reason, route),
        ]
        person.strands = (Strand.REHABILITATE_RESETTLE,)
        last_event = deselected_ago + rng.randint(0, 200)
        if reason == DeselectionReason.STOPPED_OFFENDING:
            # 003 §6.2(1): six months without an arrest or intelligence before de-selection.
            last_event = deselected_ago + rng.randint(185, 300)
        elif reason == DeselectionReason.LONG_CUSTODY:
            # De-selected with release more than two years off, and now due out within
            # three months: the re-selection review is due (003 §6.2(3)).
            episode = planner.serving(person, "ravensgate", 60)
            gap = rng.randint(20, 60)
            episode.expected_ago = -(20 + gap)
            episode.started_ago = _served_days(60) + episode.expected_ago
            deselected_ago = panel_day_on_or_after(episode.started_ago - gap)
            person.decisions[-1].days_ago = deselected_ago
            person.iom_grade = IomGrade.BLUE
            last_event = episode.started_ago + 1
        elif reason == DeselectionReason.TWO_YEAR_REVIEW:
            # Released from Eastmoor within the last three months: prison staff keep them.
            episode = planner.released(person, "eastmoor", 16, rng.randint(20, 70))
            person.supervision = Supervision.LICENCE
            last_event = episode.started_ago + 1
        elif reason == DeselectionReason.HIGH_RISK_OF_HARM:
            person.mappa_level = MappaLevel.LEVEL_2
        elif route == ExitRoute.DIP_CJIT:
            person.dip_client = True
        if route == ExitRoute.IOM:
            person.iom_grade = IomGrade.GREEN if person.iom_grade == "" else person.iom_grade
        planner.prior_custody(person, person.oldest_custody_ago or last_event, rng.randint(0, 2))
        person.custody.sort(key=lambda c: c.started_ago)
        person.window = (last_event, last_event + rng.randint(700, 1400), 1.4)
        planner.with_records(person)
        people.append(person)
    return people


def _dyos(planner: _Planner, *, start: int) -> list[PersonPlan]:
    rng = planner.rng
    ages = [14, 15, 16, 16, 17, 17][:DYOS]
    people = []
    for offset, age in enumerate(ages):
        person = planner.person(start + offset, "dyo", age=age, male_share=0.85)
        if offset == len(ages) - 1:
            # 003 §7.5: turning 18 within weeks, so the exit strategy is due.
            person.birthday_offset = 365 - rng.randint(20, 50)
        person.strands = (Strand.PREVENT_DETER,)
        person.key_worker = "yot"
        person.police_officer = "police"
        person.iom_grade = rng.choice((IomGrade.AMBER, IomGrade.GREEN, ""))
        if offset % 3 != 2:
            person.asset_score = rng.randint(12, 48)
            person.scaled_approach = rng.choice(
                (ScaledApproach.STANDARD, ScaledApproach.ENHANCED, ScaledApproach.INTENSIVE)
            )
        person.supervision = Supervision.YOUTH_ORDER if offset % 2 else Supervision.NONE
        person.event_count = rng.randint(4, 14)
        person.window = (rng.randint(3, 60), (age - 11) * 365, 1.5)
        marked = panel_day_on_or_before(rng.randint(30, 500))
        person.decisions.append(DecisionPlan(marked, DecisionKind.MARK_DYO, DYO_REASON))
        people.append(person)
    return people


def _pool_custody(planner: _Planner, pool: list[PersonPlan]) -> None:
    """Custody in the pool: some inside now, some just out of short sentences (003 §4.5)."""
    rng = planner.rng
    candidates = [p for p in pool if p.event_count >= 6 and p.age >= 18]
    rng.shuffle(candidates)
    inside, rest = candidates[:18], candidates[18:]
    short_released, rest = rest[:12], rest[12:]
    licence_released, rest = rest[:8], rest[8:]
    remanded, rest = rest[:3], rest[3:]
    older = rest[:70]
    for n, person in enumerate(inside):
        months = rng.choice((4, 6, 8, 10, 12, 18, 24, 30))
        episode = planner.serving(
            person, PRISONS[n % 2], months, due_within=85 if n % 3 == 0 else None
        )
        person.window = (
            episode.started_ago + 1,
            max(person.window[1], episode.started_ago + 200),
            person.window[2],
        )
    for n, person in enumerate(short_released):
        planner.released(
            person, PRISONS[n % 2], rng.choice((2, 3, 4, 6, 8, 10)), rng.randint(5, 85)
        )
    for n, person in enumerate(licence_released):
        planner.released(person, PRISONS[n % 2], rng.choice((12, 16, 18, 24)), rng.randint(5, 180))
        person.supervision = Supervision.LICENCE
    for n, person in enumerate(remanded):
        started_ago = rng.randint(5, 60)
        person.custody.append(
            CustodyPlan(CustodyKind.REMAND, PRISONS[n % 2], started_ago, None, None, None)
        )
        person.window = (
            started_ago + 1,
            max(person.window[1], started_ago + 200),
            person.window[2],
        )
    for person in older:
        planner.prior_custody(person, rng.randint(100, 1500), 1)
    for person in inside + short_released + licence_released + remanded + older:
        if person.custody and (len(person.custody) + 1) * 3 <= person.event_count:
            planner.prior_custody(
                person,
                person.oldest_custody_ago,
                min(1, person.event_count // 3 - len(person.custody)),
            )
        person.custody.sort(key=lambda c: c.started_ago)


def _recent_work(planner: _Planner, people: list[PersonPlan]) -> None:
    """Contacts and drug tests over the last three weeks, so a caseload shows variety."""
    rng = planner.rng
    for person in people:
        if person.group != "ppo":
            continue
        worker = person.key_worker or KEY_WORKERS[0]
        if person.situation in ("supervised", "unsupervised"):
            count = rng.randint(6, 12) if person.situation == "supervised" else rng.randint(2, 6)
            failure_rate = rng.choice((0.03, 0.1, 0.3))
            # Earlier weeks only (7+ days ago never falls in the current week); this
            # week's contacts follow the person's engagement, below.
            for days_ago in sorted(rng.sample(range(7, RECENT_DAYS + 7), count), reverse=True):
                roll = rng.random()
                if roll < failure_rate:
                    outcome = ContactOutcome.FAILED
                elif roll < failure_rate + 0.08:
                    outcome = ContactOutcome.EXCUSED
                else:
                    outcome = ContactOutcome.ATTENDED
                kind = rng.choices([k for k, _ in CONTACT_KINDS], [w for _, w in CONTACT_KINDS])[0]
                person.contacts.append(
                    ContactPlan(
                        days_ago,
                        rng.randint(9, 16),
                        rng.choice((0, 15, 30, 45)),
                        kind,
                        outcome,
                        rng.choice(CONTACT_NOTES[outcome]),
                        worker,
                        "probation",
                    )
                )
            # Premium service this week (001 §3.2b): some meet four contacts, some half,
            # some fall below, so the caseload shows green, amber and red.
            attended_this_week = rng.choice(ENGAGEMENT_THIS_WEEK)
            for k in range(attended_this_week):
                person.contacts.append(
                    ContactPlan(
                        0,
                        0,
                        0,
                        rng.choices([c for c, _ in CONTACT_KINDS], [w for _, w in CONTACT_KINDS])[
                            0
                        ],
                        ContactOutcome.ATTENDED,
                        rng.choice(CONTACT_NOTES[ContactOutcome.ATTENDED]),
                        worker,
                        "probation",
                        this_week=(k, attended_this_week),
                    )
                )
            if person.dip_client:
                tests_this_week = rng.choice((0, 1, 2, 2))
                for k in range(tests_this_week):
                    person.drug_tests.append(
                        DrugTestPlan(
                            0,
                            0,
                            0,
                            DrugTestResult.NEGATIVE,
                            "",
                            "probation",
                            worker,
                            this_week=(k, tests_this_week),
                        )
                    )
                for days_ago in sorted(
                    rng.sample(range(7, RECENT_DAYS + 7), rng.randint(3, 6)), reverse=True
                ):
                    result = rng.choices(
                        [
                            DrugTestResult.NEGATIVE,
                            DrugTestResult.POSITIVE,
                            DrugTestResult.REFUSED,
                            DrugTestResult.INVALID,
                        ],
                        [55, 35, 5, 5],
                    )[0]
                    by_treatment = rng.random() < 0.33
                    person.drug_tests.append(
                        DrugTestPlan(
                            days_ago,
                            rng.randint(9, 16),
                            rng.choice((0, 20, 40)),
                            result,
                            rng.choice(POSITIVE_SUBSTANCES)
                            if result == DrugTestResult.POSITIVE
                            else "",
                            "treatment" if by_treatment else "probation",
                            "partner.treatment" if by_treatment else worker,
                        )
                    )
        elif person.situation == "custody" and rng.random() < 0.4:
            prison = person.custody[0].prison
            person.contacts.append(
                ContactPlan(
                    rng.randint(1, RECENT_DAYS),
                    rng.randint(10, 15),
                    0,
                    ContactKind.PRISON_VISIT,
                    ContactOutcome.ATTENDED,
                    "Prison visit: sentence plan and release address discussed.",
                    worker,
                    "probation",
                )
            )
            expected = person.custody[0].expected_ago
            if expected is not None and expected > -90:
                person.contacts.append(
                    ContactPlan(
                        rng.randint(1, RECENT_DAYS),
                        rng.randint(9, 11),
                        30,
                        ContactKind.OFFICE,
                        ContactOutcome.ATTENDED,
                        "Release planning meeting with the CARAT team.",
                        f"prison.{prison}",
                        prison,
                    )
                )


REFERRAL_REASONS = {
    "drugs_alcohol": "DIP assessment: daily heroin and crack use.",
    "accommodation": "No fixed abode on release; needs a tenancy.",
    "ete": "No qualifications; wants a CSCS card and construction work.",
    "attitudes": "Mentoring to support the thinking-skills work.",
    "families": "Rebuilding contact with his children.",
    "health": "Untreated depression; GP registration needed.",
    "finance": "Rent arrears and benefit sanctions.",
}


def _referrals(planner: _Planner, people: list[PersonPlan]) -> None:
    """Referrals to every partner agency, so each partner login sees someone (casework.py
    later gives each a provider and a status, and adds referrals on the pathways these
    leave out)."""
    rng = planner.rng
    ppos = [p for p in people if p.group == "ppo"]

    def refer(
        person: PersonPlan, agency: str, pathway: str, *, closed_ago: int | None = None
    ) -> None:
        since = person.on_tier_since
        opened_ago = rng.randint(min(7, since), max(7, min(since, 365)))
        if closed_ago is not None:
            closed_ago = min(closed_ago, opened_ago)
        person.referrals.append(
            ReferralPlan(agency, pathway, opened_ago, closed_ago, REFERRAL_REASONS[pathway])
        )

    for person in ppos:
        if person.dip_client:
            refer(person, "treatment", "drugs_alcohol")
    not_dip = [p for p in ppos if not p.dip_client]
    # Closed within three months (partners keep read access), and long ago (they do not).
    refer(not_dip[0], "treatment", "drugs_alcohol", closed_ago=rng.randint(15, 60))
    refer(not_dip[1], "treatment", "drugs_alcohol", closed_ago=rng.randint(200, 300))
    due_out = [
        p
        for p in ppos
        if p.situation == "custody"
        and p.custody[0].expected_ago is not None
        and p.custody[0].expected_ago > -90
    ]
    community = [p for p in ppos if p.situation in ("supervised", "unsupervised")]
    for person in due_out[:3] + rng.sample(community, 3):
        refer(person, "housing", "accommodation")
    for person in rng.sample(community, 5):
        refer(person, "ete", "ete")
    for person in rng.sample(ppos, 5):
        refer(person, "voluntary", rng.choice(("attitudes", "families")))
    for person in rng.sample(ppos, 3):
        refer(person, "health", "health")
    for person in rng.sample(ppos, 3):
        refer(person, "council", rng.choice(("finance", "families")))
    dyo = next(p for p in people if p.group == "dyo")
    dyo.referrals.append(
        ReferralPlan(
            "ete", "ete", rng.randint(10, 90), None, "Excluded from school; college taster course."
        )
    )


# --- selection history: the IOM cohort, a step-up, a deferral, risk assessments ----------

IOM_STEP_DOWN_REASONS = (
    "Responding positively (003 §1.4): in full-time work since the spring and keeping every "
    "appointment; stepped down to IOM to make way for more actively prolific offenders.",
    "Drug tests negative for five months and settled in a tenancy: stepped down to IOM for "
    "continuing support (003 §4.6).",
    "No arrest for seven months and completed the thinking-skills programme: stepped down "
    "to IOM (003 §1.4, Annex A Q2).",
)
# The most recent panel departs from the run's ranking here, and says why.
RECENT_STEP_DOWN_REASON = (
    "The run ranks them within capacity on offending from over six months ago, but there "
    "has been no arrest or intelligence since, and they are in work and engaging: stepped "
    "down to IOM to make way for more actively prolific offenders (003 §1.4, Annex A Q2)."
)
STEP_UP_REASON = (
    "Arrested twice in a month while on IOM (003 §5.7): stepped back up to PPO. Before PPO "
    "Case, so there is no selection run to compare with."
)
DEFER_REASON = (
    "Deferred to next month's panel: the police are to confirm the recent intelligence and "
    "a current address first."
)
IOM_CONTACT_NOTES = (
    "IOM review: still in work; no concerns.",
    "IOM review: tenancy going well; benefits sorted.",
    "IOM check-in: drug worker reports good engagement.",
)


def _iom_cohort(planner: _Planner, *, start: int) -> list[PersonPlan]:
    """Former PPOs stepped down to the IOM tier (003 §4.6), on it today; the last of them
    at the most recent panel, on offending the run still counts."""
    rng = planner.rng
    people = []
    for k in range(IOM_COHORT):
        latest = k == IOM_COHORT - 1
        person = planner.person(
            start + k, "iom", age=int(rng.triangular(21, 45, 29)), male_share=0.88
        )
        person.key_worker = KEY_WORKERS[k % len(KEY_WORKERS)]
        person.police_officer = "police"
        person.strands = (Strand.REHABILITATE_RESETTLE,)
        person.iom_grade = IomGrade.AMBER if k == 1 else IomGrade.GREEN
        person.dip_client = k == 1
        person.supervision = Supervision.COMMUNITY_ORDER if k == 0 else Supervision.NONE
        if latest:
            stepped_down = RECENT_PANEL_AGO
            reason = RECENT_STEP_DOWN_REASON
            # Busy until seven or eight months before the run, then quiet: the run's
            # twelve-month window still holds most of it.
            last_event = RUN_AGO + rng.randint(190, 240)
            person.event_count = rng.randint(38, 48)
            person.window = (last_event, last_event + rng.randint(200, 260), 1.0)
        else:
            stepped_down = panel_day_on_or_before(rng.randint(60 + 120 * k, 180 + 120 * k))
            reason = IOM_STEP_DOWN_REASONS[k % len(IOM_STEP_DOWN_REASONS)]
            # 003 §6.2(1): six months without an arrest or intelligence first.
            last_event = stepped_down + rng.randint(185, 280)
            person.event_count = rng.randint(20, 36)
            person.window = (last_event, last_event + rng.randint(400, 800), 1.4)
        person.decisions = [
            _selected(person, stepped_down + rng.randint(365, 900)),
            DecisionPlan(stepped_down, DecisionKind.STEP_DOWN, reason),
        ]
        planner.prior_custody(person, last_event, rng.randint(0, 2))
        person.custody.sort(key=lambda c: c.started_ago)
        planner.with_records(person)
        planner.offending(person)
        if k != 2:
            # The IOM contact level: a fortnightly appointment and a police home visit.
            worker = person.key_worker
            for days_ago in (rng.randint(2, 6), rng.randint(15, 20)):
                person.contacts.append(
                    ContactPlan(
                        days_ago,
                        rng.randint(9, 16),
                        rng.choice((0, 30)),
                        ContactKind.OFFICE,
                        ContactOutcome.ATTENDED,
                        rng.choice(IOM_CONTACT_NOTES),
                        worker,
                        "probation",
                    )
                )
            person.contacts.append(
                ContactPlan(
                    rng.randint(8, 13),
                    rng.randint(10, 18),
                    0,
                    ContactKind.HOME_VISIT,
                    ContactOutcome.ATTENDED,
                    "IOM home visit with the police: settled, no concerns.",
                    "police",
                    "police",
                )
            )
        people.append(person)
    return people


def _stepped_up(planner: _Planner, people: list[PersonPlan]) -> None:
    """One PPO was stepped down to IOM before, then stepped back up on re-offending."""
    rng = planner.rng
    candidates = [
        p
        for p in people
        if p.group == "ppo"
        and p.situation == "supervised"
        and len(p.decisions) == 1
        and p.decisions[0].days_ago > RECENT_PANEL_AGO
    ]
    candidates.sort(key=lambda p: (p.iom_grade != IomGrade.RED, p.index))
    on_iom, before = rng.randint(120, 300), rng.randint(300, 700)
    for person in candidates:
        current = person.decisions[0]
        stepped_down = panel_day_on_or_before(current.days_ago + on_iom)
        first = _selected(person, stepped_down + before)
        if first.days_ago > stepped_down:
            person.decisions = [
                first,
                DecisionPlan(stepped_down, DecisionKind.STEP_DOWN, IOM_STEP_DOWN_REASONS[2]),
                DecisionPlan(current.days_ago, DecisionKind.STEP_UP, STEP_UP_REASON),
            ]
            return


def _deferred(people: list[PersonPlan], emerging: list[PersonPlan]) -> None:
    """The most recent panel defers one of the pool's emerging offenders."""
    # In the community from the run to the panel, whichever weekday that moves to.
    days = range(RECENT_PANEL_AGO - 6, RUN_AGO + 1)
    free = [p for p in emerging if not any(c.holds(day) for c in p.custody for day in days)]
    if free:
        free[0].decisions.append(DecisionPlan(RECENT_PANEL_AGO, DecisionKind.DEFER, DEFER_REASON))


def _rosh(rng: random.Random, person: PersonPlan) -> str:
    if person.mappa_level is not None:
        return RoshLevel.HIGH
    return rng.choices([RoshLevel.LOW, RoshLevel.MEDIUM, RoshLevel.HIGH], [20, 65, 15])[0]


def _risk_assessments(
    planner: _Planner, people: list[PersonPlan], emerging: list[PersonPlan]
) -> None:
    """OASys assessments by probation: one before each selection, one before each step
    down or de-selection (003 §6.2(3) asks for one before a long-custody de-selection),
    reviews for some long-standing PPOs; OGRS for some of the pool's emerging offenders."""
    rng = planner.rng
    long_custody = [
        p
        for p in people
        if p.group == "ppo"
        and p.situation == "custody"
        and (p.custody[0].sentence_months or 0) >= 30
    ]
    # One long-custody PPO, the one out last, has a current assessment, so the panel may
    # consider de-selecting them (003 §6.2(3)); for the others it has yet to be done.
    reassessed = min(long_custody, key=lambda p: p.custody[0].expected_ago or 0, default=None)
    awaiting = {p.index for p in long_custody if p is not reassessed}
    for person in people:
        if not person.decisions or person.group == "pool":
            continue
        first = person.decisions[0].days_ago + rng.randint(7, 40)
        likelihood = rng.randint(62, 94)
        rosh = _rosh(rng, person)
        if person.index not in awaiting or first > 365:
            person.risk_assessments.append(RiskPlan(first, RiskTool.OASYS, likelihood, rosh))
        for decision in person.decisions[1:]:
            if decision.kind == DecisionKind.STEP_DOWN:
                review = RiskPlan(
                    decision.days_ago + rng.randint(7, 19),
                    RiskTool.OASYS,
                    rng.randint(35, 58),
                    rng.choice((RoshLevel.LOW, RoshLevel.MEDIUM)),
                )
            elif decision.kind in (DecisionKind.DESELECT, DecisionKind.EXIT_DIP):
                high = decision.deselection_reason == DeselectionReason.HIGH_RISK_OF_HARM
                review = RiskPlan(
                    decision.days_ago + rng.randint(7, 19),
                    RiskTool.OASYS,
                    max(30, min(98, likelihood + rng.randint(-10, 4))),
                    RoshLevel.VERY_HIGH if high else rosh,
                )
            else:
                continue
            person.risk_assessments.append(review)
        if person is reassessed:
            started = person.custody[0].started_ago
            person.risk_assessments.append(
                RiskPlan(
                    max(1, min(started - 7, rng.randint(30, 300))),
                    RiskTool.OASYS,
                    max(30, likelihood - rng.randint(0, 8)),
                    rosh,
                )
            )
        elif person.group == "ppo" and person.index not in awaiting and first > 400:
            if rng.random() < 0.6:
                person.risk_assessments.append(
                    RiskPlan(
                        rng.randint(20, 330),
                        RiskTool.OASYS,
                        max(30, min(98, likelihood + rng.randint(-12, 6))),
                        rosh,
                    )
                )
        person.risk_assessments.sort(key=lambda r: -r.days_ago)
    for person in emerging[:6]:
        person.risk_assessments.append(
            RiskPlan(
                RUN_AGO + rng.randint(7, 150),
                RiskTool.OGRS,
                rng.randint(68, 92),
                RoshLevel.MEDIUM,
            )
        )


DYO_REASON = (
    "The YOT's assessment: at high risk of becoming a prolific offender, so a Deter Young "
    "Offender (003 §7.2-7.3)."
)
DYO_NOT_INTENSIVE_REASON = (
    "Below the intensive level for now: the family support work is starting and school "
    "attendance has improved; the YOT reviews the level at the next DYO panel (003 §7.3)."
)


def _dyo_markings(planner: _Planner, people: list[PersonPlan]) -> None:
    """What each DYO was marked on: their Asset score and Scaled Approach level, the ones
    on their record (003 §7.3-7.4). The YOT assessed those who had none yet."""
    rng = planner.rng
    for person in people:
        for decision in person.decisions:
            if decision.kind != DecisionKind.MARK_DYO:
                continue
            if person.asset_score is None or not person.scaled_approach:
                person.asset_score = rng.randint(20, 48)
                person.scaled_approach = rng.choice(
                    (ScaledApproach.ENHANCED, ScaledApproach.INTENSIVE, ScaledApproach.INTENSIVE)
                )
            decision.asset_score = person.asset_score
            decision.scaled_approach = person.scaled_approach
            if person.scaled_approach != ScaledApproach.INTENSIVE:
                decision.reason = DYO_NOT_INTENSIVE_REASON
