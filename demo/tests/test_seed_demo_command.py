"""`manage.py seed_demo` run on its own: on another day, twice, with another seed, and refused
where it may be a live database (001 §5.4–5.5, 000 §1.1). The tests that only read the seeded
scheme share one seeding (test_seed_demo.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO
from itertools import pairwise

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from access.models import (
    AgencyKind,
    AuditEvent,
)
from demo import scheme as demo
from demo.management.commands import seed_demo as seed_demo_command
from demo.scheme.specs import DYOS
from demo.tests.test_seed_demo import (
    current_ppos,
    printed_password,
    selection_history,
    table_counts,
    tier_on,
)
from offenders.models import (
    Contact,
    CustodyEpisode,
    DeselectionReason,
    ExitRoute,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
)
from selection.defaults import DEFAULT_CRITERIA
from selection.models import (
    DecisionKind,
    MatrixStatus,
    MatrixVersion,
    PanelDecision,
    PanelKind,
    Review,
    ReviewKind,
    ReviewStatus,
    RiskAssessment,
    RiskTool,
    SelectionPanel,
    SelectionRun,
    TransferIn,
)
from selection.panel import RISK_ASSESSMENT_CURRENT_DAYS
from selection.reviews import sweep

pytestmark = pytest.mark.django_db

User = get_user_model()


# A Saturday: the plan's panel days fall on one weekday, which the writer moves to Wednesday.
@time_machine.travel(dt.datetime(2026, 6, 13, 11, 0, tzinfo=dt.UTC), tick=False)
def test_only_recorded_panel_decisions_put_demo_people_on_a_tier():
    demo.seed_demo(1)
    today = timezone.localdate()
    assert today.weekday() == 5

    # Every episode was opened by a decision on its first day; every closed one was
    # closed by a decision on the day it ended; an open one by none.
    episodes = ProgrammeEpisode.objects.all()
    assert episodes.count() > 41
    assert not episodes.filter(opened_by_decision__isnull=True).exists()
    assert not episodes.exclude(selected_on=F("opened_by_decision__panel__held_on")).exists()
    closed = episodes.filter(deselected_on__isnull=False)
    assert closed.count() >= 10
    assert not closed.filter(closed_by_decision__isnull=True).exists()
    assert not closed.exclude(deselected_on=F("closed_by_decision__panel__held_on")).exists()
    assert not episodes.filter(deselected_on__isnull=True, closed_by_decision__isnull=False)
    # Each decision moved its person from the tier they were on the day before to the
    # one they are on from the panel's day.
    decisions = PanelDecision.objects.select_related("panel", "decided_by")
    for decision in decisions:
        held_on = decision.panel.held_on
        before = tier_on(decision.offender_id, held_on - dt.timedelta(days=1))
        assert (before, tier_on(decision.offender_id, held_on)) == (
            decision.from_tier,
            decision.to_tier,
        ), decision
        assert decision.reason, decision

    # Selection panels: monthly (four-weekly) on Wednesdays, in the past, multi-agency,
    # chaired by the PPO manager, who recorded their decisions; DYO panels are the YOT's.
    selection_panels = SelectionPanel.objects.filter(kind=PanelKind.SELECTION)
    days = sorted(selection_panels.values_list("held_on", flat=True))
    assert len(days) >= 20 and days[-1] < today
    assert {day.weekday() for day in days} == {2}
    assert all((later - earlier).days % 28 == 0 for earlier, later in pairwise(days))
    assert set(selection_panels.values_list("chair__username", flat=True)) == {"manager"}
    assert all(panel.agencies.count() >= 5 for panel in selection_panels)
    assert set(
        decisions.filter(panel__kind=PanelKind.SELECTION).values_list(
            "decided_by__username", flat=True
        )
    ) == {"manager"}
    dyo_panels = SelectionPanel.objects.filter(kind=PanelKind.DYO)
    assert set(dyo_panels.values_list("chair__username", flat=True)) == {"yot"}
    marks = decisions.filter(kind=DecisionKind.MARK_DYO).select_related("offender")
    assert marks.count() == DYOS == Offender.objects.filter(episodes__kind="dyo").count()
    for mark in marks:
        assert mark.panel.kind == PanelKind.DYO and mark.decided_by.username == "yot"
        # What the YOT decided on is the young person's record (003 §7.3-7.4).
        assert (mark.asset_score, mark.scaled_approach) == (
            mark.offender.asset_score,
            mark.offender.scaled_approach,
        )
        assert mark.offender.age_on(mark.panel.held_on) < 18

    # The default matrix ships with the app, and the one past run used it, the week
    # before the most recent panel, the only panel after it.
    adopted = MatrixVersion.objects.get(status=MatrixStatus.ADOPTED)
    assert adopted.number == 1 and adopted.criteria.count() == len(DEFAULT_CRITERIA)
    run = SelectionRun.objects.get()
    latest = selection_panels.order_by("-held_on").first()
    assert run.version == adopted and run.run_by.username == "manager"
    assert latest.held_on - run.as_of == dt.timedelta(days=7)
    assert list(SelectionPanel.objects.filter(held_on__gt=run.as_of)) == [latest]
    entries = list(run.entries.all())
    assert len(entries) > 100
    for entry in entries:
        assert sum(Decimal(part["points"]) for part in entry.explanation) == entry.score
    ppos_then = ProgrammeEpisode.objects.open_on(run.as_of).filter(kind=ProgrammeKind.PPO)
    listed = {e.offender_id: e for e in entries}
    assert {listed[pk].tier for pk in ppos_then.values_list("offender", flat=True)} == {"ppo"}

    # Before the run, every selection departs from a ranking that did not exist, and
    # says so; the rest (step downs, de-selections) do not depart from it.
    earlier = decisions.filter(panel__held_on__lt=run.as_of)
    assert not earlier.filter(run_entry__isnull=False).exists()
    chosen = earlier.filter(kind__in=[DecisionKind.SELECT, DecisionKind.STEP_UP])
    assert chosen.count() >= 41 and not chosen.filter(departs_from_ranking=False).exists()
    assert not earlier.exclude(pk__in=chosen).filter(departs_from_ranking=True).exists()

    # The most recent panel follows the run: it selects two people it ranks within the
    # scheme's capacity, defers one, and departs from it once, with its reason, to step
    # down a PPO it ranks within capacity.
    recent = decisions.filter(panel=latest).select_related("run_entry")
    assert Counter(recent.values_list("kind", flat=True)) == {
        DecisionKind.SELECT: 2,
        DecisionKind.STEP_DOWN: 1,
        DecisionKind.DEFER: 1,
    }
    for decision in recent:
        entry = decision.run_entry
        assert entry is not None and entry.run == run
        assert entry.above_threshold and entry.rank <= run.capacity
        assert decision.departs_from_ranking == (decision.kind == DecisionKind.STEP_DOWN)
    selected = recent.filter(kind=DecisionKind.SELECT).values_list("offender", flat=True)
    assert set(current_ppos(today).filter(pk__in=selected).values_list("pk", flat=True)) == set(
        selected
    )
    deferred = recent.get(kind=DecisionKind.DEFER)
    assert not ProgrammeEpisode.objects.filter(offender=deferred.offender).exists()

    # The IOM cohort: former PPOs stepped down at past panels, on the IOM tier today,
    # some with contacts this month; one was stepped back up to PPO.
    on_iom = ProgrammeEpisode.objects.open_on(today).filter(kind=ProgrammeKind.IOM)
    assert on_iom.count() >= 5
    for episode in on_iom.select_related("opened_by_decision__closed_episode"):
        step = episode.opened_by_decision
        assert step.kind == DecisionKind.STEP_DOWN
        assert step.closed_episode.kind == ProgrammeKind.PPO
        assert step.closed_episode.deselection_reason == DeselectionReason.STEPPED_DOWN
        assert step.closed_episode.exit_route == ExitRoute.IOM
    iom_people = on_iom.values("offender")
    since = timezone.now() - dt.timedelta(days=21)
    contacted = Contact.objects.filter(offender__in=iom_people, occurred_at__gte=since)
    assert 2 <= contacted.values("offender").distinct().count() < on_iom.count()
    stepped_up = decisions.get(kind=DecisionKind.STEP_UP)
    assert stepped_up.closed_episode.kind == ProgrammeKind.IOM
    assert tier_on(stepped_up.offender_id, today) == ProgrammeKind.PPO

    # Former PPOs were de-selected by decisions with one of 003 §6.2's reasons.
    leaving = decisions.filter(kind__in=[DecisionKind.DESELECT, DecisionKind.EXIT_DIP])
    assert set(leaving.values_list("deselection_reason", flat=True)) >= {
        DeselectionReason.MOVED_AREA,
        DeselectionReason.LONG_CUSTODY,
        DeselectionReason.TWO_YEAR_REVIEW,
        DeselectionReason.LIST_REVIEW,
        DeselectionReason.HIGH_RISK_OF_HARM,
    }
    assert leaving.get(kind=DecisionKind.EXIT_DIP).closed_episode.exit_route == ExitRoute.DIP_CJIT

    # Risk assessments: every PPO has one, made by probation in the past; one PPO
    # serving a long sentence has a current one (003 §6.2(3)), the others do not yet.
    assessments = RiskAssessment.objects.all()
    ppos = current_ppos(today)
    assert not ppos.filter(risk_assessments__isnull=True).exists()
    assert assessments.filter(offender__in=ppos).count() > 41
    assert not assessments.filter(assessed_on__gte=today).exists()
    assert set(assessments.values_list("tool", flat=True)) == {RiskTool.OASYS, RiskTool.OGRS}
    assert set(assessments.values_list("agency__kind", flat=True)) == {AgencyKind.PROBATION}
    assert assessments.filter(offender__episodes__isnull=True).exists(), "some of the pool"
    long_custody = ppos.filter(
        custody__released_on__isnull=True, custody__sentence_length_months__gte=30
    ).distinct()
    assert long_custody.count() == 4
    current_since = today - dt.timedelta(days=RISK_ASSESSMENT_CURRENT_DAYS)
    assert long_custody.filter(risk_assessments__assessed_on__gt=current_since).count() == 1


class Undone(Exception):
    pass


def test_seeding_twice_changes_nothing_and_another_seed_is_refused():
    # The same seed makes the same selection history: seeded once and undone, then again.
    with pytest.raises(Undone), transaction.atomic():
        demo.seed_demo(1)
        undone = selection_history()
        raise Undone
    assert not Offender.objects.exists() and not PanelDecision.objects.exists()

    first = StringIO()
    call_command("seed_demo", "--force", stdout=first)
    assert selection_history() == undone
    counts = table_counts()
    assert counts["offenders.Offender"] > 1500
    assert counts["selection.PanelDecision"] > 41
    # The selection services' audit rows (test_every_demo_login_...), written once.
    assert counts["access.AuditEvent"] > 0

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


# A Tuesday in late autumn: the quarter began on 1 October, the NI30 review is not due.
@time_machine.travel(dt.datetime(2026, 11, 17, 9, 0, tzinfo=dt.UTC), tick=False)
def test_seeding_leaves_every_kind_of_review_due_on_the_day(client):
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    today = timezone.localdate()
    due = Review.objects.filter(status=ReviewStatus.OPEN, due_on__lte=today)
    assert set(due.values_list("kind", flat=True)) == set(ReviewKind.values)
    assert not Review.objects.filter(due_on__gt=today).exists()
    assert f"{due.count()} open, of 11 of the 11 kinds" in out.getvalue()
    # The sweep ran for today, as the command: running it again raises nothing.
    assert AuditEvent.objects.filter(
        channel="command", record_type="selection.review", username="system: review sweep"
    ).exists()
    again = sweep(as_of=today, channel="command")
    assert again.total_raised == 0 and not again.resolved

    def one(kind: str) -> Review:
        (review,) = due.filter(kind=kind)
        return review

    # Who each of the new kinds is about (demo/scheme/plan.py).
    long_custody = one(ReviewKind.LONG_CUSTODY)
    spell = CustodyEpisode.objects.get(pk=long_custody.detail["custody_id"])
    assert spell.sentence_length_months == 60
    assert spell.expected_release_on > today + dt.timedelta(days=731)
    assert long_custody.detail["risk_assessment_current"] is True
    chase = one(ReviewKind.RELEASE_DATE_CHASE)
    spell = CustodyEpisode.objects.get(pk=chase.detail["custody_id"])
    assert spell.sentence_length_months == 48 and spell.expected_release_on is None
    assert tier_on(chase.offender_id, today) == ProgrammeKind.PPO
    again_before_release = one(ReviewKind.RESELECTION_RELEASE)
    spell = CustodyEpisode.objects.get(pk=again_before_release.detail["custody_id"])
    assert today < spell.expected_release_on <= today + dt.timedelta(days=89)
    left = ProgrammeEpisode.objects.get(
        offender_id=again_before_release.offender_id, deselection_reason="long_custody"
    )
    # Release was more than two years off when the panel de-selected them (003 §6.2(3)).
    assert spell.expected_release_on > left.deselected_on + dt.timedelta(days=731)
    reoffended = one(ReviewKind.FORMER_REOFFENDING)
    event = OffendingEvent.objects.get(pk=reoffended.detail["event_id"])
    assert (event.kind, event.occurred_on) == ("arrest", today - dt.timedelta(days=6))
    assert tier_on(reoffended.offender_id, today) == ""
    arrived = one(ReviewKind.TRANSFER_IN)
    transfer = TransferIn.objects.get(pk=arrived.detail["transfer_id"])
    assert transfer.arrived_on == today - dt.timedelta(days=12)
    assert not ProgrammeEpisode.objects.filter(offender_id=arrived.offender_id).exists()

    # The manager sees them on the reviews list.
    client.force_login(User.objects.get(username="manager"))
    page = client.get("/selection/reviews/")
    assert page.status_code == 200
    for kind in (ReviewKind.TRANSFER_IN, ReviewKind.FORMER_REOFFENDING):
        assert str(kind.label) in page.content.decode()
