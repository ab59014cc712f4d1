"""A deterministic, entirely synthetic demo scheme: `manage.py seed_demo [--seed N]`.

Shaped like the Stockton scheme of 001 §5.4–5.5: 41 current PPOs, of whom 9 are in the
community on a community order or licence, 8 in the community with no statutory supervision,
23 in custody serving sentences and 1 remanded; 7 of the 41 hold CRASBOs. Around them: former
PPOs, Deter Young Offenders, referrals to the partner agencies, and a pool of about 1,500 other
known offenders whose offending follows 000 §1.1 ("approximately 10% of the active offender
population are responsible for 50% of all crime").

Every person, name, address and number is invented (Faker en_GB; its phone numbers are Ofcom's
drama ranges). The same seed gives the same people: one `random.Random` and one Faker instance,
both seeded, are consumed in a fixed order, and every date is an offset from today.

Running it again is a no-op: agencies, logins and the scheme are found by name; demo people by
their local reference (DEMO-<seed>-<n>), and a person who already exists keeps their records.
Seeding is not anyone consulting a record, so nothing here writes to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from faker import Faker

from access.models import Agency, AgencyKind, Membership, Role, Scheme
from pathways.models import Pathway, Referral

from . import identifiers
from .models import (
    Contact,
    ContactKind,
    ContactOutcome,
    CustodyEpisode,
    CustodyKind,
    DeselectionReason,
    DrugTest,
    DrugTestResult,
    Ethnicity,
    EventKind,
    ExitRoute,
    IomGrade,
    MappaLevel,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
    ScaledApproach,
    Sex,
    Status,
    Strand,
    Supervision,
    years_before,
)

DEMO_REF_PREFIX = "DEMO-"
DEMO_EMAIL_DOMAIN = "demo.invalid"
SCHEME_NAME = "Northfield PPO scheme"
SCHEME_AREA = "Northfield"

# 001 §5.4: the Stockton scheme's 41 PPOs as of November 2007.
PPO_COMMUNITY_SUPERVISED = 9
PPO_COMMUNITY_UNSUPERVISED = 8
PPO_CUSTODY = 23
PPO_REMAND = 1
PPO_TOTAL = PPO_COMMUNITY_SUPERVISED + PPO_COMMUNITY_UNSUPERVISED + PPO_CUSTODY + PPO_REMAND
# 001 §5.5: 7 of the 41 subject to CRASBOs.
PPO_CRASBOS = 7
FORMER_PPOS = 6
DYOS = 6
POOL_SIZE = 1500
# Pool members with heavy *recent* offending, so a selection run has people who
# out-score some current PPOs.
POOL_EMERGING = 10
# 000 §1.1: the top 10% of known offenders account for about half of all offending.
TOP_DECILE_SHARE = 0.5

HISTORY_DAYS = 6 * 365
POOL_LOG_MEDIAN = 0.9  # a typical pool member has two or three recorded events
POOL_MAX_EVENTS = 80
RECENT_DAYS = 21  # contacts and drug tests, "the last three weeks"
# Attended contacts this week against the target of 4: met, half or more, below half.
ENGAGEMENT_THIS_WEEK = (5, 4, 4, 4, 3, 2, 2, 1, 0)

AGE_OF_CRIMINAL_RESPONSIBILITY = 10


@dataclass(frozen=True)
class AgencySpec:
    key: str
    name: str
    kind: str
    pathways: tuple[str, ...] = ()


AGENCIES = [
    AgencySpec("police", "Northfield Police Offender Management Unit", AgencyKind.POLICE),
    AgencySpec("probation", "Northfield Probation Delivery Unit", AgencyKind.PROBATION),
    AgencySpec("eastmoor", "HMP Eastmoor", AgencyKind.PRISON),
    AgencySpec("ravensgate", "HMP Ravensgate", AgencyKind.PRISON),
    AgencySpec("yot", "Northfield Youth Offending Team", AgencyKind.YOT),
    AgencySpec(
        "council",
        "Northfield Borough Council Community Safety Team",
        AgencyKind.LOCAL_AUTHORITY,
        ("finance", "families"),
    ),
    AgencySpec(
        "housing", "Northfield Homes Housing Options", AgencyKind.HOUSING, ("accommodation",)
    ),
    AgencySpec(
        "treatment",
        "Northfield CJIT Drug and Alcohol Service",
        AgencyKind.TREATMENT,
        ("drugs_alcohol",),
    ),
    AgencySpec("ete", "Northfield Skills and Employment Hub", AgencyKind.ETE, ("ete",)),
    AgencySpec(
        "voluntary", "Northfield Mentoring Trust", AgencyKind.VOLUNTARY, ("attitudes", "families")
    ),
    AgencySpec("health", "Northfield Community Health Service", AgencyKind.HEALTH, ("health",)),
]
PRISONS = ("eastmoor", "ravensgate")


@dataclass(frozen=True)
class LoginSpec:
    username: str
    role: str
    agency: str
    is_staff: bool = False


KEY_WORKERS = ("keyworker1", "keyworker2", "keyworker3")
LOGINS = [
    LoginSpec("manager", Role.PPO_MANAGER, "probation", is_staff=True),
    *(LoginSpec(name, Role.KEY_WORKER, "probation") for name in KEY_WORKERS),
    LoginSpec("police", Role.POLICE_OFFICER, "police"),
    *(LoginSpec(f"prison.{key}", Role.PRISON_WORKER, key) for key in PRISONS),
    LoginSpec("yot", Role.YOT_WORKER, "yot"),
    *(
        LoginSpec(f"partner.{key}", Role.PARTNER_WORKER, key)
        for key in ("council", "housing", "treatment", "ete", "voluntary", "health")
    ),
    LoginSpec("steering", Role.STEERING_GROUP, "council"),
    LoginSpec("admin", Role.ADMINISTRATOR, "council", is_staff=True),
]
# What the demo administrator manages in the Django admin (ACCESS.md: "users, agencies and
# reference data"); people's records stay behind the access policy.
ADMINISTRATOR_MODELS = [
    ("auth", "user"),
    ("access", "agency"),
    ("access", "membership"),
    ("access", "scheme"),
    ("offenders", "offencecategory"),
    ("pathways", "pathway"),
]

# Relative frequency of offence categories, weighted toward acquisitive crime. Categories a
# scheme has added or renamed get a default weight.
CATEGORY_WEIGHTS = {
    "Shoplifting": 30,
    "Burglary – residential": 9,
    "Burglary – business/community": 5,
    "Theft from a vehicle": 8,
    "Theft/taking of a vehicle, aggravated vehicle taking": 5,
    "Interfering with a vehicle": 3,
    "Other theft, making off without payment": 6,
    "Handling stolen goods, going equipped": 4,
    "Bicycle theft": 3,
    "Theft from the person": 3,
    "Robbery – personal": 2,
    "Robbery – business": 0.5,
    "Fraud": 2,
    "Criminal damage": 5,
    "Drug possession": 6,
    "Drug trafficking": 1,
    "Violence with injury": 2,
    "Violence without injury": 3,
    "Stalking and harassment": 1,
    "Public order": 4,
    "Possession of weapons": 1,
    "Arson": 0.3,
    "Breach of court order, bail offences": 4,
}

ETHNICITY_WEIGHTS = [
    (Ethnicity.WHITE, 80),
    (Ethnicity.ASIAN, 6),
    (Ethnicity.BLACK, 5),
    (Ethnicity.MIXED, 5),
    (Ethnicity.OTHER, 2),
    (Ethnicity.NOT_STATED, 2),
]
STREET_KINDS = ("Road", "Street", "Close", "Avenue", "Way", "Grove", "Crescent", "Lane", "Walk")
CONTACT_KINDS = [
    (ContactKind.OFFICE, 45),
    (ContactKind.HOME_VISIT, 20),
    (ContactKind.PHONE, 15),
    (ContactKind.REPORT_CENTRE, 10),
    (ContactKind.OUTREACH, 10),
]
CONTACT_NOTES = {
    ContactOutcome.ATTENDED: (
        "Reviewed the action plan.",
        "Discussed accommodation and benefits.",
        "Talked through the weekend; no new concerns.",
        "Completed a thinking-skills exercise.",
        "Checked progress with the drug worker.",
    ),
    ContactOutcome.FAILED: (
        "Did not attend; no explanation given.",
        "Not at home for the visit; card left.",
        "Did not answer; warning letter to follow.",
    ),
    ContactOutcome.EXCUSED: (
        "Rang ahead: medical appointment, letter seen.",
        "At a job interview; rearranged for next week.",
    ),
}
POSITIVE_SUBSTANCES = ("opiates", "cocaine", "opiates, cocaine", "cannabis", "benzodiazepines")


class Writer(Protocol):
    """Where the summary goes: a file, or a management command's stdout."""

    def write(self, msg: str) -> Any: ...


class DemoSeedError(Exception):
    """The demo data cannot be written as asked; the message says why."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    role_label: str
    agency: str


@dataclass
class DemoResult:
    seed: int
    password: str
    logins: list[DemoLogin]
    created: dict[str, int]
    people_already_present: int

    def usernames(self, role: str) -> list[str]:
        return [login.username for login in self.logins if login.role == role]

    @property
    def usernames_by_role(self) -> dict[str, list[str]]:
        return {role: self.usernames(role) for role in dict.fromkeys(x.role for x in self.logins)}


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
class EpisodePlan:
    kind: str
    selected_ago: int
    deselected_ago: int | None = None
    reason: str = ""
    exit_route: str = ""


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
class ReferralPlan:
    agency: str
    pathway: str
    opened_ago: int
    closed_ago: int | None
    reason: str


# (kind, index into the category list or None, occurred days ago, recorded days ago)
EventPlan = tuple[str, int | None, int, int]


@dataclass
class PersonPlan:
    index: int
    group: str  # "ppo", "former", "dyo" or "pool"
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
    strand: str = ""
    asset_score: int | None = None
    scaled_approach: str = ""
    key_worker: str | None = None
    police_officer: str | None = None
    event_count: int = 0
    window: tuple[int, int, float] = (1, HISTORY_DAYS, 1.0)  # recent end, far end, recency
    custody: list[CustodyPlan] = field(default_factory=list)
    episodes: list[EpisodePlan] = field(default_factory=list)
    events: list[EventPlan] = field(default_factory=list)
    contacts: list[ContactPlan] = field(default_factory=list)
    drug_tests: list[DrugTestPlan] = field(default_factory=list)
    referrals: list[ReferralPlan] = field(default_factory=list)

    def local_ref(self, seed: int) -> str:
        return f"{DEMO_REF_PREFIX}{seed}-{self.index:04d}"

    @property
    def oldest_custody_ago(self) -> int:
        return max((c.started_ago for c in self.custody), default=0)


@dataclass
class DemoPlan:
    seed: int
    password: str
    staff_names: dict[str, tuple[str, str]]
    people: list[PersonPlan]


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
            person.group in ("ppo", "former")
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
    _recent_work(planner, people)
    _referrals(planner, people)
    return DemoPlan(seed=seed, password=demo_password(seed), staff_names=staff_names, people=people)


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
        person.episodes.append(EpisodePlan(ProgrammeKind.PPO, selected_ago=selected_ago))
        if situation in ("supervised", "unsupervised"):
            grade = community_grades[counters["community"]]
            counters["community"] += 1
            person.iom_grade = grade
            person.strand = (
                Strand.CATCH_CONVICT if grade == IomGrade.RED else Strand.REHABILITATE_RESETTLE
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
            person.strand = rng.choice((Strand.CATCH_CONVICT, Strand.REHABILITATE_RESETTLE))
            months = custody_months[n]
            episode = planner.serving(
                person, custody_prisons[n], months, due_within=85 if n < 5 else None
            )
            planner.prior_custody(person, episode.started_ago, rng.randint(0, 2))
            person.window = (
                episode.started_ago + 1,
                episode.started_ago + rng.randint(700, 1300),
                1.6,
            )
        else:  # remand
            person.iom_grade = IomGrade.BLUE
            person.strand = Strand.CATCH_CONVICT
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

    # One PPO was on the scheme before: de-selected for a long sentence, re-selected on release.
    again = next(p for p in people if p.supervision == Supervision.LICENCE)
    current = again.episodes[0]
    last_release = again.custody[0]
    current.selected_ago = min(current.selected_ago, max(1, (last_release.released_ago or 1) - 5))
    again.episodes.append(
        EpisodePlan(
            ProgrammeKind.PPO,
            selected_ago=last_release.started_ago + rng.randint(200, 500),
            deselected_ago=last_release.started_ago - rng.randint(20, 60),
            reason=DeselectionReason.LONG_CUSTODY,
            exit_route=ExitRoute.NONE,
        )
    )
    return people


def _former_ppos(planner: _Planner, *, start: int) -> list[PersonPlan]:
    rng = planner.rng
    exits = [
        (DeselectionReason.STOPPED_OFFENDING, ExitRoute.IOM),
        (DeselectionReason.MOVED_AREA, ExitRoute.TRANSFER),
        (DeselectionReason.LONG_CUSTODY, ExitRoute.NONE),
        (DeselectionReason.TWO_YEAR_REVIEW, ExitRoute.IOM),
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
        deselected_ago = rng.randint(40, 400)
        if reason == DeselectionReason.TWO_YEAR_REVIEW:
            selected_ago = deselected_ago + 2 * 365 + rng.randint(0, 60)
        person.episodes.append(
            EpisodePlan(ProgrammeKind.PPO, selected_ago, deselected_ago, reason, route)
        )
        person.strand = Strand.REHABILITATE_RESETTLE
        last_event = deselected_ago + rng.randint(0, 200)
        if reason == DeselectionReason.STOPPED_OFFENDING:
            # 003 §6.2(1): six months without an arrest or intelligence before de-selection.
            last_event = deselected_ago + rng.randint(185, 300)
        elif reason == DeselectionReason.LONG_CUSTODY:
            episode = planner.serving(person, "ravensgate", 60)
            episode.started_ago = deselected_ago + rng.randint(20, 60)
            episode.expected_ago = episode.started_ago - _served_days(60)
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
        person.strand = Strand.PREVENT_DETER
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
        person.episodes.append(EpisodePlan(ProgrammeKind.DYO, selected_ago=rng.randint(30, 500)))
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
    """Referrals to every partner agency, so each partner login sees someone."""
    rng = planner.rng
    ppos = [p for p in people if p.group == "ppo"]

    def refer(
        person: PersonPlan, agency: str, pathway: str, *, closed_ago: int | None = None
    ) -> None:
        since = person.episodes[0].selected_ago
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
        p for p in ppos if p.situation == "custody" and (p.custody[0].expected_ago or 0) > -90
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


# --- writing it ----------------------------------------------------------------------------


def seed_demo(seed: int = 1, *, stdout: Writer | None = None) -> DemoResult:
    """Create the demo scheme for `seed`, or leave it as it is if it is already there.

    Raises DemoSeedError, writing nothing, if demo data of another seed is present or a
    demo login's username belongs to somebody else.
    """
    if seed < 0:
        raise DemoSeedError("The seed must be zero or a positive whole number")
    today = timezone.localdate()
    with transaction.atomic():
        other = (
            Offender.objects.filter(local_ref__startswith=DEMO_REF_PREFIX)
            .exclude(local_ref__startswith=f"{DEMO_REF_PREFIX}{seed}-")
            .values_list("local_ref", flat=True)
            .first()
        )
        if other is not None:
            other_seed = other.removeprefix(DEMO_REF_PREFIX).split("-")[0]
            raise DemoSeedError(
                f"This database already holds demo data made with a different seed "
                f"({other_seed}); refusing to mix it with seed {seed}. Seed it again with "
                f"--seed {other_seed}, or start from an empty database."
            )
        categories = list(OffenceCategory.objects.order_by("name"))
        if not categories:
            raise DemoSeedError("There are no offence categories: run `manage.py migrate` first")
        plan = build_plan(seed, [c.name for c in categories], [c.acquisitive for c in categories])
        agencies = _agencies()
        scheme = _scheme()
        users = _logins(plan, agencies, today)
        created, present = _people(plan, today, agencies, users, categories)
    result = DemoResult(
        seed=seed,
        password=plan.password,
        logins=[
            DemoLogin(spec.username, spec.role, Role(spec.role).label, agencies[spec.agency].name)
            for spec in LOGINS
        ],
        created=created,
        people_already_present=present,
    )
    if stdout is not None:
        stdout.write(describe(result, scheme, today))
    return result


def _agencies() -> dict[str, Agency]:
    pathways = {p.code: p for p in Pathway.objects.all()}
    agencies = {}
    for spec in AGENCIES:
        agency, created = Agency.objects.get_or_create(name=spec.name, defaults={"kind": spec.kind})
        if agency.kind != spec.kind:
            raise DemoSeedError(
                f"An agency called {spec.name!r} already exists as a "
                f"{agency.get_kind_display()} agency, not {AgencyKind(spec.kind).label}"
            )
        if created and spec.pathways:
            agency.pathways_served.set(
                [pathways[code] for code in spec.pathways if code in pathways]
            )
        agencies[spec.key] = agency
    return agencies


def _scheme() -> Scheme:
    scheme = Scheme.objects.filter(name=SCHEME_NAME).first()
    if scheme is not None:
        return scheme
    # Scheme.current() makes a placeholder with the model defaults; the demo takes it over
    # rather than adding a second scheme behind it.
    placeholder = Scheme.objects.order_by("pk").first()
    if placeholder is not None and (placeholder.name, placeholder.area) == (
        "PPO scheme",
        "Local area",
    ):
        scheme = placeholder
    else:
        scheme = Scheme()
    scheme.name, scheme.area = SCHEME_NAME, SCHEME_AREA
    scheme.capacity_min, scheme.capacity_max = 40, 60
    scheme.save()
    return scheme


def _logins(plan: DemoPlan, agencies: dict[str, Agency], today: dt.date) -> dict[str, Any]:
    User = get_user_model()
    # One hash for every login: hashing is slow by design, and they share the password.
    password_hash = make_password(plan.password)
    started_on = years_before(today, 3).replace(day=1)
    users = {}
    for spec in LOGINS:
        email = f"{spec.username}@{DEMO_EMAIL_DOMAIN}"
        first_name, last_name = plan.staff_names[spec.username]
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "email": email,
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": spec.is_staff,
            },
        )
        if not created and user.email != email:
            raise DemoSeedError(
                f"A user called {spec.username!r} already exists and is not a demo login; "
                "rename or remove it before seeding the demo"
            )
        # Re-running puts the demo password back, like a reset.
        user.password = password_hash
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        Membership.objects.get_or_create(
            user=user,
            role=spec.role,
            agency=agencies[spec.agency],
            defaults={"started_on": started_on},
        )
        if spec.role == Role.ADMINISTRATOR:
            for app_label, model in ADMINISTRATOR_MODELS:
                user.user_permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label=app_label,
                        content_type__model=model,
                        codename__in=[f"{verb}_{model}" for verb in ("view", "add", "change")],
                    )
                )
        users[spec.username] = user
    return users


def _people(
    plan: DemoPlan,
    today: dt.date,
    agencies: dict[str, Agency],
    users: dict[str, Any],
    categories: list[OffenceCategory],
) -> tuple[dict[str, int], int]:
    seed = plan.seed
    prefix = f"{DEMO_REF_PREFIX}{seed}-"
    present = set(
        Offender.objects.filter(local_ref__startswith=prefix).values_list("local_ref", flat=True)
    )
    new = [p for p in plan.people if p.local_ref(seed) not in present]
    if not new:
        return {}, len(present)

    def day(days_ago: int) -> dt.date:
        return today - dt.timedelta(days=days_ago)

    def moment(
        days_ago: int, hour: int, minute: int, this_week: tuple[int, int] | None = None
    ) -> dt.datetime:
        if this_week is not None:
            now = timezone.localtime().replace(second=0, microsecond=0)
            monday = timezone.make_aware(
                dt.datetime.combine(today - dt.timedelta(days=today.weekday()), dt.time.min)
            )
            k, n = this_week
            return monday + (now - monday) * (k + 1) / (n + 1)
        return timezone.make_aware(dt.datetime.combine(day(days_ago), dt.time(hour, minute)))

    def user_id(username: str | None) -> int | None:
        return users[username].pk if username else None

    offenders = []
    for p in new:
        date_of_birth = years_before(today, p.age) - dt.timedelta(days=p.birthday_offset)
        pnc_year = min(today.year, date_of_birth.year + p.first_arrest_age)
        cro = ""
        if p.cro_serial is not None:
            cro_year = f"{pnc_year % 100:02d}"
            check = identifiers.CHECK_LETTERS[
                int(f"{cro_year}{p.cro_serial:06d}") % len(identifiers.CHECK_LETTERS)
            ]
            cro = f"{p.cro_serial:06d}/{cro_year}{check}"
        offenders.append(
            Offender(
                first_name=p.first_name,
                last_name=p.last_name,
                aliases=p.aliases,
                date_of_birth=date_of_birth,
                sex=p.sex,
                ethnicity=p.ethnicity,
                address=p.address,
                phone=p.phone,
                pnc_id=identifiers.format_pnc(pnc_year, p.pnc_serial),
                cro_number=cro,
                prison_number=p.prison_number,
                crn=p.crn,
                local_ref=p.local_ref(seed),
                supervision=p.supervision,
                dip_client=p.dip_client,
                crasbo=p.crasbo,
                mappa_level=p.mappa_level,
                iom_grade=p.iom_grade,
                strand=p.strand,
                asset_score=p.asset_score,
                scaled_approach=p.scaled_approach,
                key_worker_id=user_id(p.key_worker),
                police_officer_id=user_id(p.police_officer),
            )
        )
    taken = set(
        Offender.objects.filter(pnc_id__in=[o.pnc_id for o in offenders]).values_list(
            "pnc_id", flat=True
        )
    )
    if taken:
        examples = ", ".join(sorted(map(str, taken))[:3])
        raise DemoSeedError(
            f"Demo PNC IDs are already used by other people ({examples}); "
            "seed the demo into an empty database"
        )
    Offender.objects.bulk_create(offenders, batch_size=500)
    ids = dict(Offender.objects.filter(local_ref__startswith=prefix).values_list("local_ref", "pk"))

    police = agencies["police"].pk
    pathways = {pathway.code: pathway.pk for pathway in Pathway.objects.all()}
    events: list[OffendingEvent] = []
    custody: list[CustodyEpisode] = []
    episodes: list[ProgrammeEpisode] = []
    contacts: list[Contact] = []
    tests: list[DrugTest] = []
    referrals: list[Referral] = []
    for p in new:
        offender_id = ids[p.local_ref(seed)]
        events += [
            OffendingEvent(
                offender_id=offender_id,
                kind=kind,
                category_id=None if category is None else categories[category].pk,
                occurred_on=day(occurred_ago),
                recorded_on=day(recorded_ago),
                source_agency_id=police,
                source_reference=f"{p.local_ref(seed)}-{n:03d}",
            )
            for n, (kind, category, occurred_ago, recorded_ago) in enumerate(p.events)
        ]
        custody += [
            CustodyEpisode(
                offender_id=offender_id,
                kind=stay.kind,
                establishment_id=agencies[stay.prison].pk,
                started_on=day(stay.started_ago),
                sentence_length_months=stay.sentence_months,
                expected_release_on=None if stay.expected_ago is None else day(stay.expected_ago),
                released_on=None if stay.released_ago is None else day(stay.released_ago),
                supervision_on_release=stay.supervision_on_release,
            )
            for stay in p.custody
        ]
        episodes += [
            ProgrammeEpisode(
                offender_id=offender_id,
                kind=spell.kind,
                selected_on=day(spell.selected_ago),
                selection_decision=(
                    f"{'Selection' if spell.kind == ProgrammeKind.PPO else 'YOT'} panel, "
                    f"{day(spell.selected_ago):%d %B %Y}"
                ),
                deselected_on=None if spell.deselected_ago is None else day(spell.deselected_ago),
                deselection_reason=spell.reason,
                exit_route=spell.exit_route,
            )
            for spell in p.episodes
        ]
        contacts += [
            Contact(
                offender_id=offender_id,
                worker_id=users[contact.worker].pk,
                agency_id=agencies[contact.agency].pk,
                occurred_at=moment(
                    contact.days_ago, contact.hour, contact.minute, contact.this_week
                ),
                kind=contact.kind,
                face_to_face=contact.kind != ContactKind.PHONE,
                outcome=contact.outcome,
                note=contact.note,
            )
            for contact in p.contacts
        ]
        tests += [
            DrugTest(
                offender_id=offender_id,
                tested_at=moment(test.days_ago, test.hour, test.minute, test.this_week),
                agency_id=agencies[test.agency].pk,
                tester_id=users[test.tester].pk,
                result=test.result,
                substances=test.substances,
            )
            for test in p.drug_tests
        ]
        referrals += [
            Referral(
                offender_id=offender_id,
                agency_id=agencies[referral.agency].pk,
                pathway_id=pathways[referral.pathway],
                opened_on=day(referral.opened_ago),
                closed_on=None if referral.closed_ago is None else day(referral.closed_ago),
                reason=referral.reason,
            )
            for referral in p.referrals
        ]
    OffendingEvent.objects.bulk_create(events, batch_size=1000)
    CustodyEpisode.objects.bulk_create(custody, batch_size=1000)
    ProgrammeEpisode.objects.bulk_create(episodes, batch_size=1000)
    Contact.objects.bulk_create(contacts, batch_size=1000)
    DrugTest.objects.bulk_create(tests, batch_size=1000)
    Referral.objects.bulk_create(referrals, batch_size=1000)
    created = {
        "people": len(offenders),
        "offending events": len(events),
        "custody episodes": len(custody),
        "programme episodes": len(episodes),
        "contacts": len(contacts),
        "drug tests": len(tests),
        "referrals": len(referrals),
    }
    return created, len(present)


def describe(result: DemoResult, scheme: Scheme, today: dt.date) -> str:
    """The summary the command prints: what is in the database, and how to sign in."""
    demo = Offender.objects.filter(local_ref__startswith=f"{DEMO_REF_PREFIX}{result.seed}-")
    ppos = demo.filter(
        pk__in=ProgrammeEpisode.objects.open_on(today)
        .filter(kind=ProgrammeKind.PPO)
        .values("offender")
    )
    by_status: dict[str, int] = {}
    supervised = 0
    for status, supervision, n in (
        ppos.with_status(today)
        # django-stubs cannot see the with_status() annotation.
        .values_list("current_status", "supervision")  # type: ignore[misc]
        .annotate(n=Count("pk"))
        .order_by()
    ):
        by_status[status] = by_status.get(status, 0) + n
        if status == Status.COMMUNITY and supervision != Supervision.NONE:
            supervised += n
    community = by_status.get(Status.COMMUNITY, 0)
    ever_ppo = demo.filter(episodes__kind=ProgrammeKind.PPO).distinct().count()
    lines = []
    if result.created:
        made = ", ".join(f"{n:,} {label}" for label, n in result.created.items())
        lines.append(f"Seeded the demo scheme (seed {result.seed}): created {made}.")
    else:
        lines.append(
            f"The demo scheme (seed {result.seed}) is already here: "
            f"{result.people_already_present:,} people; nothing new was created."
        )
    lines += [
        f"{scheme.name} ({scheme.area}), capacity {scheme.capacity_min}-{scheme.capacity_max}.",
        f"Current PPOs: {sum(by_status.values())} - {supervised} in the community under "
        f"supervision, {community - supervised} in the community without, "
        f"{by_status.get(Status.CUSTODY, 0)} in custody, {by_status.get(Status.REMAND, 0)} on "
        f"remand; {ppos.filter(crasbo=True).count()} with CRASBOs.",
        f"Former PPOs: {ever_ppo - ppos.count()}; "
        f"DYOs: {demo.filter(episodes__kind=ProgrammeKind.DYO).distinct().count()}; "
        f"other known offenders: {demo.filter(episodes__isnull=True).count():,}; "
        f"offending events: {OffendingEvent.objects.filter(offender__in=demo).count():,}.",
        "",
        f"Password for every demo login: {result.password}",
        "",
    ]
    width = max(len(login.username) for login in result.logins)
    role_width = max(len(login.role_label) for login in result.logins)
    lines.append(f"{'username'.ljust(width)}  {'role'.ljust(role_width)}  agency")
    for login in result.logins:
        lines.append(
            f"{login.username.ljust(width)}  {login.role_label.ljust(role_width)}  {login.agency}"
        )
    return "\n".join(lines) + "\n"
