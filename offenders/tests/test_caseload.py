"""The caseload home page: this week's compliance per person, filters, server-side sorting,
bad query parameters, the audit row and a query count that does not grow with the list."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from access.policy import IDENTITY_FIELDS
from offenders.caseload import caseload_page, read_caseload_query
from offenders.models import (
    ContactOutcome,
    CustodyKind,
    IomGrade,
    ProgrammeKind,
    Strand,
    Supervision,
)
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2025, 6, 18)  # a Wednesday; the week runs from Monday 16 June


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def on_18_june(time_machine):
    time_machine.move_to(local(2025, 6, 18, 12, 0), tick=False)


def ppo(key_worker, last_name, **fields):
    person = OffenderFactory(key_worker=key_worker, last_name=last_name, **fields)
    ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO)
    return person


@pytest.fixture
def scheme(db):
    kw = staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")
    other = staff(Role.KEY_WORKER, username="kw2", first_name="Olu", last_name="Other")
    adams = ppo(
        kw, "Adams", first_name="Ann", strands=[Strand.CATCH_CONVICT], iom_grade=IomGrade.RED
    )
    for day in (16, 17, 18):
        ContactFactory(offender=adams, worker=kw, occurred_at=local(2025, 6, day, 9))
    ContactFactory(
        offender=adams, worker=kw, occurred_at=local(2025, 6, 17, 14), outcome=ContactOutcome.FAILED
    )

    baker = ppo(
        kw,
        "Baker",
        first_name="Ben",
        strands=[Strand.REHABILITATE_RESETTLE],
        iom_grade=IomGrade.AMBER,
        supervision=Supervision.LICENCE,
    )
    ContactFactory(offender=baker, worker=kw, occurred_at=local(2025, 6, 13, 9))
    ContactFactory(
        offender=baker, worker=kw, occurred_at=local(2025, 6, 16, 9), outcome=ContactOutcome.EXCUSED
    )
    DrugTestFactory(offender=baker, tested_at=local(2025, 6, 17, 10))

    cole = ppo(
        kw,
        "Cole",
        first_name="Cat",
        strands=[Strand.REHABILITATE_RESETTLE],
        iom_grade=IomGrade.BLUE,
    )
    CustodyEpisodeFactory(offender=cole, started_on=dt.date(2025, 1, 1))

    dunn = ppo(
        kw, "Dunn", first_name="Dee", strands=[Strand.PREVENT_DETER], iom_grade=IomGrade.GREEN
    )
    CustodyEpisodeFactory(
        offender=dunn,
        kind=CustodyKind.REMAND,
        started_on=dt.date(2025, 6, 17),
        sentence_length_months=None,
    )
    for hour in (8, 9, 10, 11):
        ContactFactory(offender=dunn, worker=kw, occurred_at=local(2025, 6, 16, hour))

    evans = ppo(other, "Evans", first_name="Eli", strands=[Strand.CATCH_CONVICT])
    pool = OffenderFactory(last_name="Pool", first_name="Pat")  # not on the scheme
    return {
        "kw": kw,
        "other": other,
        "adams": adams,
        "baker": baker,
        "cole": cole,
        "dunn": dunn,
        "evans": evans,
        "pool": pool,
    }


def get_home(client, user, **params):
    sign_in(client, user)
    return client.get(reverse("home"), params)


def names(response) -> list[str]:
    return [row.offender.last_name for row in response.context["caseload"].rows]


def by_name(response) -> dict:
    return {row.offender.last_name: row for row in response.context["caseload"].rows}


# --- What a key worker sees -------------------------------------------------------------------


def test_key_worker_sees_their_people_with_this_weeks_compliance(client, scheme):
    response = get_home(client, scheme["kw"])
    assert response.status_code == 200
    # By need: Baker 0 of 4, Adams 3 of 4, Dunn 4 of 4, Cole in custody (no target) last.
    assert names(response) == ["Baker", "Adams", "Dunn", "Cole"]
    rows = by_name(response)
    assert rows["Adams"].offender.current_status == "community"
    assert rows["Adams"].this_week.contacts.shown == "3 of 4"
    assert rows["Adams"].this_week.failed == 1
    assert rows["Adams"].this_week.drug_tests.shown == "n/a"
    assert rows["Baker"].this_week.contacts.shown == "0 of 4"
    assert rows["Baker"].this_week.excused == 1
    assert rows["Baker"].this_week.drug_tests.shown == "1 of 2"
    assert rows["Cole"].offender.current_status == "custody"
    assert rows["Cole"].this_week.contacts.not_applicable_because == "In custody all week"
    # Remanded on Tuesday: in the community on Monday, so still assessed this week.
    assert rows["Dunn"].offender.current_status == "remand"
    assert rows["Dunn"].this_week.contacts.shown == "4 of 4"
    assert [rows[n].days_since_contact for n in ("Adams", "Baker", "Cole", "Dunn")] == [
        0,
        5,
        None,
        2,
    ]


def test_caseload_page_states_ratings_in_words(client, scheme):
    page = get_home(client, scheme["kw"]).content.decode()
    assert "My caseload" in page
    assert "Evans" not in page and "Pool" not in page
    assert "3 of 4" in page and "Amber – half or more" in page
    assert "0 of 4" in page and "Red – below half" in page
    assert "4 of 4" in page and "Green – target met" in page
    assert "In custody all week" in page
    assert "1 acceptable absence" in page and "1 failed to attend" in page
    assert "Today" in page and "5 days ago" in page and "No contact" in page
    assert 'scope="row"' in page
    assert "Key worker</th>" not in page  # they are all theirs
    assert reverse("offenders:compliance") in page


def test_one_audit_row_per_view_with_every_id(client, scheme):
    get_home(client, scheme["kw"])
    event = AuditEvent.objects.get(action=AuditAction.LIST)
    assert event.detail["view"] == "caseload"
    expected = sorted(scheme[k].pk for k in ("adams", "baker", "cole", "dunn"))
    assert event.offender_ids == expected
    assert event.record_ids == expected


def test_the_audit_holds_only_the_rows_shown_after_filtering(client, scheme):
    get_home(client, scheme["kw"], status="custody")
    event = AuditEvent.objects.get(action=AuditAction.LIST)
    assert event.offender_ids == [scheme["cole"].pk]
    assert event.detail["filters"] == {"status": "custody"}


def test_caseload_page_lists_and_audits_outside_a_request(scheme):
    rows = caseload_page(user=scheme["kw"], as_of=TODAY).offenders
    assert [o.last_name for o in rows] == ["Baker", "Adams", "Dunn", "Cole"]
    assert AuditEvent.objects.filter(action=AuditAction.LIST, detail__view="caseload").count() == 1


# --- Other roles --------------------------------------------------------------------------------


def test_manager_sees_the_whole_scheme_with_key_workers(client, scheme):
    response = get_home(client, staff(Role.PPO_MANAGER))
    # Evans and Baker are both 4 short; Evans has never had a contact, so first.
    assert names(response) == ["Evans", "Baker", "Adams", "Dunn", "Cole"]
    page = response.content.decode()
    assert "Key worker <span" in page and "Kim Walker" in page
    assert 'id="filter-worker"' in page


def test_police_see_the_scheme_with_compliance_but_no_worker_filter(client, scheme):
    response = get_home(client, staff(Role.POLICE_OFFICER))
    assert names(response) == ["Evans", "Baker", "Adams", "Dunn", "Cole"]
    assert response.context["caseload"].shows_compliance
    assert 'id="filter-worker"' not in response.content.decode()


def test_prison_and_partner_staff_get_no_compliance_columns(client, scheme):
    prison = AgencyFactory(name="Prison agency", kind=AgencyKind.PRISON)
    response = get_home(client, staff(Role.PRISON_WORKER, agency=prison), sort="contacts")
    assert response.status_code == 200
    assert names(response) == ["Cole", "Dunn"]
    page = response.content.decode()
    assert "Contacts this week" not in page and "of 4" not in page
    assert "cannot be sorted by “contacts”" in page

    treatment = AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
    ReferralFactory(offender=scheme["baker"], agency=treatment)
    response = get_home(client, staff(Role.PARTNER_WORKER, agency=treatment))
    assert names(response) == ["Baker"]
    assert not response.context["caseload"].shows_compliance
    assert "Drug tests this week" not in response.content.decode()


# --- Filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"strand": Strand.REHABILITATE_RESETTLE}, ["Baker", "Cole"]),
        ({"status": "custody"}, ["Cole"]),
        ({"status": "remand"}, ["Dunn"]),
        ({"status": "community"}, ["Adams", "Baker"]),
        ({"grade": IomGrade.RED}, ["Adams"]),
        ({"grade": IomGrade.RED, "status": "custody"}, []),
    ],
)
def test_filters(client, scheme, params, expected):
    response = get_home(client, scheme["kw"], sort="name", **params)
    assert names(response) == expected
    if not expected:
        assert "No one matches these filters." in response.content.decode()


def test_manager_filters_by_worker(client, scheme):
    manager = staff(Role.PPO_MANAGER)
    response = get_home(client, manager, worker=scheme["other"].pk)
    assert names(response) == ["Evans"]
    choices = response.context["caseload"].worker_choices
    assert choices == [(scheme["other"].pk, "Olu Other"), (scheme["kw"].pk, "Kim Walker")]


def test_worker_filter_is_for_managers_only(client, scheme):
    response = get_home(client, scheme["kw"], worker=scheme["other"].pk)
    assert names(response) == ["Baker", "Adams", "Dunn", "Cole"]
    assert "Filtering by worker is for PPO managers" in response.content.decode()


# --- Sorting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("name", "asc", ["Adams", "Baker", "Cole", "Dunn"]),
        ("name", "desc", ["Dunn", "Cole", "Baker", "Adams"]),
        ("status", "asc", ["Adams", "Baker", "Dunn", "Cole"]),
        ("status", "desc", ["Cole", "Dunn", "Adams", "Baker"]),
        ("strand", "asc", ["Adams", "Dunn", "Baker", "Cole"]),
        ("strand", "desc", ["Baker", "Cole", "Dunn", "Adams"]),
        ("grade", "asc", ["Adams", "Baker", "Dunn", "Cole"]),
        ("grade", "desc", ["Cole", "Dunn", "Baker", "Adams"]),
        # Days since the last attended contact; never contacted is the longest.
        ("last_contact", "asc", ["Adams", "Dunn", "Baker", "Cole"]),
        ("last_contact", "desc", ["Cole", "Baker", "Dunn", "Adams"]),
        # Not applicable (custody, not on licence) comes last either way.
        ("contacts", "asc", ["Baker", "Adams", "Dunn", "Cole"]),
        ("contacts", "desc", ["Dunn", "Adams", "Baker", "Cole"]),
        ("tests", "asc", ["Baker", "Adams", "Cole", "Dunn"]),
        ("tests", "desc", ["Baker", "Adams", "Cole", "Dunn"]),
    ],
)
def test_sorting_by_every_column(client, scheme, sort, direction, expected):
    response = get_home(client, scheme["kw"], sort=sort, dir=direction)
    assert names(response) == expected
    page = response.content.decode()
    aria = "ascending" if direction == "asc" else "descending"
    assert re.search(rf'aria-sort="{aria}" data-sort-key="{sort}"', page)
    assert page.count('aria-sort="none"') == 6  # every other sortable column


def test_a_manager_sorts_by_key_worker(client, scheme):
    response = get_home(client, staff(Role.PPO_MANAGER), sort="key_worker", dir="asc")
    assert names(response) == ["Evans", "Adams", "Baker", "Cole", "Dunn"]


def test_sort_links_keep_the_filters_and_toggle_the_direction(client, scheme):
    response = get_home(client, scheme["kw"], status="community", sort="name", dir="asc")
    columns = {c.key: c for c in response.context["caseload"].columns}
    assert columns["name"].href == "?status=community&sort=name&dir=desc"
    assert columns["contacts"].href == "?status=community&sort=contacts&dir=asc"
    assert columns["strand"].href == "?status=community&sort=strand&dir=asc"
    assert columns["strand"].aria_sort == "none"


# --- Sorted by need, and the "needs action" filters (issue 13.2, 13.3) ------------------------


def test_by_need_ties_go_to_the_longest_since_contact(client, db):
    kw = staff(Role.KEY_WORKER, username="kw")
    # All three 0 of 4 this week: the order is by the last attended contact, oldest first.
    recent = ppo(kw, "Recent")
    ContactFactory(offender=recent, worker=kw, occurred_at=local(2025, 6, 12, 9))
    older = ppo(kw, "Older")
    ContactFactory(offender=older, worker=kw, occurred_at=local(2025, 6, 2, 9))
    never = ppo(kw, "Never")
    # One short of four: less need than any of them, though never contacted before.
    nearly = ppo(kw, "Nearly")
    for day in (16, 17, 18):
        ContactFactory(offender=nearly, worker=kw, occurred_at=local(2025, 6, day, 9))
    assert never and older and recent
    response = get_home(client, kw)
    assert names(response) == ["Never", "Older", "Recent", "Nearly"]
    page = response.content.decode()
    assert "Sorted by need" in page


def test_need_order_reverses_and_the_not_applicable_stay_last(client, scheme):
    response = get_home(client, scheme["kw"], sort="need", dir="desc")
    assert names(response) == ["Dunn", "Adams", "Baker", "Cole"]
    assert 'href="?sort=need&amp;dir=asc">Sort by need</a>' in response.content.decode()


@pytest.mark.parametrize(
    ("need", "expected"),
    [
        # Below either target this week: Adams 3 of 4, Baker 0 of 4 (tests 1 of 2), not Dunn.
        ("below_target", ["Baker", "Adams"]),
        # No attended contact for 14 days: nobody in the key worker's list but ...
        ("no_contact", []),
    ],
)
def test_needs_action_filters(client, scheme, need, expected):
    response = get_home(client, scheme["kw"], need=need)
    assert names(response) == expected
    event = AuditEvent.objects.get(action=AuditAction.LIST)
    assert event.detail["filters"] == {"need": need}


def test_no_contact_counts_never_and_14_days_but_not_13(client, db):
    kw = staff(Role.KEY_WORKER, username="kw")
    ContactFactory(offender=ppo(kw, "Fourteen"), worker=kw, occurred_at=local(2025, 6, 4, 9))
    ContactFactory(offender=ppo(kw, "Thirteen"), worker=kw, occurred_at=local(2025, 6, 5, 9))
    ppo(kw, "Never")
    in_custody = ppo(kw, "Inside")
    CustodyEpisodeFactory(offender=in_custody, started_on=dt.date(2025, 1, 1))
    response = get_home(client, kw, need="no_contact")
    assert names(response) == ["Never", "Fourteen"]


def test_log_contact_is_the_column_beside_the_name_and_sort_arrows_show(client, scheme):
    response = get_home(client, scheme["kw"], sort="name", dir="asc")
    keys = [c.key for c in response.context["caseload"].columns]
    assert keys[:2] == ["name", "actions"]
    page = response.content.decode()
    assert page.count('class="app-sort-arrow"') == 7
    assert re.search(
        r'data-sort-key="name"><a [^>]*>Name <span aria-hidden="true" '
        r'class="app-sort-arrow">&#9650;</span>',
        page,
    )


# --- Bad query parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "shoe_size"}, "cannot be sorted by “shoe_size”, so it is sorted by need"),
        ({"need": "cuddles"}, "“cuddles” is not a need we can list"),
        ({"dir": "sideways"}, "“sideways” is not a sort direction"),
        ({"status": "asleep"}, "“asleep” is not a status"),
        ({"strand": "x" * 500}, "is not a strand"),
        ({"grade": "purple"}, "“purple” is not an IOM grade"),
        ({"sort": "", "dir": ""}, None),
    ],
)
def test_bad_parameters_are_ignored_with_a_message(client, scheme, params, message):
    response = get_home(client, scheme["kw"], **params)
    assert response.status_code == 200
    assert names(response) == ["Baker", "Adams", "Dunn", "Cole"]
    page = response.content.decode()
    if message:
        assert message in page
        assert "could not be used" in page
    else:
        assert "could not be used" not in page


def test_a_bad_direction_keeps_a_good_sort(client, scheme):
    response = get_home(client, scheme["kw"], sort="contacts", dir="sideways")
    assert names(response) == ["Baker", "Adams", "Dunn", "Cole"]


@pytest.mark.parametrize("worker", ["abc", "99999", "-1", "1.5"])
def test_bad_worker_values_for_a_manager(client, scheme, worker):
    response = get_home(client, staff(Role.PPO_MANAGER), worker=worker)
    assert response.status_code == 200
    assert names(response) == ["Evans", "Baker", "Adams", "Dunn", "Cole"]
    assert "so that filter was not applied" in response.content.decode()


def test_reading_the_query_never_raises():
    query = read_caseload_query(
        {"sort": "tests", "dir": "desc", "worker": "3"},
        shows_compliance=False,
        worker_filter=False,
        fields=IDENTITY_FIELDS,
    )
    assert (query.sort, query.direction, query.worker) == ("name", "desc", None)
    assert len(query.ignored) == 2


# --- Query count does not grow with the caseload ---------------------------------------------


def add_people(key_worker, count: int, start: int) -> None:
    for n in range(start, start + count):
        person = OffenderFactory(
            key_worker=key_worker,
            last_name=f"Person{n:04d}",
            supervision=Supervision.LICENCE if n % 2 else Supervision.NONE,
            iom_grade=IomGrade.values[n % 4],
            strands=[Strand.values[n % 3]],
        )
        ProgrammeEpisodeFactory(offender=person)
        if n % 5 == 0:
            CustodyEpisodeFactory(offender=person, started_on=dt.date(2025, 3, 1))
        ContactFactory(offender=person, worker=key_worker, occurred_at=local(2025, 6, 16, 9))
        ContactFactory(
            offender=person,
            worker=key_worker,
            occurred_at=local(2025, 6, 10, 9),
            outcome=ContactOutcome.FAILED,
        )
        DrugTestFactory(offender=person, tested_at=local(2025, 6, 17, 9))


def last_listed() -> int:
    return len(AuditEvent.objects.filter(action=AuditAction.LIST).order_by("-pk")[0].offender_ids)


def queries_for_home(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("home"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.PPO_MANAGER])
def test_query_count_is_the_same_for_5_and_200_people(client, db, role):
    kw = staff(Role.KEY_WORKER, username="kw")
    viewer = kw if role == Role.KEY_WORKER else staff(Role.PPO_MANAGER)
    sign_in(client, viewer)
    add_people(kw, 5, 0)
    client.get(reverse("home"))  # the first view creates the scheme settings row
    with_5 = queries_for_home(client, sort="contacts", dir="desc")
    assert (
        len(AuditEvent.objects.filter(action=AuditAction.LIST).order_by("-pk").first().offender_ids)
        == 5
    )
    add_people(kw, 195, 5)
    with_200 = queries_for_home(client, sort="contacts", dir="desc")
    assert (
        len(AuditEvent.objects.filter(action=AuditAction.LIST).order_by("-pk").first().offender_ids)
        == 200
    )
    assert with_200 == with_5
