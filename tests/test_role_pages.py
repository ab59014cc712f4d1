"""Every page a role can open, checked against what ACCESS.md lets that role see.

The lists of what must not appear are written out here from ACCESS.md, independently of
`access.policy.visible_fields`: a partner sees a referred person's name, date of birth and
contact details, and of custody only "in custody yes/no" and the release date; the steering
group sees no one. Each page is fetched as a person would (the test client), and its text
is searched for the person's identifiers, strand, grade, key worker and custody dates.
Positive controls (the PPO manager sees them all) prove the search would find them.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import CustodyKind, EventKind, IomGrade, Strand
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    UserFactory,
    sign_in,
    staff,
)

PNC_LONG = "2003/0051234W"
PNC_SHORT = "03/51234W"
CRN = "Q123456"
PRISON_NUMBER = "A7391QX"
CRO = "112233/03R"
ALIAS = "Zorvexia"
KEY_WORKER_NAME = "Wrenfold Quillby"
PRISON = "HMP Qxmoor"
# Into custody on 3 February 2026 (sentenced), expected out on 9 September 2027; an
# earlier remand from 5 to 19 May 2025.
CUSTODY_START = dt.date(2026, 2, 3)
EXPECTED_RELEASE = dt.date(2027, 9, 9)
EARLIER_START, EARLIER_RELEASE = dt.date(2025, 5, 5), dt.date(2025, 5, 19)


def _dates(day: dt.date) -> list[str]:
    """The ways a page writes a date."""
    return [
        f"{day.day} {day:%B %Y}",
        f"{day.day} {day:%b %Y}",
        day.isoformat(),
        f"{day:%d/%m/%Y}",
    ]


# ACCESS.md, transcribed: what a partner must never see of a person (identity beyond name,
# date of birth and contact details; custody beyond yes/no and the release date).
NEVER_FOR_PARTNERS = {
    "PNC ID": [PNC_LONG, PNC_SHORT, "PNC"],
    "CRN": [CRN],
    "prison number": [PRISON_NUMBER],
    "CRO number": [CRO],
    "alias": [ALIAS],
    "strand": ["Catch and Convict", "Rehabilitate and Resettle", "Strand"],
    "tier": ["Tier</", "All tiers", ">PPO<", 'name="tier"'],
    "IOM grade": ["IOM grade", "Known to be offending", ">Red<"],
    "status": [">Remand<", ">Sentenced", "Remanded"],
    "key worker": [KEY_WORKER_NAME, "Key worker"],
    "establishment": [PRISON],
    "custody dates": [
        *_dates(CUSTODY_START),
        *_dates(EARLIER_START),
    ],
}
# The release date is what a partner may see of custody: it must be there.
PARTNER_MAY_SEE = [f"{EXPECTED_RELEASE.day} {EXPECTED_RELEASE:%B %Y}"]


@pytest.fixture
def person(db):
    treatment = AgencyFactory(name="Qxtreat Recovery", kind=AgencyKind.TREATMENT)
    housing = AgencyFactory(name="Qxhouse Homes", kind=AgencyKind.HOUSING)
    prison = AgencyFactory(name=PRISON, kind=AgencyKind.PRISON)
    key_worker = staff(Role.KEY_WORKER, first_name="Wrenfold", last_name="Quillby")
    offender = OffenderFactory(
        first_name="Qxandria",
        last_name="Pelloworth",
        aliases=ALIAS,
        date_of_birth=dt.date(1988, 7, 14),
        address="12 Qxlane, Northfield",
        pnc_id=PNC_LONG,
        crn=CRN,
        prison_number=PRISON_NUMBER,
        cro_number=CRO,
        strands=[Strand.CATCH_CONVICT, Strand.REHABILITATE_RESETTLE],
        iom_grade=IomGrade.RED,
        key_worker=key_worker,
    )
    ProgrammeEpisodeFactory(offender=offender, selected_on=dt.date(2024, 1, 1))
    CustodyEpisodeFactory(
        offender=offender,
        establishment=prison,
        kind=CustodyKind.REMAND,
        sentence_length_months=None,
        started_on=EARLIER_START,
        released_on=EARLIER_RELEASE,
    )
    CustodyEpisodeFactory(
        offender=offender,
        establishment=prison,
        started_on=CUSTODY_START,
        expected_release_on=EXPECTED_RELEASE,
    )
    ReferralFactory(offender=offender, agency=treatment)
    ReferralFactory(offender=offender, agency=housing)
    ContactFactory(offender=offender, agency=treatment, note="Qxtreat key session")
    OffendingEventFactory(offender=offender, kind=EventKind.INTELLIGENCE, category=None)
    return {
        "offender": offender,
        "treatment": treatment,
        "housing": housing,
        "prison": prison,
        "key_worker": key_worker,
    }


def _pages_for(offender_id: int) -> list[str]:
    """Every page about people a signed-in worker can reach from their navigation."""
    return [
        reverse("home"),
        reverse("home") + "?status=custody&grade=red&strand=catch_convict&sort=grade",
        reverse("home") + "?tier=ppo",
        reverse("offenders:list"),
        reverse("offenders:list") + "?tier=ppo",
        reverse("offenders:detail", args=[offender_id]),
        reverse("offenders:timeline", args=[offender_id]),
        reverse("offenders:timeline", args=[offender_id]) + "?kind=custody&kind=grade",
        reverse("offenders:contact-log", args=[offender_id]),
        reverse("offenders:drug-test", args=[offender_id]),
        reverse("offenders:event-record", args=[offender_id]),
        reverse("offenders:custody-create", args=[offender_id]),
        reverse("offenders:custody-release", args=[offender_id]),
        reverse("offenders:grade-change", args=[offender_id]),
        reverse("offenders:update", args=[offender_id]),
    ]


def _visible_text(response) -> str:
    return response.content.decode() if response.status_code == 200 else ""


def _leaks(page: str) -> list[str]:
    text = html.unescape(page)
    return [
        f"{what}: {needle!r}"
        for what, needles in NEVER_FOR_PARTNERS.items()
        for needle in needles
        if needle in text
    ]


@pytest.mark.parametrize("agency_key", ["treatment", "housing"])
def test_a_partner_sees_no_identifier_strand_grade_or_custody_history_on_any_page(
    client, person, agency_key
):
    partner = staff(Role.PARTNER_WORKER, agency=person[agency_key])
    sign_in(client, partner)
    offender = person["offender"]
    opened = 0
    for url in _pages_for(offender.pk):
        response = client.get(url)
        assert response.status_code in (200, 403, 404), url
        page = _visible_text(response)
        opened += bool(page)
        assert _leaks(page) == [], url
    assert opened >= 4  # home, people, profile, timeline at least

    profile = client.get(reverse("offenders:detail", args=[offender.pk])).content.decode()
    assert "Qxandria Pelloworth" in profile
    assert "14 July 1988" in profile and "12 Qxlane" in profile
    for allowed in PARTNER_MAY_SEE:
        assert allowed in profile
    assert re.search(r"In custody</dt>\s*<dd[^>]*>Yes", profile)


def test_the_same_pages_show_everything_to_the_ppo_manager(client, person):
    """Positive control: the needles the partner test looks for are really on the pages."""
    sign_in(client, staff(Role.PPO_MANAGER))
    offender = person["offender"]
    profile = client.get(reverse("offenders:detail", args=[offender.pk])).content.decode()
    timeline = client.get(reverse("offenders:timeline", args=[offender.pk])).content.decode()
    home = client.get(reverse("home")).content.decode()
    text = html.unescape(profile + timeline + home)
    for needle in (PNC_LONG, CRN, PRISON_NUMBER, CRO, ALIAS, "Catch and Convict"):
        assert needle in text
    assert "Rehabilitate and Resettle" in text  # both of the person's strands
    for needle in NEVER_FOR_PARTNERS["tier"]:
        assert needle in text, needle
    assert KEY_WORKER_NAME in text and PRISON in text
    assert f"{CUSTODY_START.day} {CUSTODY_START:%B %Y}" in text


@pytest.mark.parametrize(
    "query",
    [CRN, PRISON_NUMBER, PNC_LONG, "0051234", ALIAS, ALIAS[:3], "Local", CRO],
)
def test_a_partner_cannot_find_a_person_by_what_they_may_not_see(client, person, query):
    sign_in(client, staff(Role.PARTNER_WORKER, agency=person["treatment"]))
    response = client.get(reverse("offenders:list"), {"q": query})
    assert response.context["page"].paginator.count == 0
    assert "Pelloworth" not in response.content.decode()


def test_a_partner_finds_a_person_by_name(client, person):
    sign_in(client, staff(Role.PARTNER_WORKER, agency=person["treatment"]))
    response = client.get(reverse("offenders:list"), {"q": "pelloworth"})
    assert response.context["page"].paginator.count == 1
    assert 'for="q">Name</label>' in response.content.decode()


def test_the_manager_finds_a_person_by_any_identifier(client, person):
    sign_in(client, staff(Role.PPO_MANAGER))
    for query in (CRN, PRISON_NUMBER, PNC_LONG, ALIAS):
        response = client.get(reverse("offenders:list"), {"q": query})
        assert response.context["page"].paginator.count == 1, query


def test_a_partner_filter_or_sort_on_a_hidden_field_is_not_applied(client, person):
    """?grade=green would drop a red person from the list if it were applied: it must not be,
    or the list would tell the partner the person's grade."""
    sign_in(client, staff(Role.PARTNER_WORKER, agency=person["treatment"]))
    for params in (
        {"grade": "green"},
        {"status": "community"},
        {"strand": "prevent_deter"},
        {"tier": "iom"},
    ):
        response = client.get(reverse("home"), params)
        assert [row.offender.pk for row in response.context["rows"]] == [person["offender"].pk]
        assert "not available to you" in response.content.decode()
    response = client.get(reverse("home"), {"sort": "grade"})
    assert response.context["caseload"].query.sort == "name"


def test_the_partner_caseload_columns_are_exactly_name_date_of_birth_and_in_custody(client, person):
    sign_in(client, staff(Role.PARTNER_WORKER, agency=person["treatment"]))
    caseload = client.get(reverse("home")).context["caseload"]
    labels = [column.label for column in caseload.columns if column.key != "actions"]
    assert labels == ["Name", "Date of birth", "In custody"]


def test_the_steering_group_sees_no_name_and_no_record(client, person):
    sign_in(client, staff(Role.STEERING_GROUP))
    offender = person["offender"]
    for url in _pages_for(offender.pk):
        response = client.get(url)
        page = html.unescape(_visible_text(response))
        assert "Pelloworth" not in page, url
        if not url.startswith(reverse("home") + "?") and url != reverse("home"):
            # The home page holds the scheme's figures ("Remanded in custody: 3").
            assert _leaks(page) == [], url
    # Person pages are not the steering group's (issue 11): a 403 for any number, so it
    # says nothing about who exists.
    assert client.get(reverse("offenders:detail", args=[offender.pk])).status_code == 403
    assert client.get(reverse("offenders:detail", args=[offender.pk + 10_000])).status_code == 403


@pytest.mark.parametrize(
    "role,agency_kind",
    [
        (Role.KEY_WORKER, None),
        (Role.POLICE_OFFICER, None),
        (Role.YOT_WORKER, None),
        (Role.PRISON_WORKER, "prison"),
    ],
)
def test_roles_with_the_whole_identity_see_identifiers_on_the_profile(
    client, person, role, agency_kind
):
    offender = person["offender"]
    if role == Role.YOT_WORKER:
        # YOT's people are under 18 or DYOs: make this one a DYO.
        ProgrammeEpisodeFactory(offender=offender, kind="dyo", selected_on=dt.date(2024, 2, 1))
    user = staff(role, agency=person[agency_kind]) if agency_kind else staff(role)
    sign_in(client, user)
    page = client.get(reverse("offenders:detail", args=[offender.pk])).content.decode()
    assert PNC_LONG in page and CRN in page and PRISON_NUMBER in page


def test_a_name_with_an_apostrophe_is_shown_escaped_and_found(client, db):
    offender = OffenderFactory(first_name="Qxeoin", last_name="O'Qxbrien")
    ProgrammeEpisodeFactory(offender=offender)
    sign_in(client, staff(Role.PPO_MANAGER))
    page = client.get(reverse("offenders:detail", args=[offender.pk])).content.decode()
    assert html.escape("Qxeoin O'Qxbrien") in page
    response = client.get(reverse("offenders:list"), {"q": "O'Qxbrien"})
    assert response.context["page"].paginator.count == 1


def test_a_user_without_a_role_sees_nobody(client, person):
    sign_in(client, UserFactory())
    for url in _pages_for(person["offender"].pk)[2:5]:
        response = client.get(url)
        assert "Pelloworth" not in _visible_text(response)
    assert not AuditEvent.objects.filter(
        action=AuditAction.VIEW, offender_refs__contains=f",{person['offender'].pk},"
    ).exists()
