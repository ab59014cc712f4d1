"""The demo scheme's fixed shape: counts from 001 §5.4–5.5, agencies, logins, results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from access.models import AgencyKind, Role
from offenders.models import (
    ContactKind,
    ContactOutcome,
    Ethnicity,
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

# Selection panels (003 §6.1: "partners should meet monthly to review their list of
# PPOs"): every four weeks, so the plan's panel days are days-ago figures that do not
# depend on today. The most recent is the one the past selection run was made for; it
# is before the last four weeks, whose contacts the PPOs' caseloads show.
PANEL_EVERY_DAYS = 28
RECENT_PANEL_AGO = 35
# The run is made the week before that panel, for its agenda.
RUN_BEFORE_PANEL_DAYS = 7
# Panels all fall on one weekday (they are 28 days apart); the writer moves them all
# forward to a Wednesday (Monday is 0), at most six days.
PANEL_WEEKDAY = 2
# Who attends a selection panel (DESIGN.md "selection": multi-agency).
PANEL_AGENCIES = ("police", "probation", "eastmoor", "council", "housing", "treatment")
# Former PPOs stepped down to the IOM tier (003 §4.6), besides the one of FORMER_PPOS who
# stepped down on stopping offending; the last of them at the most recent panel.
IOM_COHORT = 4


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
        # Victims of Crime: its one provider, the Restorative Justice Project, has closed
        # (PROVIDERS), so the gap view shows a pathway with no provider (004 §4.1).
        ("finance", "families", "victims"),
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
    # The bank holidays the premium service's working-day clocks skip (issue 10).
    ("access", "bankholiday"),
    ("offenders", "offencecategory"),
    # The retention periods per kind of record (issue 14), set with a reason, audited.
    ("offenders", "retentionrule"),
    ("pathways", "pathway"),
    ("pathways", "provider"),
]


@dataclass(frozen=True)
class ProviderSpec:
    """A local provider in the directory (pathways.models.Provider): reference data, made
    as the admin would. Contact details are invented: example.org addresses and Ofcom's
    drama range of 01632 960xxx numbers."""

    key: str
    name: str
    agency: str
    pathways: tuple[str, ...]
    phone: str
    address: str
    reserved_places: int | None = None
    reserved_note: str = ""
    active: bool = True

    @property
    def email(self) -> str:
        return f"{self.key.replace('_', '-')}@example.org"


# Every pathway has a provider except Victims of Crime, whose Restorative Justice Project
# closed when its funding ended (its past referrals remain).
PROVIDERS = [
    ProviderSpec(
        "ashdown",
        "Ashdown House Supported Housing",
        "housing",
        ("accommodation",),
        "01632 960101",
        "Ashdown House\n14 Mill Lane\nNorthfield",
        reserved_places=4,
        reserved_note="4 dwellings reserved for DIP/PPO clients (001 §3.2d)",
    ),
    ProviderSpec(
        "tenancy",
        "Northfield Homes Tenancy Sustainment",
        "housing",
        ("accommodation",),
        "01632 960102",
        "Civic Centre\nNorthfield",
    ),
    ProviderSpec(
        "dip",
        "CJIT Drug Intervention Programme",
        "treatment",
        ("drugs_alcohol",),
        "01632 960201",
        "The Bridge Centre\n3 Station Road\nNorthfield",
        reserved_places=10,
        reserved_note="Same-week DIP assessment for 10 PPO clients at a time",
    ),
    ProviderSpec(
        "alcohol",
        "Northfield Alcohol Recovery Service",
        "treatment",
        ("drugs_alcohol",),
        "01632 960202",
        "The Bridge Centre\n3 Station Road\nNorthfield",
    ),
    ProviderSpec(
        "skills",
        "Skills Hub Employment Support",
        "ete",
        ("ete",),
        "01632 960301",
        "Unit 4, Market Square\nNorthfield",
    ),
    ProviderSpec(
        "college",
        "Northfield College Fresh Start Course",
        "ete",
        ("ete",),
        "01632 960302",
        "Northfield College\nCollege Road\nNorthfield",
        reserved_places=6,
        reserved_note="6 places a term for scheme clients",
    ),
    ProviderSpec(
        "cmht",
        "Northfield Community Mental Health Team",
        "health",
        ("health",),
        "01632 960401",
        "Northfield Health Centre\nNorthfield",
    ),
    ProviderSpec(
        "riverside",
        "Riverside Health Centre (vulnerable patients)",
        "health",
        ("health",),
        "01632 960402",
        "Riverside Health Centre\nQuay Street\nNorthfield",
    ),
    ProviderSpec(
        "mentoring",
        "Through the Gate Mentoring",
        "voluntary",
        ("attitudes",),
        "01632 960501",
        "22 Chapel Street\nNorthfield",
    ),
    ProviderSpec(
        "families_first",
        "Families First Family Support",
        "voluntary",
        ("families",),
        "01632 960502",
        "22 Chapel Street\nNorthfield",
    ),
    ProviderSpec(
        "debt_advice",
        "Northfield Welfare Rights and Debt Advice",
        "council",
        ("finance",),
        "01632 960601",
        "Civic Centre\nNorthfield",
    ),
    ProviderSpec(
        "family_intervention",
        "Northfield Family Intervention Project",
        "council",
        ("families",),
        "01632 960602",
        "Civic Centre\nNorthfield",
    ),
    ProviderSpec(
        "restorative",
        "Northfield Restorative Justice Project",
        "council",
        ("victims",),
        "01632 960603",
        "Civic Centre\nNorthfield",
        active=False,
    ),
]

# Case conferences (001 §3.1), as days before today: two past ones, about four months and
# one month ago, each moved back to CONFERENCE_WEEKDAY (at most six days) and arranged
# two weeks before; one arranged today for the coming week. Days between them in the plan
# stay clear of the days they can move to (demo/scheme/casework.py).
FIRST_CONFERENCE_AGO = 119
SECOND_CONFERENCE_AGO = 28
CONFERENCE_WEEKDAY = 1  # Tuesday
CONFERENCE_MAX_SHIFT = 6
CONFERENCE_ARRANGED_BEFORE = 14
FIRST_CONFERENCE_SIZE = 24
SECOND_CONFERENCE_REPEATS = 12
PLANNED_CONFERENCE_SIZE = 5
# Invited to each; the location is the police station's (a multi-agency meeting).
CONFERENCE_AGENCIES = (
    "police",
    "probation",
    "eastmoor",
    "ravensgate",
    "housing",
    "treatment",
    "ete",
    "health",
    "voluntary",
    "council",
)
CONFERENCE_LOCATION = "Northfield Police Station, conference room 2"

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
