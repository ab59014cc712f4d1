"""The access policy against every cell of shared/ACCESS.md.

Part 1 transcribes the table "What they see of a person in scope" independently of
access/policy.py and checks the policy answers the same for every role x record kind.
Part 2 builds a small world of people in every situation the "Who is in scope" table
distinguishes and checks, for every role, exactly who is visible, at the boundary dates,
and that the list filter and the one-person check agree for every person.
"""

from __future__ import annotations

import datetime as dt

import pytest

from access.models import AgencyKind, Membership, Role
from access.policy import (
    Read,
    RecordKind,
    Rows,
    Write,
    actor_for,
    can_change_person,
    can_see_person,
    can_write,
    grant,
    months_before,
    offending_events_q,
    people,
    records_q,
    visible_fields,
)
from offenders.models import (
    Contact,
    CustodyKind,
    DrugTest,
    EventKind,
    OffendingEvent,
    ProgrammeKind,
    years_before,
)
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    MembershipFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    UserFactory,
)

AS_OF = dt.date(2026, 6, 15)
# The boundary dates are written out, not computed with the policy's own date helpers
# (months_before, years_before): a bug in those must not move the fixtures with it.
THREE_MONTHS_BEFORE = dt.date(2026, 3, 15)
EIGHTEEN_YEARS_BEFORE = dt.date(2008, 6, 15)

K = RecordKind
M, KW, POL, PRI, YOT, PAR, STE, ADM = (
    Role.PPO_MANAGER,
    Role.KEY_WORKER,
    Role.POLICE_OFFICER,
    Role.PRISON_WORKER,
    Role.YOT_WORKER,
    Role.PARTNER_WORKER,
    Role.STEERING_GROUP,
    Role.ADMINISTRATOR,
)

# ACCESS.md, transcribed cell by cell: (read, write, rows qualifier).
# "RW" = read + write; "R" = read; "C" = counts; "-" = nothing.
ACCESS_MD = {
    K.IDENTITY: {M: "RW", KW: "R", POL: "RW", PRI: "R", YOT: "RW", PAR: "R fields"},
    K.OFFENDING: {M: "RW", KW: "R", POL: "RW", PRI: "R", YOT: "RW", PAR: "C"},
    K.INTELLIGENCE: {M: "RW", KW: "C", POL: "RW", PRI: "-", YOT: "R", PAR: "-"},
    K.CUSTODY: {M: "RW", KW: "RW", POL: "R", PRI: "RW", YOT: "RW", PAR: "R fields"},
    K.CONTACTS: {M: "RW", KW: "RW", POL: "RW", PRI: "RW own", YOT: "RW", PAR: "RW own"},
    K.DRUG_TESTS: {M: "RW", KW: "RW", POL: "R", PRI: "RW", YOT: "RW", PAR: "R treatment"},
    K.PATHWAYS: {M: "RW", KW: "RW", POL: "R", PRI: "R", YOT: "RW", PAR: "R, W own served"},
    K.CONFERENCES: {M: "RW", KW: "R", POL: "R", PRI: "R attended", YOT: "R", PAR: "R attended"},
    K.SELECTION: {M: "RW", KW: "R", POL: "R", PRI: "-", YOT: "R", PAR: "-"},
    K.AUDIT_LOG: {M: "R", KW: "-", POL: "-", PRI: "-", YOT: "-", PAR: "-", ADM: "R"},
}


def _expected(cell: str) -> tuple[Read, Write, Rows]:
    read = {"R": Read.FULL, "C": Read.COUNT, "-": Read.NONE}[cell[0]]
    write = Write.NONE
    if cell.startswith("RW"):
        write = Write.OWN_AGENCY if "own" in cell else Write.ALL
    if cell == "R, W own served":
        write = Write.OWN_AGENCY
    rows = Rows.ALL
    if cell.endswith(" own"):
        rows = Rows.OWN_AGENCY
    if "attended" in cell:
        rows = Rows.ATTENDED
    return read, write, rows


def _actor(role: str, agency_kind: str = "", as_of: dt.date = AS_OF):
    from tests.factories import ROLE_DEFAULT_AGENCY

    kind = agency_kind or ROLE_DEFAULT_AGENCY[role]
    agency = AgencyFactory(name=f"{kind} for {role}", kind=kind)
    membership = MembershipFactory(role=role, agency=agency)
    return actor_for(membership.user, as_of)


ALL_ROLES = [M, KW, POL, PRI, YOT, PAR, STE, ADM]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_cell_of_the_access_table(role: str, kind: RecordKind) -> None:
    # The partner cells are checked for a treatment agency (drug tests: "treatment only").
    actor = _actor(role, AgencyKind.TREATMENT if role == PAR else "")
    cell = ACCESS_MD[kind].get(role, "-")
    read, write, rows = _expected(cell)
    g = grant(actor, kind)
    assert (g.read, g.write, g.rows) == (read, write, rows), (
        f"{role} / {kind}: ACCESS.md says {cell}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "agency_kind", [AgencyKind.HOUSING, AgencyKind.ETE, AgencyKind.VOLUNTARY, AgencyKind.HEALTH]
)
def test_partners_other_than_treatment_see_no_drug_tests(agency_kind: str) -> None:
    actor = _actor(PAR, agency_kind)
    assert grant(actor, K.DRUG_TESTS).read == Read.NONE


# ACCESS.md: a partner sees "name, DOB, contact details" of identity and "in custody yes/no,
# release date" of custody — transcribed here as field names, exactly (no extra field passes).
PARTNER_MAY_SEE = {
    K.IDENTITY: {"id", "first_name", "last_name", "full_name", "date_of_birth", "age"}
    | {"address", "phone"},
    K.CUSTODY: {"id", "in_custody", "expected_release_on", "released_on"},
}
# Fields that identify a person to another agency's systems, or say how they are managed:
# never a partner's (ACCESS.md), whatever else is added to the record later.
NEVER_PARTNERS = {
    "pnc_id", "cro_number", "prison_number", "crn", "local_ref", "aliases", "status",
    "strands", "tier", "iom_grade", "mappa_level", "key_worker", "started_on", "kind",
    "establishment",
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "agency_kind",
    [AgencyKind.TREATMENT, AgencyKind.HOUSING, AgencyKind.LOCAL_AUTHORITY, AgencyKind.HEALTH],
)
def test_partner_sees_exactly_name_dob_and_contact_details_and_custody_yes_no(
    agency_kind: str,
) -> None:
    actor = _actor(PAR, agency_kind)
    for kind, allowed in PARTNER_MAY_SEE.items():
        assert visible_fields(actor, kind) == allowed
        assert not visible_fields(actor, kind) & NEVER_PARTNERS


@pytest.mark.django_db
@pytest.mark.parametrize("role", [M, KW, POL, PRI, YOT])
def test_full_readers_see_every_identifier(role: str) -> None:
    identity = visible_fields(_actor(role), K.IDENTITY)
    assert {
        "pnc_id",
        "crn",
        "prison_number",
        "cro_number",
        "status",
        "strands",
        "tier",
        "iom_grade",
    } <= identity
    assert {"started_on", "establishment", "kind"} <= visible_fields(_actor(role), K.CUSTODY)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [STE, ADM])
def test_steering_and_administrators_see_no_field_of_anyone(role: str) -> None:
    actor = _actor(role)
    assert visible_fields(actor, K.IDENTITY) == frozenset()
    assert visible_fields(actor, K.CUSTODY) == frozenset()


def test_the_date_helpers_agree_with_the_written_out_boundaries() -> None:
    assert months_before(AS_OF, 3) == THREE_MONTHS_BEFORE
    assert years_before(AS_OF, 18) == EIGHTEEN_YEARS_BEFORE
    assert months_before(dt.date(2026, 5, 31), 3) == dt.date(2026, 2, 28)
    assert years_before(dt.date(2024, 2, 29), 18) == dt.date(2006, 2, 28)


@pytest.mark.django_db
def test_no_membership_means_nothing() -> None:
    user = UserFactory()
    actor = actor_for(user, AS_OF)
    OffenderFactory()
    assert all(grant(actor, kind).read == Read.NONE for kind in RecordKind)
    assert not people(actor).exists()


# --- Part 2: who is in scope ---------------------------------------------------------------


@pytest.fixture
def world(db):
    """People in each situation ACCESS.md distinguishes, with their names as keys."""
    prison_a = AgencyFactory(name="HMP A", kind=AgencyKind.PRISON)
    prison_b = AgencyFactory(name="HMP B", kind=AgencyKind.PRISON)
    treatment = AgencyFactory(name="Treatment T", kind=AgencyKind.TREATMENT)
    housing = AgencyFactory(name="Housing H", kind=AgencyKind.HOUSING)
    adult = dt.date(1990, 5, 5)
    p: dict[str, object] = {}

    def person(name: str, dob: dt.date = adult):
        p[name] = OffenderFactory(first_name=name, last_name="Test", date_of_birth=dob)
        return p[name]

    def ppo(o, **kw):
        return ProgrammeEpisodeFactory(offender=o, kind=ProgrammeKind.PPO, **kw)

    ppo(person("ppo_current"))
    ppo(person("ppo_former"), deselected_on=dt.date(2025, 3, 1), deselection_reason="moved_area")
    ppo(person("ppo_selected_tomorrow"), selected_on=AS_OF + dt.timedelta(days=1))
    ProgrammeEpisodeFactory(
        offender=person("dyo_adult_open", dt.date(2007, 1, 1)), kind=ProgrammeKind.DYO
    )
    ProgrammeEpisodeFactory(
        offender=person("dyo_adult_closed", dt.date(2007, 1, 1)),
        kind=ProgrammeKind.DYO,
        deselected_on=dt.date(2026, 1, 1),
    )
    ProgrammeEpisodeFactory(
        offender=person("dyo_closing_today", dt.date(2007, 1, 1)),
        kind=ProgrammeKind.DYO,
        deselected_on=AS_OF,
    )
    # 18th birthday boundaries (ACCESS.md YOT: "people under 18 today").
    person("turns_18_today", EIGHTEEN_YEARS_BEFORE)
    person("turns_18_tomorrow", EIGHTEEN_YEARS_BEFORE + dt.timedelta(days=1))
    person("pool_adult")

    ppo(o := person("ppo_in_a"))
    CustodyEpisodeFactory(offender=o, establishment=prison_a, started_on=dt.date(2026, 1, 1))
    ppo(o := person("ppo_released_a_inside_3_months"))
    CustodyEpisodeFactory(
        offender=o,
        establishment=prison_a,
        started_on=dt.date(2025, 1, 1),
        released_on=THREE_MONTHS_BEFORE + dt.timedelta(days=1),
    )
    ppo(o := person("ppo_released_a_exactly_3_months"))
    CustodyEpisodeFactory(
        offender=o,
        establishment=prison_a,
        started_on=dt.date(2025, 1, 1),
        released_on=THREE_MONTHS_BEFORE,
    )
    ppo(o := person("ppo_in_b"))
    CustodyEpisodeFactory(offender=o, establishment=prison_b, started_on=dt.date(2026, 1, 1))
    o = person("pool_in_a")
    CustodyEpisodeFactory(offender=o, establishment=prison_a, started_on=dt.date(2026, 1, 1))
    ppo(
        o := person("former_ppo_in_a"),
        deselected_on=dt.date(2026, 2, 1),
        deselection_reason="long_custody",
    )
    CustodyEpisodeFactory(
        offender=o,
        establishment=prison_a,
        started_on=dt.date(2026, 1, 1),
        kind=CustodyKind.SENTENCE,
    )

    ReferralFactory(offender=person("referred_open_t"), agency=treatment)
    ReferralFactory(
        offender=person("referred_closed_inside_3_months_t"),
        agency=treatment,
        closed_on=THREE_MONTHS_BEFORE + dt.timedelta(days=1),
    )
    ReferralFactory(
        offender=person("referred_closed_exactly_3_months_t"),
        agency=treatment,
        closed_on=THREE_MONTHS_BEFORE,
    )
    ReferralFactory(offender=person("referred_closed_today_t"), agency=treatment, closed_on=AS_OF)
    ReferralFactory(offender=person("referred_open_h"), agency=housing)
    return {"people": p, "prison_a": prison_a, "treatment": treatment, "housing": housing}


EVERYONE = {
    "ppo_current", "ppo_former", "ppo_selected_tomorrow", "dyo_adult_open", "dyo_adult_closed",
    "dyo_closing_today", "turns_18_today", "turns_18_tomorrow", "pool_adult", "ppo_in_a",
    "ppo_released_a_inside_3_months", "ppo_released_a_exactly_3_months", "ppo_in_b", "pool_in_a",
    "former_ppo_in_a", "referred_open_t", "referred_closed_inside_3_months_t",
    "referred_closed_exactly_3_months_t", "referred_closed_today_t", "referred_open_h",
}  # fmt: skip
SCHEME = {
    "ppo_current", "ppo_former", "dyo_adult_open", "dyo_adult_closed", "dyo_closing_today",
    "ppo_in_a", "ppo_released_a_inside_3_months", "ppo_released_a_exactly_3_months", "ppo_in_b",
    "former_ppo_in_a",
}  # fmt: skip

EXPECTED_SCOPE = {
    M: (EVERYONE, EVERYONE),
    POL: (EVERYONE, EVERYONE),
    KW: (SCHEME, SCHEME),
    PRI: (
        {"ppo_in_a", "ppo_released_a_inside_3_months", "former_ppo_in_a"},
        {"ppo_in_a", "ppo_released_a_inside_3_months", "former_ppo_in_a"},
    ),
    YOT: ({"dyo_adult_open", "turns_18_tomorrow"}, {"dyo_adult_open", "turns_18_tomorrow"}),
    # Partners read for 3 months after a referral closes, but write only while it is open.
    PAR: (
        {"referred_open_t", "referred_closed_inside_3_months_t", "referred_closed_today_t"},
        {"referred_open_t"},
    ),
    STE: (set(), set()),
    ADM: (set(), set()),
}


def _staff(role: str, world: dict, as_of: dt.date = AS_OF):
    agency = {PRI: world["prison_a"], PAR: world["treatment"]}.get(role)
    kwargs = {"role": role}
    if agency is not None:
        kwargs["agency"] = agency
    return actor_for(MembershipFactory(**kwargs).user, as_of)


def _names(qs) -> set[str]:
    return set(qs.values_list("first_name", flat=True))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_who_is_in_scope(role: str, world: dict) -> None:
    actor = _staff(role, world)
    readable, writable = EXPECTED_SCOPE[role]
    assert _names(people(actor)) == readable
    assert _names(people(actor, write=True)) == writable


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_filter_and_single_check_agree_for_every_person(role: str, world: dict) -> None:
    actor = _staff(role, world)
    listed = set(people(actor).values_list("pk", flat=True))
    listed_w = set(people(actor, write=True).values_list("pk", flat=True))
    for offender in world["people"].values():
        assert can_see_person(actor, offender.pk) == (offender.pk in listed), offender.first_name
        assert can_change_person(actor, offender.pk) == (offender.pk in listed_w), (
            offender.first_name
        )


def test_a_change_of_fact_changes_access_at_once(world: dict) -> None:
    """An 18th birthday, a referral closing, a release, a membership ending."""
    yot = MembershipFactory(role=YOT)
    teen = world["people"]["turns_18_tomorrow"]
    assert can_see_person(actor_for(yot.user, AS_OF), teen.pk)
    assert not can_see_person(actor_for(yot.user, AS_OF + dt.timedelta(days=1)), teen.pk)

    partner = _staff(PAR, world)
    referred = world["people"]["referred_open_t"]
    assert can_change_person(partner, referred.pk)
    referred.referrals.update(closed_on=AS_OF)
    assert not can_change_person(partner, referred.pk)
    assert can_see_person(partner, referred.pk)  # still readable for 3 months

    prison = _staff(PRI, world)
    inside = world["people"]["ppo_in_a"]
    inside.custody.update(released_on=THREE_MONTHS_BEFORE)
    assert not can_see_person(prison, inside.pk)

    kw = MembershipFactory(role=KW)
    assert can_see_person(actor_for(kw.user, AS_OF), world["people"]["ppo_current"].pk)
    Membership.objects.filter(pk=kw.pk).update(ended_on=AS_OF)
    assert not can_see_person(actor_for(kw.user, AS_OF), world["people"]["ppo_current"].pk)


def test_explicit_grant_adds_one_person_for_reading_only(world: dict) -> None:
    from guardian.shortcuts import assign_perm

    kw = _staff(KW, world)
    outsider = world["people"]["pool_adult"]
    assert not can_see_person(kw, outsider.pk)
    assign_perm("offenders.view_offender", kw.user, outsider)
    assert can_see_person(kw, outsider.pk)
    assert not can_change_person(kw, outsider.pk)


# --- Part 3: records of a person in scope ---------------------------------------------------


def test_prison_and_partner_see_only_their_own_agencys_contacts(world: dict) -> None:
    ppo_in_a = world["people"]["ppo_in_a"]
    referred = world["people"]["referred_open_t"]
    prison_contact = ContactFactory(offender=ppo_in_a, agency=world["prison_a"])
    ContactFactory(offender=ppo_in_a)  # probation's contact
    partner_contact = ContactFactory(offender=referred, agency=world["treatment"])
    ContactFactory(offender=referred, agency=world["housing"])

    prison = _staff(PRI, world)
    visible = Contact.objects.filter(records_q(prison, K.CONTACTS, "offenders.contact"))
    assert list(visible) == [prison_contact]
    partner = _staff(PAR, world)
    visible = Contact.objects.filter(records_q(partner, K.CONTACTS, "offenders.contact"))
    assert list(visible) == [partner_contact]
    assert (
        Contact.objects.filter(
            records_q(_staff(KW, world), K.CONTACTS, "offenders.contact")
        ).count()
        == 2
    )

    assert can_write(partner, K.CONTACTS, referred.pk, record_agency_id=world["treatment"].pk)
    assert not can_write(partner, K.CONTACTS, referred.pk, record_agency_id=world["housing"].pk)


def test_intelligence_is_for_police_and_the_manager_counts_for_the_key_worker(
    world: dict,
) -> None:
    ppo = world["people"]["ppo_current"]
    intel = OffendingEventFactory(offender=ppo, kind=EventKind.INTELLIGENCE, category=None)
    arrest = OffendingEventFactory(offender=ppo, kind=EventKind.ARREST)

    def rows(role: str, count_only: bool = False) -> set[int]:
        actor = _staff(role, world)
        return set(
            OffendingEvent.objects.filter(
                offending_events_q(actor, count_only=count_only)
            ).values_list("pk", flat=True)
        )

    assert rows(M) == rows(POL) == {intel.pk, arrest.pk}
    assert rows(KW) == {arrest.pk}
    assert rows(KW, count_only=True) == {intel.pk, arrest.pk}
    assert rows(STE) == rows(ADM) == set()


def test_yot_reads_intelligence_on_their_people_only(world: dict) -> None:
    """004 §5.1: police and YOT share intelligence on Deter Young Offenders."""
    dyo = world["people"]["dyo_adult_open"]
    adult_ppo = world["people"]["ppo_current"]
    on_dyo = OffendingEventFactory(offender=dyo, kind=EventKind.INTELLIGENCE, category=None)
    OffendingEventFactory(offender=adult_ppo, kind=EventKind.INTELLIGENCE, category=None)
    yot = _staff(YOT, world)
    visible = OffendingEvent.objects.filter(offending_events_q(yot), kind=EventKind.INTELLIGENCE)
    assert list(visible.values_list("pk", flat=True)) == [on_dyo.pk]


def test_treatment_partner_reads_drug_tests_housing_partner_does_not(world: dict) -> None:
    ppo = world["people"]["ppo_current"]
    ReferralFactory(offender=ppo, agency=world["treatment"])
    ReferralFactory(offender=ppo, agency=world["housing"])
    DrugTestFactory(offender=ppo)
    treatment = _staff(PAR, world)
    housing = actor_for(MembershipFactory(role=PAR, agency=world["housing"]).user, AS_OF)
    label = "offenders.drugtest"
    assert DrugTest.objects.filter(records_q(treatment, K.DRUG_TESTS, label)).count() == 1
    assert DrugTest.objects.filter(records_q(housing, K.DRUG_TESTS, label)).count() == 0


def test_partner_writes_needs_only_on_pathways_their_agency_serves(world: dict) -> None:
    from pathways.models import Pathway

    drugs = Pathway.objects.get(code="drugs_alcohol")
    housing_pathway = Pathway.objects.get(code="accommodation")
    world["treatment"].pathways_served.add(drugs)
    partner = _staff(PAR, world)
    referred = world["people"]["referred_open_t"]
    agency = world["treatment"].pk
    assert can_write(partner, K.PATHWAYS, referred.pk, record_agency_id=agency, pathway_id=drugs.pk)
    assert not can_write(
        partner, K.PATHWAYS, referred.pk, record_agency_id=agency, pathway_id=housing_pathway.pk
    )


def test_someone_only_ever_on_the_iom_tier_is_not_a_key_workers(db) -> None:
    """ACCESS.md: key workers see current and former PPOs and DYOs. The IOM tier (003 §4.6)
    is neither, unless the person was a PPO before (a step-down)."""
    iom_only = OffenderFactory(first_name="iom_only")
    ProgrammeEpisodeFactory(
        offender=iom_only, kind=ProgrammeKind.IOM, selected_on=dt.date(2026, 1, 1)
    )
    stepped_down = OffenderFactory(first_name="stepped_down")
    ProgrammeEpisodeFactory(
        offender=stepped_down,
        kind=ProgrammeKind.PPO,
        selected_on=dt.date(2025, 1, 1),
        deselected_on=dt.date(2026, 1, 1),
        deselection_reason="stepped_down",
        exit_route="iom",
    )
    ProgrammeEpisodeFactory(
        offender=stepped_down, kind=ProgrammeKind.IOM, selected_on=dt.date(2026, 1, 1)
    )
    key_worker = actor_for(MembershipFactory(role=KW).user, AS_OF)
    assert _names(people(key_worker)) == {"stepped_down"}
