"""`manage.py seed_demo`: the synthetic Stockton-shaped scheme (001 §5.4–5.5, 000 §1.1)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import models
from django.db.models import Count, Max
from django.utils import timezone

from access.models import (
    PARTNER_AGENCY_KINDS,
    Agency,
    AgencyKind,
    AuditAction,
    AuditEvent,
    Membership,
    Role,
    Scheme,
)
from access.policy import actor_for, people
from conferences.models import (
    Attendance,
    CaseConference,
    ConferencePerson,
    ConferenceStatus,
    CoreGroupMeeting,
)
from conferences.selectors import due_for_conference
from demo import scheme as demo
from offenders.contact_levels import level_on
from offenders.custody_release import (
    alert_list,
    assessed_on_time,
    plan_is_complete,
    release_plans_due,
)
from offenders.enforcement import ENFORCING_KINDS, enforcement_standard, overdue_cases
from offenders.models import (
    Alert,
    AlertKind,
    Contact,
    ContactLevel,
    ContactOutcome,
    CustodyEpisode,
    CustodyKind,
    DrugTest,
    DrugTestResult,
    EnforcementCase,
    EnforcementStatus,
    EnforcementStep,
    EventKind,
    IomGrade,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
    ReceptionAssessment,
    ReleasePlan,
    Status,
    Strand,
    Supervision,
    years_before,
)
from pathways.models import (
    Action,
    ActionStatus,
    Need,
    Pathway,
    Provider,
    Referral,
    ReferralStatus,
)
from pathways.selectors import gap_view, my_actions_page
from pathways.treatment import Clock, clocks_for, treatment_assessment_standard
from reporting.measures.common import financial_year_of
from reporting.measures.local_measure import local_measure
from reporting.measures.ni30 import ni30_figures
from reporting.measures.reoffending import proven_reoffending
from reporting.models import CohortMember, CohortStatus, Ni30Cohort, Rag, SelfAssessment
from reporting.profile import (
    deselection_outcomes,
    equality_monitoring,
    offending_mix,
    refresh_indicators,
    scheme_profile,
)
from reporting.self_assessment import SUBSECTIONS, self_assessment_year
from selection.models import (
    Criterion,
    MatrixVersion,
    PanelDecision,
    Review,
    RiskAssessment,
    RunEntry,
    SelectionPanel,
    SelectionRun,
    TransferIn,
)

# Every test here reads the one seeded scheme (demo/tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_demo")]

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
    MatrixVersion,
    Criterion,
    RiskAssessment,
    SelectionRun,
    RunEntry,
    SelectionPanel,
    SelectionPanel.agencies.through,
    PanelDecision,
    TransferIn,
    Review,
    Provider,
    Provider.pathways.through,
    Need,
    Action,
    CaseConference,
    Attendance,
    ConferencePerson,
    CoreGroupMeeting,
    CoreGroupMeeting.agencies.through,
    ContactLevel,
    EnforcementCase,
    EnforcementStep,
    ReceptionAssessment,
    ReleasePlan,
    Alert,
    Ni30Cohort,
    CohortMember,
    SelfAssessment,
]


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in TABLES}


def current_ppos(today: dt.date):
    on_scheme = ProgrammeEpisode.objects.open_on(today).filter(kind=ProgrammeKind.PPO)
    return Offender.objects.filter(pk__in=on_scheme.values("offender")).with_status(today)


def selection_history() -> list[tuple[object, ...]]:
    """Decisions, episodes, assessments and the run, naming people by reference."""
    rows: list[tuple[object, ...]] = [
        (
            d.panel.kind,
            d.panel.held_on,
            d.offender.local_ref,
            d.kind,
            d.from_tier,
            d.to_tier,
            d.deselection_reason,
            d.exit_outcome,
            d.reason,
            d.departs_from_ranking,
            d.run_entry.rank if d.run_entry else None,
            d.decided_by.username,
        )
        for d in PanelDecision.objects.select_related(
            "panel", "offender", "run_entry", "decided_by"
        ).order_by("panel__held_on", "offender__local_ref", "kind")
    ]
    rows += ProgrammeEpisode.objects.order_by("offender__local_ref", "selected_on").values_list(
        "offender__local_ref", "kind", "selected_on", "deselected_on", "exit_route"
    )
    rows += RiskAssessment.objects.order_by("offender__local_ref", "assessed_on").values_list(
        "offender__local_ref", "assessed_on", "tool", "likelihood_score", "rosh_level"
    )
    rows += RunEntry.objects.order_by("run__as_of", "rank").values_list(
        "run__as_of", "rank", "offender__local_ref", "score", "tier"
    )
    return rows


def printed_password(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("Password"))
    return line.split(": ", 1)[1]


def test_demo_scheme_has_the_stockton_shape_and_the_ten_percent_who_commit_half():
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
    assert set(ppos.values_list("strands__strand", flat=True)) == {
        Strand.CATCH_CONVICT,
        Strand.REHABILITATE_RESETTLE,
    }
    # 000 §2.2: strands are not mutually exclusive; the red-graded hold two.
    held = dict(ppos.annotate(n_strands=Count("strands")).values_list("pk", "n_strands"))
    assert set(held.values()) == {1, 2}
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
    assert set(dyos.values_list("strands__strand", flat=True)) == {Strand.PREVENT_DETER}
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
        # Besides the offending before entry the reporting year adds (figures.py).
        planned = offender.events.exclude(source_reference__contains="-F")
        assert planned.count() == len(person.events)


def test_every_demo_login_signs_in_and_each_role_has_people_to_see(seeded_demo):
    result = seeded_demo.result
    today = timezone.localdate()
    # Seeding is nobody consulting anybody: the only audit rows are the services' own,
    # for what the demo logins recorded through them (the selection history by the
    # manager and YOT worker; referrals, needs, actions and conferences by the manager,
    # key workers, YOT and partners), and the review sweep's for the reviews it raised.
    assert AuditEvent.objects.exists()
    assert set(AuditEvent.objects.values_list("action", flat=True)) <= {
        AuditAction.CREATE,
        AuditAction.UPDATE,
    }
    assert set(AuditEvent.objects.values_list("record_type", flat=True)) == {
        "selection.riskassessment",
        "selection.selectionrun",
        "selection.selectionpanel",
        "selection.paneldecision",
        "offenders.programmeepisode",
        "selection.transferin",
        "selection.review",
        "pathways.referral",
        "pathways.need",
        "pathways.action",
        "conferences.caseconference",
        "conferences.conferenceperson",
        "conferences.coregroupmeeting",
        # The contact level each conference set (offenders.contact_levels), and the
        # premium service's records (issue 10).
        "offenders.contactlevel",
        "offenders.enforcementcase",
        "offenders.enforcementstep",
        "offenders.custodyepisode",
        "offenders.releaseplan",
        "offenders.receptionassessment",
        "offenders.alert",
        # The reporting year (issue 11): the offending before entry, the cohorts and
        # last year's self-assessment.
        "offenders.offendingevent",
        "reporting.ni30cohort",
        "reporting.selfassessment",
    }
    authors = set(AuditEvent.objects.values_list("username", flat=True))
    assert {"manager", "yot", "system: review sweep", "keyworker1", "partner.housing"} <= authors
    assert authors <= {spec.username for spec in demo.LOGINS} | {"system: review sweep"}
    # Only the selection services' authors wrote selection records.
    assert set(
        AuditEvent.objects.filter(record_type__startswith="selection.")
        .exclude(record_type="selection.review")
        .values_list("username", flat=True)
    ) == {"manager", "yot"}
    assert set(
        AuditEvent.objects.filter(record_type="selection.review").values_list("username", flat=True)
    ) == {"system: review sweep"}
    assert set(
        AuditEvent.objects.exclude(record_type="selection.review").values_list("channel", "path")
    ) == {("command", "seed_demo --seed 1")}
    # selection.reviews.sweep sets its own audit context: the channel, no path.
    assert set(
        AuditEvent.objects.filter(record_type="selection.review").values_list("channel", "path")
    ) == {("command", "")}

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


def tier_on(offender_id: int, day: dt.date) -> str:
    episode = ProgrammeEpisode.objects.filter(offender_id=offender_id).open_on(day).first()
    return episode.kind if episode else ""


def test_every_demo_record_passes_model_validation():

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
    assert clean_all(PanelDecision.objects.all()) > 41
    assert clean_all(SelectionPanel.objects.all()) > 20
    assert clean_all(RiskAssessment.objects.all()) > 41
    assert clean_all(OffendingEvent.objects.order_by("pk")[::60]) > 100
    assert clean_all(Contact.objects.all()) > 0
    assert clean_all(DrugTest.objects.all()) > 0
    assert clean_all(Referral.objects.all()) > 41
    assert clean_all(Provider.objects.all()) == len(demo.PROVIDERS)
    assert clean_all(Need.objects.all()) > 41 * 5
    assert clean_all(Action.objects.all()) > 41 * 2
    assert clean_all(CaseConference.objects.all()) == 3
    assert clean_all(ConferencePerson.objects.all()) > 20
    assert clean_all(CoreGroupMeeting.objects.all()) >= 1
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


def test_the_demo_plans_across_every_pathway_and_conferences_the_ppos():
    """Issue 9: providers, referrals on every pathway, needs with history and actions, two
    past conferences with frozen plans that differ, and PPOs due a conference today."""
    today = timezone.localdate()
    manager = User.objects.get(username="manager")
    ppos = current_ppos(today)
    pathways = set(Pathway.objects.values_list("code", flat=True))
    assert len(pathways) == 8

    # Providers in the directory, with reserved capacity (001 §3.2d), covering every
    # pathway but one: Victims of Crime, whose provider has closed.
    providers = Provider.objects.all()
    assert providers.filter(active=True).count() >= 10
    ashdown = providers.get(reserved_note__contains="reserved for DIP/PPO clients")
    assert ashdown.reserved_places == 4 and ashdown.agency.kind == AgencyKind.HOUSING
    for provider in providers:
        assert provider.email.endswith("@example.org") and provider.phone.startswith("01632 960")
    served = set(
        Pathway.objects.filter(providers__active=True, providers__agency__active=True)
        .distinct()
        .values_list("code", flat=True)
    )
    assert pathways - served == {"victims"}

    # Referrals on every pathway (the victims ones from before its provider closed), each
    # to a provider serving it, by the agency that runs the provider; some closed with an
    # outcome, the others accepted or just made; no more open ones to Ashdown House than
    # its reserved dwellings.
    referrals = Referral.objects.select_related("provider")
    assert set(referrals.values_list("pathway__code", flat=True)) == pathways
    for referral in referrals:
        assert referral.provider is not None and referral.agency_id == referral.provider.agency_id
        assert referral.provider.pathways.filter(pk=referral.pathway_id).exists(), referral
        assert referral.referred_by is not None
    closed = referrals.filter(closed_on__isnull=False)
    assert closed.count() >= 3 and not closed.filter(outcome="").exists()
    assert set(closed.values_list("status", flat=True)) <= {
        ReferralStatus.COMPLETED,
        ReferralStatus.DECLINED,
        ReferralStatus.WITHDRAWN,
    }
    assert ReferralStatus.ACCEPTED in set(referrals.values_list("status", flat=True))
    assert not referrals.filter(pathway__code="victims", closed_on__isnull=True).exists()
    assert referrals.open_on(today).filter(provider=ashdown).count() <= 4

    # Needs: every current PPO assessed on most pathways, with history (a later level
    # than the first on some pathway), set by probation and by partner agencies.
    needs = Need.objects.filter(offender__in=ppos)
    per_person = dict(
        needs.values("offender")
        .annotate(n=Count("pathway", distinct=True))
        .values_list("offender", "n")
    )
    assert set(per_person) == set(ppos.values_list("pk", flat=True))
    assert min(per_person.values()) >= 5
    history = needs.values("offender", "pathway").annotate(n=Count("pk")).filter(n__gt=1)
    assert history.values("offender").distinct().count() >= 30
    setters = set(needs.values_list("set_by_agency__kind", flat=True))
    assert {AgencyKind.PROBATION, AgencyKind.HOUSING, AgencyKind.TREATMENT} <= setters
    assert Need.objects.filter(offender__episodes__kind=ProgrammeKind.DYO).exists()

    # The gap view (004 §4.1): medium and high needs with no provider on the pathway,
    # and others with no open referral on it.
    gaps = {gap.pathway.code: gap for gap in gap_view(user=manager).pathways}
    assert gaps["victims"].no_provider and gaps["victims"].count > 0
    assert any(
        person.reason == "No open referral on this pathway"
        for gap in gaps.values()
        for person in gap.people
    )

    # Actions across the pathways, owned by several agencies; some overdue, some done or
    # not achieved with an outcome.
    actions = Action.objects.filter(offender__in=ppos)
    assert actions.values("offender").distinct().count() == ppos.count()
    assert actions.values("owner_agency").distinct().count() >= 5
    assert actions.values("pathway").distinct().count() >= 6
    assert actions.overdue_on(today).exists()
    assert actions.filter(due_on__gte=today).still_open().exists()
    finished = actions.filter(status__in=[ActionStatus.DONE, ActionStatus.NOT_ACHIEVED])
    assert set(finished.values_list("status", flat=True)) == {
        ActionStatus.DONE,
        ActionStatus.NOT_ACHIEVED,
    }
    assert not finished.filter(outcome="").exists()
    assert not finished.filter(finished_on__isnull=True).exists()

    # partner.housing has an open Accommodation action under "my actions".
    _, rows = my_actions_page(user=User.objects.get(username="partner.housing"))
    assert any(
        row.action.pathway.code == "accommodation" and row.action.status == ActionStatus.OPEN
        for row in rows
    )

    # Two past conferences, about four months and one month ago, on Tuesdays, chaired by
    # the manager, with attendance, and closed: every person reviewed has minutes, their
    # own comment, a contact level, a next date after the conference and a frozen plan.
    past = list(CaseConference.objects.filter(status=ConferenceStatus.CLOSED).order_by("held_on"))
    assert len(past) == 2
    first, second = past
    assert 119 <= (today - first.held_on).days <= 125
    assert 28 <= (today - second.held_on).days <= 34
    for conference in past:
        assert conference.held_on.weekday() == 1 and conference.chair == manager
        attendance = conference.attendances.all()
        assert attendance.filter(attended=True).count() >= 8
        assert attendance.filter(attended=False).count() == 1
        assert not attendance.filter(attended=True, attendees="").exists()
        people = conference.people.all()
        assert people.count() >= 10
        for person in people:
            assert person.minutes and person.offender_comment
            assert person.contact_level_per_week is not None
            assert person.next_conference_on > conference.held_on
            assert person.frozen_plan["as_of"] == conference.held_on.isoformat()
            assert person.frozen_plan["actions"]
            assert any(need["level"] for need in person.frozen_plan["needs"])
    # The plan frozen at the second differs from the first's for someone at both (and the
    # first's is the plan as it was, not as it is now).
    both = list(
        ConferencePerson.objects.filter(
            conference=second, offender__conference_reviews__conference=first
        )
    )
    assert len(both) >= 5
    then = {
        p.offender_id: p.frozen_plan
        for p in first.people.filter(offender__in=[b.offender_id for b in both])
    }
    assert sum(1 for b in both if b.frozen_plan != then[b.offender_id]) >= 5
    changed = [
        b
        for b in both
        if {a["id"]: a["status"] for a in then[b.offender_id]["actions"]}
        != {
            a["id"]: a["status"]
            for a in b.frozen_plan["actions"]
            if a["id"] in {x["id"] for x in then[b.offender_id]["actions"]}
        }
    ]
    assert changed, "some action agreed at the first moved on by the second"
    # Core-group meetings between the two.
    meetings = CoreGroupMeeting.objects.all()
    assert meetings.exists()
    assert all(first.held_on < m.held_on < second.held_on for m in meetings)
    assert all(m.agencies.exists() and m.notes for m in meetings)

    # Due a conference today (conferences' own rule): some last conferenced at the first,
    # over three months ago, and some never; next week's booked people are not due.
    planned = CaseConference.objects.get(status=ConferenceStatus.PLANNED)
    assert today < planned.held_on <= today + dt.timedelta(days=7)
    assert planned.held_on.weekday() == 1
    due = due_for_conference(user=manager, as_of=today)
    due_now = {row.offender.pk: row.line for row in due.due_now}
    assert {line.last_conference_on for line in due_now.values()} >= {first.held_on, None}
    booked = set(planned.people.values_list("offender", flat=True))
    assert booked and booked.isdisjoint(due_now)
    assert not set(second.people.values_list("offender", flat=True)) & set(due_now)


def test_the_demo_gives_the_premium_service_its_records():
    """Issue 10: per-person levels, open and closed enforcement cases (exactly one
    overdue), treatment referrals on and off standard, two PPOs due out within six weeks
    (one plan complete, one not), reception assessments on time and late: each read
    through the app's own selector or rule."""
    today = timezone.localdate()
    scheme = Scheme.current()
    manager = actor_for(User.objects.get(username="manager"), today)
    ppos = current_ppos(today)

    # Levels (001 §3.2b): besides the conferences', key workers set two between them, one
    # above the tier's four (a red-graded PPO) and one below (a green one); each is the
    # level the person is measured against today.
    by_key_workers = ContactLevel.objects.filter(
        set_by__memberships__role=Role.KEY_WORKER
    ).select_related("offender")
    assert by_key_workers.count() == 2
    seen = {}
    for row in by_key_workers:
        level = level_on(user=manager, offender=row.offender, day=today)
        assert level is not None and level.own is not None and level.own.pk == row.pk
        seen[row.offender.iom_grade] = level.contacts
        assert row.starts_on.weekday() == 0 and row.reason
    tier = scheme.contact_target_per_week
    assert seen[IomGrade.RED] > tier > seen[IomGrade.GREEN]
    assert ContactLevel.objects.filter(set_by__username="manager").count() > 20

    # Enforcement (001 §3.2e): every failure to attend on a licence or an order opened a
    # case (as contact_log does), flagged; some closed with an outcome, some open.
    enforceable = Contact.objects.filter(
        outcome=ContactOutcome.FAILED,
        offender__supervision__in=[
            Supervision.LICENCE,
            Supervision.COMMUNITY_ORDER,
            Supervision.SUSPENDED_SENTENCE,
            Supervision.YOUTH_ORDER,
        ],
    )
    cases = EnforcementCase.objects.all()
    assert enforceable.count() >= 5
    assert set(cases.values_list("contact", flat=True)) == set(
        enforceable.values_list("pk", flat=True)
    )
    assert not enforceable.filter(enforcement_flagged=False).exists()
    assert (
        not Contact.objects.filter(enforcement_flagged=True)
        .exclude(pk__in=enforceable.values("pk"))
        .exists()
    )
    closed = cases.filter(status=EnforcementStatus.CLOSED)
    open_cases = cases.filter(status=EnforcementStatus.OPEN)
    assert closed.count() >= 3 and open_cases.count() >= 2
    assert not closed.filter(outcome="").exists()
    assert EnforcementStep.objects.filter(case__in=closed).exists()
    assert EnforcementStep.objects.filter(case__in=open_cases, kind__in=ENFORCING_KINDS).exists()
    for case in cases:
        assert case.failed_on == timezone.localdate(case.contact.occurred_at)
        for step in case.steps.all():
            assert case.failed_on <= step.taken_on <= today
    # Exactly one overdue today, by the app's own rule; it is on its owner's list.
    overdue = overdue_cases(user=manager, as_of=today)
    assert overdue is not None and len(overdue) == 1
    (late,) = overdue
    assert late.case.status == EnforcementStatus.OPEN
    assert not late.case.steps.filter(kind__in=ENFORCING_KINDS).exists()
    owner = actor_for(late.case.owner, today)
    assert [c.case.pk for c in overdue_cases(user=owner, as_of=today, mine=True) or []] == [
        late.case.pk
    ]
    # The standard, over the last two months: some breaches on time, some not.
    measure = enforcement_standard(manager, today - dt.timedelta(days=60), today)
    assert measure is not None and 0 < measure.met < measure.total

    # Treatment on a clock (001 §3.2c): the treatment agency's referrals assessed and
    # first seen on and off standard.
    treatment = list(Referral.objects.filter(provider__agency__kind=AgencyKind.TREATMENT))
    clocks = clocks_for(treatment, as_of=today).values()
    assessment = Counter(c.assessment.state for c in clocks)
    first_seen = Counter(c.first_appointment.state for c in clocks)
    assert assessment[Clock.ON_TIME] >= 3 and assessment[Clock.LATE] >= 3
    assert first_seen[Clock.ON_TIME] >= 3 and first_seen[Clock.LATE] >= 3
    year = treatment_assessment_standard(manager, today - dt.timedelta(days=365), today)
    assert year is not None and 0 < year.met < year.total

    # Release (004 §4.2): exactly two PPOs due out within the scheme's six weeks, one
    # with a complete plan; the other is on the "due out, plan incomplete" list of the
    # manager, its key worker, police and its prison.
    until = today + dt.timedelta(weeks=scheme.release_plan_weeks)
    due_out = list(
        CustodyEpisode.objects.filter(
            offender__in=ppos,
            released_on__isnull=True,
            expected_release_on__gte=today,
            expected_release_on__lte=until,
        ).select_related("offender")
    )
    assert len(due_out) == 2
    plans = {e.pk: ReleasePlan.objects.filter(custody=e).first() for e in due_out}
    assert sorted(plan_is_complete(plan) for plan in plans.values()) == [False, True]
    (incomplete,) = [e for e in due_out if not plan_is_complete(plans[e.pk])]
    assert plans[incomplete.pk] is not None
    prison = next(
        f"prison.{agency.key}"
        for agency in demo.AGENCIES
        if agency.name == incomplete.establishment.name
    )
    key_worker = incomplete.offender.key_worker
    assert key_worker is not None
    for username in ("manager", key_worker.username, "police", prison):
        listed = release_plans_due(user=User.objects.get(username=username), as_of=today)
        assert listed is not None
        assert [row.episode.pk for row in listed.rows] == [incomplete.pk], username
    # Moving the others' release dates told their key worker and the police.
    moved = Alert.objects.filter(kind=AlertKind.RELEASE_DATE)
    assert moved.exists()
    for alert in moved:
        panel = alert_list(user=alert.recipient, as_of=today)
        assert panel is not None and alert in panel.alerts

    # Reception (002): one needs assessment within the scheme's hours, one late.
    hours = scheme.reception_assessment_hours
    assessments = ReceptionAssessment.objects.select_related("custody")
    assert sorted(assessed_on_time(a.custody, a.assessed_at, hours) for a in assessments) == [
        False,
        True,
    ]

    # The administrator keeps the bank holidays the clocks skip.
    admin = User.objects.get(username="admin")
    assert admin.has_perm("access.change_bankholiday")


def test_the_demo_confirms_two_cohorts_and_last_years_self_assessment_so_every_report_has_figures(
    seeded_demo,
):
    """Issue 11: NI30 cohorts for last year and this year, confirmed by the manager on
    their 1 April with the people on the PPO tier that day; last year's self-assessment
    rated in every subsection; and every report has figures for the steering group."""
    output = seeded_demo.output
    today = timezone.localdate()
    this_year = financial_year_of(today)
    manager = User.objects.get(username="manager")
    for year in (this_year - 1, this_year):
        starts_on = dt.date(year, 4, 1)
        cohort = Ni30Cohort.objects.get(year_starts_on=starts_on)
        assert cohort.status == CohortStatus.CONFIRMED
        assert (cohort.confirmed_on, cohort.confirmed_by) == (starts_on, manager)
        on_tier = set(
            ProgrammeEpisode.objects.open_on(starts_on)
            .filter(kind=ProgrammeKind.PPO)
            .values_list("offender_id", flat=True)
        )
        members = set(cohort.members.values_list("offender_id", flat=True))
        assert len(members) >= 20 and members == on_tier
        assert f"NI30 cohort {year}/{(year + 1) % 100:02d}: confirmed on" in output
    assert Ni30Cohort.objects.count() == 2

    # Every subsection of last year, with evidence; some green, some amber, one red.
    steering = User.objects.get(username="steering")
    page = self_assessment_year(user=steering, year=this_year, as_of=today)
    assert all(row.last_year is not None and row.last_year.evidence for row in page.rows)
    assert [row.subsection.number for row in page.rows] == [s.number for s in SUBSECTIONS]
    rags = Counter(row.last_year.rag for row in page.rows if row.last_year)
    assert rags[Rag.RED] == 1 and rags[Rag.AMBER] >= 2 and rags[Rag.GREEN] >= 2
    assert not SelfAssessment.objects.filter(year_starts_on=dt.date(this_year, 4, 1)).exists()
    assert f"11 of 11 subsections rated ({rags[Rag.RED]} red" in output

    # NI30 and the local measure: last year's cohort fell, its figures cited in 2.3.
    last = ni30_figures(user=steering, as_of=today, year=this_year - 1)
    assert last.members > 0 and last.year_complete
    assert last.year_convictions > 0 and last.change_percent is not None
    assert last.baseline_convictions > last.year_convictions and last.target_met is True
    measure = local_measure(user=steering, as_of=today, cohort=this_year - 1)
    assert measure.people_measured > 0 and measure.charges_after > 0
    assert measure.reduction_percent is not None and measure.reduction_percent > 0
    evidence = page.row("2.3").last_year
    assert evidence is not None
    for figure in (last.year_convictions, last.baseline_convictions, abs(last.change_percent)):
        assert str(figure) in evidence.evidence
    assert f"a reduction of {measure.reduction_percent}%" in evidence.evidence
    current = ni30_figures(user=steering, as_of=today, year=this_year)
    assert current.members > 0 and current.baseline_convictions > 0
    assert current.change_percent is not None
    now = local_measure(user=steering, as_of=today, cohort=this_year)
    assert now.people > 0 and now.reduction_percent is not None

    # The other reports have figures too.
    reoffending = proven_reoffending(user=steering, as_of=today, year=this_year - 1)
    assert reoffending.this_year.managed > 0 and reoffending.this_year.rate_percent is not None
    assert reoffending.change_points is not None
    assert reoffending.profile.average_age is not None
    assert scheme_profile(user=steering, as_of=today).total.value == 41
    assert refresh_indicators(user=steering, as_of=today).on_scheme == 41
    assert equality_monitoring(user=steering, as_of=today).caseload_by_sex.rows
    assert offending_mix(user=steering, as_of=today).whole_period.offences > 0
    assert (
        deselection_outcomes(
            user=steering, as_of=today, date_from=today - dt.timedelta(days=3 * 365), date_to=today
        ).exits
        > 0
    )

    # The additions are all before each member's entry: the years' own figures are the
    # plan's, and every added event is the police's, recorded by today.
    added = OffendingEvent.objects.filter(source_reference__contains="-F")
    assert added.exists()
    assert not added.filter(recorded_on__gt=today).exists()
    for member in CohortMember.objects.filter(offender__events__in=added).distinct():
        spell = (
            ProgrammeEpisode.objects.open_on(member.cohort.year_starts_on)
            .filter(kind=ProgrammeKind.PPO, offender=member.offender_id)
            .get()
        )
        assert not added.filter(
            offender=member.offender_id, occurred_on__gte=spell.selected_on
        ).exists()
