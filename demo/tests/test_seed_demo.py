"""`manage.py seed_demo`: the synthetic Stockton-shaped scheme (001 §5.4–5.5, 000 §1.1)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db import models
from django.db.models import Count, Max
from django.utils import timezone

from access.models import (
    PARTNER_AGENCY_KINDS,
    Agency,
    AgencyKind,
    AuditEvent,
    Membership,
    Role,
    Scheme,
)
from access.policy import actor_for, people
from demo import scheme as demo
from demo.management.commands import seed_demo as seed_demo_command
from offenders.models import (
    Contact,
    ContactOutcome,
    CustodyEpisode,
    CustodyKind,
    DrugTest,
    DrugTestResult,
    EventKind,
    IomGrade,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
    Status,
    Strand,
    Supervision,
    years_before,
)
from pathways.models import Referral

pytestmark = pytest.mark.django_db

User = get_user_model()
TABLES: list[type[models.Model]] = [
    Offender,
    OffendingEvent,
    CustodyEpisode,
    ProgrammeEpisode,
    Contact,
    DrugTest,
    Referral,
    Agency,
    Agency.pathways_served.through,
    Membership,
    User,
    User.user_permissions.through,
    Scheme,
    AuditEvent,
]


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in TABLES}


def current_ppos(today: dt.date):
    on_scheme = ProgrammeEpisode.objects.open_on(today).filter(kind=ProgrammeKind.PPO)
    return Offender.objects.filter(pk__in=on_scheme.values("offender")).with_status(today)


def printed_password(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("Password"))
    return line.split(": ", 1)[1]


def test_demo_scheme_has_the_stockton_shape_and_the_ten_percent_who_commit_half():
    demo.seed_demo(1)
    today = timezone.localdate()

    # 001 §5.4: 41 PPOs: 9 + 8 in the community, 23 in custody, 1 on remand.
    assert ProgrammeEpisode.objects.open_on(today).filter(kind=ProgrammeKind.PPO).count() == 41
    ppos = current_ppos(today)
    status_of = dict(ppos.values_list("pk", "current_status"))
    assert Counter(status_of.values()) == {
        Status.COMMUNITY: 17,
        Status.CUSTODY: 23,
        Status.REMAND: 1,
    }
    community = Offender.objects.filter(
        pk__in=[pk for pk, status in status_of.items() if status == Status.COMMUNITY]
    )
    inside = Offender.objects.filter(
        pk__in=[pk for pk, status in status_of.items() if status != Status.COMMUNITY]
    )
    supervised = [Supervision.COMMUNITY_ORDER, Supervision.LICENCE]
    assert community.filter(supervision__in=supervised).count() == 9
    assert community.filter(supervision=Supervision.NONE).count() == 8
    # 001 §5.5: 7 of them on CRASBOs.
    assert ppos.filter(crasbo=True).count() == 7

    # Those in custody are serving sentences in a prison; the remand is a remand.
    open_custody = CustodyEpisode.objects.open_on(today).filter(offender__in=ppos)
    assert open_custody.filter(kind=CustodyKind.SENTENCE).count() == 23
    assert open_custody.filter(kind=CustodyKind.REMAND).count() == 1
    assert not open_custody.exclude(establishment__kind=AgencyKind.PRISON).exists()
    assert open_custody.values("establishment").distinct().count() == 2

    # Every PPO has a key worker (8–15 each), a police officer, a strand and a grade
    # consistent with where they are.
    per_worker = ppos.values("key_worker__username").annotate(n=Count("pk"))
    assert {row["key_worker__username"] for row in per_worker} == set(demo.KEY_WORKERS)
    assert all(8 <= row["n"] <= 15 for row in per_worker)
    assert not ppos.filter(police_officer__isnull=True).exists()
    assert set(ppos.values_list("strand", flat=True)) == {
        Strand.CATCH_CONVICT,
        Strand.REHABILITATE_RESETTLE,
    }
    assert set(inside.values_list("iom_grade", flat=True)) == {IomGrade.BLUE}
    assert set(community.values_list("iom_grade", flat=True)) == {
        IomGrade.RED,
        IomGrade.AMBER,
        IomGrade.GREEN,
    }
    assert ppos.filter(dip_client=True).exists() and ppos.filter(dip_client=False).exists()
    assert ppos.filter(mappa_level__isnull=False).exists()
    assert not ppos.filter(crn="").exists()
    in_custody_ever = ppos.filter(custody__isnull=False).distinct()
    assert not in_custody_ever.filter(prison_number="").exists()

    # Former PPOs, de-selected for a reason and by an exit route.
    former = ProgrammeEpisode.objects.filter(kind=ProgrammeKind.PPO, deselected_on__isnull=False)
    assert former.count() >= 5
    assert not former.filter(deselection_reason="").exists()
    assert not former.filter(exit_route="").exists()

    # DYOs: under 18, Prevent and Deter, some with Asset scores and a scaled approach.
    dyos = Offender.objects.filter(episodes__kind=ProgrammeKind.DYO)
    assert dyos.count() >= 4
    assert dyos.under_18_on(today).count() == dyos.count()
    assert set(dyos.values_list("strand", flat=True)) == {Strand.PREVENT_DETER}
    assert dyos.filter(asset_score__isnull=False).exclude(scaled_approach="").exists()

    # A pool of other known offenders, and the adults mostly 19–45.
    pool = Offender.objects.filter(episodes__isnull=True)
    assert 1400 <= pool.count() <= 1600
    adults = Offender.objects.exclude(date_of_birth__gt=years_before(today, 18))
    young_adults = adults.filter(
        date_of_birth__lte=years_before(today, 19), date_of_birth__gt=years_before(today, 46)
    )
    assert young_adults.count() > 0.7 * adults.count()

    # 000 §1.1: the top 10% of known offenders by events hold about half the events.
    counts = sorted(
        Offender.objects.annotate(n=Count("events")).values_list("n", flat=True), reverse=True
    )
    assert min(counts) >= 1
    top = sum(counts[: len(counts) // 10])
    assert 0.4 <= top / sum(counts) <= 0.6

    # PPOs offend more than most of the pool, but some of the pool out-offend some PPOs.
    ppo_counts = sorted(ppos.annotate(n=Count("events")).values_list("n", flat=True))
    pool_counts = sorted(pool.annotate(n=Count("events")).values_list("n", flat=True))
    assert ppo_counts[len(ppo_counts) // 2] > pool_counts[int(len(pool_counts) * 0.95)]
    assert sum(1 for n in pool_counts if n > ppo_counts[0]) >= 3

    # Several years of history, weighted to acquisitive crime, from the police.
    events = OffendingEvent.objects.all()
    assert set(events.values_list("kind", flat=True)) == {
        EventKind.ARREST,
        EventKind.CHARGE,
        EventKind.CONVICTION,
        EventKind.CAUTION,
        EventKind.INTELLIGENCE,
    }
    assert events.filter(occurred_on__lt=today - dt.timedelta(days=4 * 365)).exists()
    assert events.aggregate(last=Max("recorded_on"))["last"] <= today
    with_category = events.exclude(category=None)
    acquisitive = with_category.filter(category__acquisitive=True).count()
    assert acquisitive > 0.6 * with_category.count()
    assert set(events.values_list("source_agency__kind", flat=True)) == {AgencyKind.POLICE}
    assert events.values("source_reference").distinct().count() == events.count(), (
        "source references are unique"
    )

    # The first people are the ones the plan describes: data follows from the seed.
    categories = list(OffenceCategory.objects.order_by("name"))
    plan = demo.build_plan(1, [c.name for c in categories], [c.acquisitive for c in categories])
    for person in plan.people[:5]:
        offender = Offender.objects.get(local_ref=person.local_ref(1))
        assert (offender.first_name, offender.last_name) == (person.first_name, person.last_name)
        assert offender.events.count() == len(person.events)


def test_every_demo_login_signs_in_and_each_role_has_people_to_see():
    result = demo.seed_demo(1)
    today = timezone.localdate()
    # Seeding is nobody consulting anybody: no audit rows.
    assert not AuditEvent.objects.exists()

    assert len(result.password) >= 12
    validate_password(result.password)
    usernames = {login.username for login in result.logins}
    assert {
        "manager",
        "keyworker1",
        "keyworker2",
        "police",
        "prison.eastmoor",
        "prison.ravensgate",
        "yot",
        "partner.treatment",
        "partner.housing",
        "partner.ete",
        "partner.voluntary",
        "partner.health",
        "steering",
        "admin",
    } <= usernames
    for username in usernames:
        user = authenticate(username=username, password=result.password)
        assert user is not None, username
        assert user.memberships.active_on(today).count() == 1
    assert authenticate(username="manager", password="not-the-password") is None
    assert User.objects.get(username="admin").is_staff
    assert User.objects.get(username="manager").is_staff
    assert not User.objects.get(username="keyworker1").is_staff

    # Every role and every agency kind is represented.
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert set(Agency.objects.values_list("kind", flat=True)) == set(AgencyKind.values)
    assert Agency.objects.filter(kind=AgencyKind.PRISON).count() >= 2
    treatment = Agency.objects.get(kind=AgencyKind.TREATMENT)
    assert list(treatment.pathways_served.values_list("code", flat=True)) == ["drugs_alcohol"]
    voluntary = Agency.objects.get(kind=AgencyKind.VOLUNTARY)
    assert set(voluntary.pathways_served.values_list("code", flat=True)) == {
        "attitudes",
        "families",
    }
    for agency in Agency.objects.filter(kind__in=PARTNER_AGENCY_KINDS):
        assert agency.pathways_served.exists(), agency
        assert Referral.objects.open_on(today).filter(agency=agency).exists(), agency
        # Referrals are on a pathway the agency serves.
        served = set(agency.pathways_served.values_list("pk", flat=True))
        assert set(agency.referrals.values_list("pathway", flat=True)) <= served, agency

    # Each prison has PPOs inside and PPOs released from it within the last three months.
    for prison in Agency.objects.filter(kind=AgencyKind.PRISON):
        episodes = CustodyEpisode.objects.filter(
            establishment=prison, offender__episodes__kind=ProgrammeKind.PPO
        )
        assert episodes.open_on(today).exists(), prison
        assert episodes.filter(released_on__gt=today - dt.timedelta(days=85)).exists(), prison

    # The access policy finds someone for every role that works with named people.
    for login in result.logins:
        if login.role in (Role.STEERING_GROUP, Role.ADMINISTRATOR):
            continue
        actor = actor_for(User.objects.get(username=login.username), today)
        assert people(actor).exists(), login.username

    # Recent contacts and drug tests with mixed outcomes, by the key worker, in the past.
    recent = timezone.now() - dt.timedelta(days=22)
    contacts = Contact.objects.filter(occurred_at__gte=recent, agency__kind=AgencyKind.PROBATION)
    assert set(contacts.values_list("outcome", flat=True)) == set(ContactOutcome.values)
    assert contacts.count() >= 60
    assert all(c.worker_id == c.offender.key_worker_id for c in contacts.select_related("offender"))
    assert not Contact.objects.filter(occurred_at__gt=timezone.now()).exists()
    results = set(DrugTest.objects.filter(tested_at__gte=recent).values_list("result", flat=True))
    assert {DrugTestResult.NEGATIVE, DrugTestResult.POSITIVE} <= results
    scheme = Scheme.objects.get(name=demo.SCHEME_NAME)
    assert (scheme.capacity_min, scheme.capacity_max) == (40, 60)

    # The manager's caseload shows green, amber and red contact compliance this week,
    # whatever day of the week the demo is loaded.
    from offenders.caseload import caseload_page
    from offenders.compliance import Rag

    rows = caseload_page(user=User.objects.get(username="manager")).rows
    marks = {
        row.this_week.contacts.rag
        for row in rows
        if row.this_week is not None and row.this_week.contacts.applies
    }
    assert {Rag.GREEN, Rag.AMBER, Rag.RED} <= marks


def test_every_demo_record_passes_model_validation():
    demo.seed_demo(1)

    def clean_all(rows) -> int:
        n = 0
        for row in rows:
            row.full_clean()
            n += 1
        return n

    named = Offender.objects.filter(episodes__isnull=False).distinct()
    pool_sample = Offender.objects.filter(episodes__isnull=True).order_by("pk")[::50]
    for offender in [*named, *pool_sample]:
        identifiers = (offender.pnc_id, offender.cro_number, offender.prison_number, offender.crn)
        offender.full_clean()
        # Already in their normal forms: cleaning changes nothing.
        assert identifiers == (
            offender.pnc_id,
            offender.cro_number,
            offender.prison_number,
            offender.crn,
        )
        assert offender.pnc_id
    assert Offender.objects.filter(pnc_id__isnull=True).count() == 0
    assert Offender.objects.values("pnc_id").distinct().count() == Offender.objects.count()

    ppo_custody = CustodyEpisode.objects.filter(offender__in=named)
    assert clean_all(ppo_custody) > 41
    assert clean_all(CustodyEpisode.objects.exclude(offender__in=named).order_by("pk")[::6]) > 20
    assert clean_all(ProgrammeEpisode.objects.all()) > 41
    assert clean_all(OffendingEvent.objects.order_by("pk")[::60]) > 100
    assert clean_all(Contact.objects.all()) > 0
    assert clean_all(DrugTest.objects.all()) > 0
    assert clean_all(Referral.objects.all()) > 0
    assert clean_all(Membership.objects.all()) == len(demo.LOGINS)
    assert clean_all(Agency.objects.all()) == len(demo.AGENCIES)
    demo_users = User.objects.filter(email__endswith=f"@{demo.DEMO_EMAIL_DOMAIN}")
    assert clean_all(demo_users) == len(demo.LOGINS)
    assert clean_all(Scheme.objects.all()) == 1
    # Sentences have a length, remands none (also part of full_clean, stated plainly).
    assert not CustodyEpisode.objects.filter(
        kind=CustodyKind.SENTENCE, sentence_length_months__isnull=True
    ).exists()
    assert not CustodyEpisode.objects.filter(
        kind=CustodyKind.REMAND, sentence_length_months__isnull=False
    ).exists()


def test_seeding_twice_changes_nothing_and_another_seed_is_refused():
    first = StringIO()
    call_command("seed_demo", "--force", stdout=first)
    counts = table_counts()
    assert counts["offenders.Offender"] > 1500
    assert counts["access.AuditEvent"] == 0

    second = StringIO()
    call_command("seed_demo", "--force", stdout=second)
    assert table_counts() == counts
    assert printed_password(second.getvalue()) == printed_password(first.getvalue())
    assert "nothing new was created" in second.getvalue()
    for username in ("manager", "partner.treatment", "admin"):
        assert username in first.getvalue()

    with pytest.raises(CommandError, match="different seed"):
        call_command("seed_demo", "--seed", "2", "--force", stdout=StringIO())
    assert table_counts() == counts


def test_same_seed_plans_the_same_people_and_another_seed_different_ones():
    categories = list(OffenceCategory.objects.order_by("name"))
    args = ([c.name for c in categories], [c.acquisitive for c in categories])
    plan = demo.build_plan(7, *args)
    assert demo.build_plan(7, *args) == plan
    other = demo.build_plan(8, *args)
    assert {p.pnc_serial for p in plan.people}.isdisjoint({p.pnc_serial for p in other.people})
    assert [p.last_name for p in plan.people[:20]] != [p.last_name for p in other.people[:20]]
    assert demo.top_decile_share(len(p.events) for p in plan.people) == pytest.approx(0.5, abs=0.05)

    assert demo.demo_password(7) == plan.password == demo.demo_password(7)
    assert demo.demo_password(8) != plan.password
    assert len(plan.password) >= 12


def test_the_command_refuses_what_may_be_a_live_database(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setattr(seed_demo_command, "database_vendor", lambda: "postgresql")
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not Offender.objects.exists()
    assert not User.objects.filter(username="manager").exists()


def test_the_command_seeds_without_force_when_debugging_or_on_sqlite(settings, monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "seed_demo", lambda seed, stdout: calls.append(seed))
    settings.DEBUG = True
    monkeypatch.setattr(seed_demo_command, "database_vendor", lambda: "postgresql")
    call_command("seed_demo", "--seed", "3", stdout=StringIO())
    settings.DEBUG = False
    monkeypatch.setattr(seed_demo_command, "database_vendor", lambda: "sqlite")
    call_command("seed_demo", stdout=StringIO())
    assert calls == [3, 1]
