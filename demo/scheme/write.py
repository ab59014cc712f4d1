"""Writing the plan: one transaction, bulk inserts, and the summary the command prints.

People and their casework are bulk-inserted; their tiers, risk assessments, panels and the
past selection run are written through selection's services (STYLE.md rule 11: the demo
sits above every app), as the demo PPO manager and YOT worker, oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from access.context import audit_context
from access.errors import ApplicationError, NotPermitted
from access.models import Agency, AgencyKind, Membership, Role, Scheme
from access.policy import Actor, actor_for
from offenders import identifiers
from offenders.enforcement import ENFORCING_STEP
from offenders.models import (
    Contact,
    ContactKind,
    ContactOutcome,
    CustodyEpisode,
    DrugTest,
    OffenceCategory,
    Offender,
    OffenderStrand,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
    Status,
    Supervision,
    years_before,
)
from pathways.models import Pathway
from selection.models import (
    PanelDecision,
    PanelKind,
    Review,
    ReviewKind,
    ReviewStatus,
    RiskAssessment,
    SelectionPanel,
    SelectionRun,
)
from selection.panel import DYO_KINDS, dyo_panel_for, panel_create, panel_decide
from selection.reviews import sweep, transfer_in_record
from selection.services import risk_assessment_record, selection_run

from .plan import (
    DecisionPlan,
    DemoPlan,
    PersonPlan,
    build_plan,
)
from .specs import (
    ADMINISTRATOR_MODELS,
    AGENCIES,
    DEMO_EMAIL_DOMAIN,
    DEMO_REF_PREFIX,
    HISTORY_DAYS,
    LOGINS,
    PANEL_AGENCIES,
    PANEL_WEEKDAY,
    RECENT_PANEL_AGO,
    RUN_BEFORE_PANEL_DAYS,
    SCHEME_AREA,
    SCHEME_NAME,
    DemoLogin,
    DemoResult,
    DemoSeedError,
    Writer,
)
from .write_casework import casework_lines, close_providers, providers, write_casework
from .write_figures import figures_lines, write_figures
from .write_premium import premium_lines, write_premium

# --- writing it ----------------------------------------------------------------------------


def seed_demo(seed: int = 1, *, stdout: Writer | None = None) -> DemoResult:
    """Create the demo scheme for `seed`, or leave it as it is if it is already there.

    Raises DemoSeedError, writing nothing, if demo data of another seed is present or a
    demo login's username belongs to somebody else.
    """
    if seed < 0:
        raise DemoSeedError("The seed must be zero or a positive whole number")
    today = timezone.localdate()
    # The selection services audit what they write (as the demo manager or YOT worker).
    with audit_context(channel="command", path=f"seed_demo --seed {seed}"), transaction.atomic():
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
        created, present, ids = _people(plan, today, agencies, users, categories)
        new = [p for p in plan.people if p.local_ref(seed) in ids]
        if new:
            try:
                created |= _selection_history(plan, new, ids, today, agencies, users)
            except (ApplicationError, NotPermitted) as error:
                raise DemoSeedError(f"The demo's selection history was refused: {error}") from error
        # The providers directory (reference data), then the new people's referrals,
        # needs, actions and case conferences, through the pathways and conferences
        # services, oldest first (demo/scheme/casework.py).
        found, closing, made = providers(agencies)
        if made:
            created["providers"] = made
        if new:
            created |= write_casework(plan, new, ids, today, agencies, users, found)
            # The premium service (demo/scheme/premium.py): levels, enforcement, release
            # dates and plans, reception assessments, through the offenders services.
            created |= write_premium(plan, new, ids, today, agencies, users)
            # The reporting year (demo/scheme/figures.py): the offending before entry
            # the cohorts' figures need, last year's and this year's NI30 cohorts, and
            # last year's self-assessment, through the offenders and reporting services.
            created |= write_figures(plan, new, ids, today, users)
        close_providers(found, closing)
        # The daily sweep, for today, so the manager's home page and reviews list show
        # what is due (selection.reviews); on a second run the same day it raises nothing.
        try:
            swept = sweep(as_of=today, channel="command")
        except ApplicationError as error:
            raise DemoSeedError(f"The review sweep was refused: {error}") from error
        if swept.total_raised:
            created["reviews raised"] = swept.total_raised
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
    # Members since before the oldest panel they chair or decide at.
    started_on = (today - dt.timedelta(days=HISTORY_DAYS)).replace(day=1)
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
) -> tuple[dict[str, int], int, dict[str, int]]:
    """The people not yet in the database, with their records; returns what was created,
    how many were already present, and the new people's ids by local reference."""
    seed = plan.seed
    prefix = f"{DEMO_REF_PREFIX}{seed}-"
    present = set(
        Offender.objects.filter(local_ref__startswith=prefix).values_list("local_ref", flat=True)
    )
    new = [p for p in plan.people if p.local_ref(seed) not in present]
    if not new:
        return {}, len(present), {}

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
    OffenderStrand.objects.bulk_create(
        OffenderStrand(offender_id=ids[p.local_ref(seed)], strand=strand)
        for p in new
        for strand in p.strands
    )

    police = agencies["police"].pk
    events: list[OffendingEvent] = []
    custody: list[CustodyEpisode] = []
    contacts: list[Contact] = []
    tests: list[DrugTest] = []
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
                # As contact_log flags it (001 §3.2e); write_premium opens its case.
                enforcement_flagged=contact.outcome == ContactOutcome.FAILED
                and p.supervision in ENFORCING_STEP,
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
    OffendingEvent.objects.bulk_create(events, batch_size=1000)
    CustodyEpisode.objects.bulk_create(custody, batch_size=1000)
    Contact.objects.bulk_create(contacts, batch_size=1000)
    DrugTest.objects.bulk_create(tests, batch_size=1000)
    created = {
        "people": len(offenders),
        "offending events": len(events),
        "custody episodes": len(custody),
        "contacts": len(contacts),
        "drug tests": len(tests),
    }
    new_refs = {p.local_ref(seed) for p in new}
    return created, len(present), {ref: pk for ref, pk in ids.items() if ref in new_refs}


def panel_dates(today: dt.date) -> tuple[int, dt.date]:
    """How far the plan's panel days move to fall on PANEL_WEEKDAY, and the past run's
    date. The plan's panels are 28 days apart, so they share a weekday; moving them all
    forward by the same 0–6 days keeps every gap the plan counted (six months quiet
    before a step down, two years before a two-year review)."""
    recent = today - dt.timedelta(days=RECENT_PANEL_AGO)
    shift = (PANEL_WEEKDAY - recent.weekday()) % 7
    run_on = recent + dt.timedelta(days=shift - RUN_BEFORE_PANEL_DAYS)
    return shift, run_on


def _selection_history(
    plan: DemoPlan,
    new: list[PersonPlan],
    ids: dict[str, int],
    today: dt.date,
    agencies: dict[str, Agency],
    users: dict[str, Any],
) -> dict[str, int]:
    """The new people's risk assessments, panel decisions and the one past run, oldest
    first, through selection's services: the PPO manager records assessments, the run and
    the selection panels, the YOT worker the DYO panels (003 §7.2). Only a recorded
    decision opens or closes a programme episode (selection.panel)."""
    manager = actor_for(users["manager"], today)
    yot = actor_for(users["yot"], today)
    shift, run_on = panel_dates(today)
    seed = plan.seed

    def day(days_ago: int) -> dt.date:
        return today - dt.timedelta(days=days_ago)

    assessments = 0
    for person in new:
        for assessment in person.risk_assessments:
            risk_assessment_record(
                user=manager,
                offender_id=ids[person.local_ref(seed)],
                assessed_on=day(assessment.days_ago),
                tool=assessment.tool,
                likelihood_score=assessment.likelihood,
                rosh_level=assessment.rosh,
            )
            assessments += 1

    by_day: dict[int, list[tuple[int, DecisionPlan]]] = defaultdict(list)
    for person in new:
        for decision in person.decisions:
            by_day[decision.days_ago].append((ids[person.local_ref(seed)], decision))
    attending = [agencies[key].pk for key in PANEL_AGENCIES]
    panels: set[int] = set()
    decisions = 0
    run: SelectionRun | None = None
    for days_ago in sorted(by_day, reverse=True):
        held_on = day(days_ago - shift)
        if days_ago <= RECENT_PANEL_AGO and run is None:
            # The run the most recent panel follows, made the week before it.
            run = SelectionRun.objects.filter(as_of=run_on, run_by=manager.user).first()
            run = run or selection_run(user=manager, as_of=run_on)
        for offender_id, decision in by_day[days_ago]:
            if decision.kind in DYO_KINDS:
                actor, panel = yot, dyo_panel_for(user=yot, held_on=held_on)
            else:
                actor, panel = manager, _selection_panel(manager, held_on, attending, run)
            panels.add(panel.pk)
            panel_decide(
                user=actor,
                panel_id=panel.pk,
                offender_id=offender_id,
                kind=decision.kind,
                deselection_reason=decision.deselection_reason,
                exit_outcome=decision.exit_outcome,
                reason=decision.reason,
                asset_score=decision.asset_score,
                scaled_approach=decision.scaled_approach,
            )
            decisions += 1
    transfers = 0
    for person in new:
        if person.transfer_in is not None:
            transfer_in_record(
                user=manager,
                offender_id=ids[person.local_ref(seed)],
                from_scheme=person.transfer_in.from_scheme,
                from_area=person.transfer_in.from_area,
                arrived_on=day(person.transfer_in.arrived_ago),
                note=person.transfer_in.note,
            )
            transfers += 1
    return {
        "programme episodes": ProgrammeEpisode.objects.filter(offender_id__in=ids.values()).count(),
        "risk assessments": assessments,
        "panels": len(panels),
        "panel decisions": decisions,
        "transfers in": transfers,
    }


def _selection_panel(
    actor: Actor, held_on: dt.date, attending: list[int], run: SelectionRun | None
) -> SelectionPanel:
    """The demo manager's selection panel of that day, found or recorded."""
    found = SelectionPanel.objects.filter(
        kind=PanelKind.SELECTION, held_on=held_on, chair=actor.user
    ).first()
    if found is not None:
        return found
    notes = "Monthly selection panel (003 §6.1)."
    if run is not None:
        notes += f" Agenda from the selection run of {run.as_of.day} {run.as_of:%B %Y}."
    return panel_create(
        user=actor, held_on=held_on, chair_id=actor.user.pk, agency_ids=attending, notes=notes
    )


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _reviews_due(today: dt.date) -> str:
    due = Review.objects.filter(status=ReviewStatus.OPEN, due_on__lte=today)
    by_kind = Counter(due.values_list("kind", flat=True))
    return (
        f"Reviews due by today: {sum(by_kind.values())} open, of {len(by_kind)} of the "
        f"{len(ReviewKind)} kinds (the manager's home page and /selection/reviews/)."
    )


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
    on_iom = demo.filter(
        pk__in=ProgrammeEpisode.objects.open_on(today)
        .filter(kind=ProgrammeKind.IOM)
        .values("offender")
    ).count()
    decisions = PanelDecision.objects.filter(offender__in=demo)
    panels = SelectionPanel.objects.filter(decisions__in=decisions).distinct()
    selection_panels = panels.filter(kind=PanelKind.SELECTION).order_by("held_on")
    first, last = selection_panels.first(), selection_panels.last()
    runs = SelectionRun.objects.filter(run_by__email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
    run = runs.order_by("-as_of").first()
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
        f"Former PPOs: {ever_ppo - ppos.count()}, {on_iom} of them on the IOM tier; "
        f"DYOs: {demo.filter(episodes__kind=ProgrammeKind.DYO).distinct().count()}; "
        f"other known offenders: {demo.filter(episodes__isnull=True).count():,}; "
        f"offending events: {OffendingEvent.objects.filter(offender__in=demo).count():,}.",
        f"Panels: {selection_panels.count()} selection panels"
        + (f" ({_long(first.held_on)} to {_long(last.held_on)})" if first and last else "")
        + f" and {panels.filter(kind=PanelKind.DYO).count()} DYO panels, with "
        f"{decisions.count()} decisions; "
        f"{RiskAssessment.objects.filter(offender__in=demo).count()} risk assessments.",
        _reviews_due(today),
        (
            f"Selection run of {_long(run.as_of)} (matrix version {run.version.number}): "
            f"{run.entries.count()} people listed."
            if run
            else "No selection run yet."
        ),
        *casework_lines(demo, today),
        *premium_lines(demo, today),
        *figures_lines(demo, today),
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
