"""The tier filter on the caseload and the people list (DESIGN.md rule 7: a person is on at
most one tier, PPO, IOM or DYO; each tier has its own caseload): as each role, every filter
offered lists exactly the number shown beside it, and only tiers whose people the reader
may see are offered (ACCESS.md "Who is in scope").

The expectations below are written out by hand from ACCESS.md, not derived from
offenders.tiers: the key worker's scope is current and former PPOs and DYOs, so someone
only ever on IOM is not in it, and a PPO stepped down to IOM is (a former PPO).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from access.models import AgencyKind, Role
from offenders.models import DeselectionReason, ProgrammeKind
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2025, 6, 18)


@pytest.fixture(autouse=True)
def on_18_june(time_machine):
    time_machine.move_to(dt.datetime(2025, 6, 18, 12, 0, tzinfo=LONDON), tick=False)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def scheme(db):
    kw = staff(Role.KEY_WORKER, username="kw")
    other = staff(Role.KEY_WORKER, username="kw2")
    prison = AgencyFactory(name="HMP Qxtier", kind=AgencyKind.PRISON)
    treatment = AgencyFactory(name="Qxtier Treatment", kind=AgencyKind.TREATMENT)

    def person(last_name, key_worker=kw, **fields):
        return OffenderFactory(last_name=last_name, key_worker=key_worker, **fields)

    ppo_a = person("Qxppoa")
    ProgrammeEpisodeFactory(offender=ppo_a, selected_on=d("2024-02-01"))
    ppo_b = person("Qxppob", key_worker=other)
    ProgrammeEpisodeFactory(offender=ppo_b, selected_on=d("2024-02-01"))
    CustodyEpisodeFactory(offender=ppo_b, establishment=prison, started_on=d("2025-05-01"))

    stepped = person("Qxstepped")
    ProgrammeEpisodeFactory(
        offender=stepped,
        selected_on=d("2024-01-01"),
        deselected_on=d("2025-03-01"),
        deselection_reason=DeselectionReason.STEPPED_DOWN,
    )
    ProgrammeEpisodeFactory(offender=stepped, kind=ProgrammeKind.IOM, selected_on=d("2025-03-01"))
    iom_only = person("Qxiomonly")
    ProgrammeEpisodeFactory(offender=iom_only, kind=ProgrammeKind.IOM, selected_on=d("2024-05-01"))

    dyo = person("Qxdyo", date_of_birth=d("2009-01-10"))
    ProgrammeEpisodeFactory(offender=dyo, kind=ProgrammeKind.DYO, selected_on=d("2024-09-01"))

    former = person("Qxformer")
    ProgrammeEpisodeFactory(
        offender=former,
        selected_on=d("2022-01-01"),
        deselected_on=d("2024-06-01"),
        deselection_reason=DeselectionReason.MOVED_AREA,
    )
    pool = person("Qxpool")
    young_pool = person("Qxyoungpool", date_of_birth=d("2009-03-03"))
    ReferralFactory(offender=stepped, agency=treatment)
    ReferralFactory(offender=ppo_a, agency=treatment)
    return {
        "kw": kw,
        "prison": prison,
        "treatment": treatment,
        "ppo_a": ppo_a,
        "ppo_b": ppo_b,
        "stepped": stepped,
        "iom_only": iom_only,
        "dyo": dyo,
        "former": former,
        "pool": pool,
        "young_pool": young_pool,
    }


def viewer(scheme, role):
    if role == Role.KEY_WORKER:
        return scheme["kw"]
    if role == Role.PRISON_WORKER:
        return staff(role, agency=scheme["prison"])
    if role == Role.PARTNER_WORKER:
        return staff(role, agency=scheme["treatment"])
    return staff(role)


# Whom each role's caseload lists on each tier filter, by last name ("" = no tier filter).
CASELOAD = {
    Role.PPO_MANAGER: {
        "": {"Qxppoa", "Qxppob", "Qxstepped", "Qxiomonly", "Qxdyo"},
        "ppo": {"Qxppoa", "Qxppob"},
        "iom": {"Qxstepped", "Qxiomonly"},
        "dyo": {"Qxdyo"},
    },
    Role.POLICE_OFFICER: {
        "": {"Qxppoa", "Qxppob", "Qxstepped", "Qxiomonly", "Qxdyo"},
        "ppo": {"Qxppoa", "Qxppob"},
        "iom": {"Qxstepped", "Qxiomonly"},
        "dyo": {"Qxdyo"},
    },
    # Their own people on a tier today; the IOM-only person is outside their scope.
    Role.KEY_WORKER: {
        "": {"Qxppoa", "Qxstepped", "Qxdyo"},
        "ppo": {"Qxppoa"},
        "iom": {"Qxstepped"},
        "dyo": {"Qxdyo"},
    },
    # Under 18 today, or a DYO.
    Role.YOT_WORKER: {
        "": {"Qxdyo", "Qxyoungpool"},
        "ppo": set(),
        "iom": set(),
        "dyo": {"Qxdyo"},
        "former": set(),
        "none": {"Qxyoungpool"},
    },
    # PPOs and former PPOs in their establishment.
    Role.PRISON_WORKER: {"": {"Qxppob"}, "ppo": {"Qxppob"}, "iom": set(), "former": set()},
}


def caseload(client, **params):
    response = client.get(reverse("home"), params)
    assert response.status_code == 200
    return response


def caseload_names(response) -> set[str]:
    return {row.offender.last_name for row in response.context["caseload"].rows}


def shown_options(page: str, select_id: str) -> dict[str, int]:
    """The options of a select on the page, value -> the count shown in its label."""
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', page, re.S)
    assert select, select_id
    return {
        value: int(count.replace(",", ""))
        for value, count in re.findall(
            r'<option value="([^"]*)"[^>]*>[^<]*\((\d[\d,]*)\)</option>', select.group(0)
        )
    }


@pytest.mark.parametrize("role", list(CASELOAD))
def test_each_tier_filter_on_the_caseload_lists_as_many_as_it_says(client, scheme, role):
    sign_in(client, viewer(scheme, role))
    expected = CASELOAD[role]
    page = caseload(client).content.decode()
    options = shown_options(page, "filter-tier")
    # Only the tiers this reader's caseload can hold are offered, each with its count.
    assert set(options) == set(expected)
    for tier, names in expected.items():
        assert options[tier] == len(names), tier
        response = caseload(client, tier=tier)
        assert caseload_names(response) == names, tier
        assert len(response.context["rows"]) == options[tier]
        caption = f"{len(names)} {'person' if len(names) == 1 else 'people'}"
        assert caption in response.content.decode()


def test_the_manager_opens_the_iom_caseload(client, scheme):
    sign_in(client, staff(Role.PPO_MANAGER))
    response = caseload(client, tier="iom")
    page = response.content.decode()
    assert "2 people – IOM matching the filters" in page
    assert 'value="iom" selected' in page
    assert [row.offender.current_tier for row in response.context["rows"]] == ["iom", "iom"]
    # The IOM level is the one stated for these rows (003 §4.6, the scheme's setting).
    assert [t.tier for t in response.context["caseload"].targets] == ["iom"]


def test_the_ppo_count_agrees_with_the_managers_headline(client, scheme):
    sign_in(client, staff(Role.PPO_MANAGER))
    response = caseload(client)
    headline = {figure.label: figure.value for figure in response.context["headline"]}
    options = shown_options(response.content.decode(), "filter-tier")
    assert headline["PPOs on the scheme"] == options["ppo"] == 2


def test_tier_counts_follow_the_other_filters(client, scheme):
    """Counts are of what the other filters leave: choosing a tier lists that many."""
    sign_in(client, staff(Role.PPO_MANAGER))
    page = caseload(client, status="custody").content.decode()
    assert shown_options(page, "filter-tier") == {"": 1, "ppo": 1, "iom": 0, "dyo": 0}
    response = caseload(client, status="custody", tier="ppo")
    assert caseload_names(response) == {"Qxppob"}


@pytest.mark.parametrize(
    ("role", "tier"),
    [
        (Role.KEY_WORKER, "none"),  # nobody in their scope was never on a tier
        (Role.KEY_WORKER, "former"),  # their caseload holds people on a tier today
        (Role.PRISON_WORKER, "dyo"),
        (Role.PPO_MANAGER, "everything"),
    ],
)
def test_a_tier_not_offered_is_not_applied(client, scheme, role, tier):
    sign_in(client, viewer(scheme, role))
    response = caseload(client, tier=tier)
    assert caseload_names(response) == CASELOAD[role][""]
    assert "is not a tier you can filter this list by" in response.content.decode()


def test_a_partner_gets_no_tier_filter_and_no_tier_column(client, scheme):
    sign_in(client, viewer(scheme, Role.PARTNER_WORKER))
    response = caseload(client, tier="iom")
    # The PPO would drop out of an IOM filter if it were applied: it is not.
    assert caseload_names(response) == {"Qxppoa", "Qxstepped"}
    page = response.content.decode()
    assert 'id="filter-tier"' not in page and "Tier</th>" not in page
    assert "not available to you" in page


def test_the_caseload_measures_an_iom_person_against_the_iom_level(client, scheme):
    kw = scheme["kw"]
    for day in (16, 17):
        for person in (scheme["stepped"], scheme["ppo_a"]):
            ContactFactory(
                offender=person, worker=kw, occurred_at=dt.datetime(2025, 6, day, 9, tzinfo=LONDON)
            )
    sign_in(client, kw)
    response = caseload(client)
    rows = {row.offender.last_name: row for row in response.context["rows"]}
    assert rows["Qxstepped"].this_week.contacts.shown == "2 of 2"
    assert rows["Qxstepped"].this_week.contacts.met
    assert rows["Qxppoa"].this_week.contacts.shown == "2 of 4"
    assert rows["Qxdyo"].this_week.contacts.shown == "0 of 4"
    page = response.content.decode()
    assert "IOM: 2 contacts a week, 1 drug test a week" in page
    assert "Deter Young Offender: 4 contacts a week, no drug test target" in page


# --- The people list ---------------------------------------------------------------------------

PEOPLE = {
    Role.PPO_MANAGER: {
        "": {
            "Qxppoa",
            "Qxppob",
            "Qxstepped",
            "Qxiomonly",
            "Qxdyo",
            "Qxformer",
            "Qxpool",
            "Qxyoungpool",
        },
        "ppo": {"Qxppoa", "Qxppob"},
        "iom": {"Qxstepped", "Qxiomonly"},
        "dyo": {"Qxdyo"},
        "former": {"Qxformer"},
        "none": {"Qxpool", "Qxyoungpool"},
    },
    # Current and former PPOs and DYOs, whoever they are allocated to.
    Role.KEY_WORKER: {
        "": {"Qxppoa", "Qxppob", "Qxstepped", "Qxdyo", "Qxformer"},
        "ppo": {"Qxppoa", "Qxppob"},
        "iom": {"Qxstepped"},
        "dyo": {"Qxdyo"},
        "former": {"Qxformer"},
    },
}


def people(client, **params):
    response = client.get(reverse("offenders:list"), params)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("role", list(PEOPLE))
def test_each_tier_filter_on_the_people_list_lists_as_many_as_it_says(client, scheme, role):
    sign_in(client, viewer(scheme, role))
    expected = PEOPLE[role]
    options = shown_options(people(client).content.decode(), "filter-tier")
    assert set(options) == set(expected)
    for tier, names in expected.items():
        response = people(client, tier=tier)
        page = response.context["page"]
        assert {o.last_name for o in page.object_list} == names, tier
        assert page.paginator.count == options[tier] == len(names), tier


def test_the_people_list_keeps_the_tier_across_pages_and_with_a_search(client, scheme):
    sign_in(client, staff(Role.PPO_MANAGER))
    for n in range(30):
        person = OffenderFactory(last_name=f"Qxmany{n:02d}")
        ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.IOM)
    response = people(client, tier="iom")
    assert response.context["page"].paginator.count == 32
    assert "tier=iom&amp;page=2" in response.content.decode()
    searched = people(client, tier="iom", q="Qxmany0")
    assert searched.context["page"].paginator.count == 10
    assert shown_options(searched.content.decode(), "filter-tier")["iom"] == 10


def test_a_key_worker_is_not_offered_the_known_offender_pool(client, scheme):
    sign_in(client, scheme["kw"])
    response = people(client, tier="none")
    assert response.context["page"].paginator.count == len(PEOPLE[Role.KEY_WORKER][""])
    assert "is not a tier you can filter this list by" in response.content.decode()


def test_a_partner_gets_no_tier_filter_on_the_people_list(client, scheme):
    sign_in(client, viewer(scheme, Role.PARTNER_WORKER))
    response = people(client, tier="iom")
    assert {o.last_name for o in response.context["page"].object_list} == {"Qxppoa", "Qxstepped"}
    page = response.content.decode()
    assert 'id="filter-tier"' not in page and "Tier</th>" not in page
    assert "not available to you" in page
