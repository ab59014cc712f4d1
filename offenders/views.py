from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from access.errors import ApplicationError, Refused
from access.policy import (
    RecordKind,
    Write,
    actor_for,
    can_change_person,
    grant,
    kind_of_event,
    may_write_kind,
    visible_fields,
)
from access.submissions import Outcome, save_once

from . import contact_levels, enforcement, selectors, services
from . import timeline as timeline_selector
from .forms import (
    DIFFERENT_PERSON,
    ContactForm,
    ContactLevelForm,
    CustodyEpisodeForm,
    DrugTestForm,
    GradeForm,
    OffenderForm,
    OffendingEventForm,
    ReleaseForm,
    TimelineFilterForm,
)
from .grades import grade_prompt_count, grade_prompt_for
from .log_another import log_another_url
from .models import EventKind
from .presentation import list_columns, search_label
from .selectors import OFFENDER
from .tabs import tabs_for
from .tiers import Tier, read_tier, tier_choices, tier_counts, tier_options

# Model fields whose errors belong to a differently named form field.
FORM_FIELD_FOR = {"occurred_at": "date", "tested_at": "date"}


def _apply_errors(form: Any, error: Exception) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            name = FORM_FIELD_FOR.get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    elif isinstance(error, ApplicationError):
        placed = False
        for name, errors in error.field_errors.items():
            if name in form.fields:
                form.add_error(name, errors)
                placed = True
        if not placed:
            form.add_error(None, error.message)
    else:
        form.add_error(None, getattr(error, "messages", [str(error)]))


def _save(
    request: HttpRequest,
    form: Any,
    save: Callable[[dict[str, Any]], Outcome],
    *,
    let_through: tuple[type[Exception], ...] = (),
) -> HttpResponse | None:
    """Save a valid posted form once (access.submissions): the redirect to show, or None
    to show the form again with its errors. A repeated post saves nothing and says so.
    Errors in `let_through` are the caller's to handle."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        outcome = save_once(
            user=request.user, token=form.token, save=lambda: save(form.cleaned_data)
        )
    except let_through:
        raise
    except (ValidationError, ApplicationError) as error:
        _apply_errors(form, error)
        return None
    if outcome.repeated:
        messages.info(request, outcome.message)
    else:
        messages.success(request, outcome.message)
    return redirect(outcome.url)


@login_required
def offender_list_view(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    actor = actor_for(request.user)
    tiers = tier_choices(actor, on_a_tier_only=False)
    tier, tier_problem = read_tier(request.GET.get("tier"), tiers)
    page = selectors.offender_page(
        user=actor, search=search, page_number=request.GET.get("page"), tier=tier
    )
    identity = visible_fields(actor, RecordKind.IDENTITY)
    columns = list_columns(identity, visible_fields(actor, RecordKind.CUSTODY))
    if selectors.shows_release_dates(actor):
        columns.append(("release_here", "Release date"))
    counts = (
        tier_counts(selectors.offender_list(user=actor, search=search), tiers, actor.as_of)
        if tiers
        else {}
    )
    return render(
        request,
        "offenders/list.html",
        {
            "page": page,
            "search": search,
            "search_label": search_label(identity),
            "columns": columns,
            "can_add": grant(actor, RecordKind.IDENTITY).write > 0,
            "tier": tier,
            "tier_label": Tier(tier).label if tier else "",
            "tier_options": tier_options(tiers, counts) if tiers else [],
            "tier_problem": tier_problem,
            "query": urlencode({k: v for k, v in (("q", search), ("tier", tier)) if v}),
            # 003 §5.6: the grades custody has made stale, and the tasking meeting's list.
            "grade_prompt_count": grade_prompt_count(user=actor),
        },
    )


@login_required
def offender_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    profile = selectors.offender_profile(user=request.user, pk=pk)
    actor = actor_for(request.user)
    actions = casework_actions(actor, profile.offender)
    return render(
        request,
        "offenders/detail.html",
        {
            "profile": profile,
            "offender": profile.offender,
            "actions": actions,
            "person_tabs": tabs_for(actor, profile.offender.pk),
            # 003 §5.6: custody started -> Blue; released -> re-grade (offenders.grades).
            "grade_prompt": grade_prompt_for(actor=actor, offender=profile.offender),
            "grade_change_url": reverse("offenders:grade-change", args=[profile.offender.pk]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def offender_create_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if grant(actor, RecordKind.IDENTITY).write is Write.NONE:
        raise Refused(OFFENDER, "", "role may not add people")
    form = OffenderForm(request.POST or None)
    duplicates: list[Any] = []
    duplicates_hidden = 0

    def save(data: dict[str, Any]) -> Outcome:
        data = dict(data)
        different = bool(data.pop(DIFFERENT_PERSON, False))
        offender = services.offender_create(
            user=request.user, data=data, different_person=different
        )
        return Outcome(
            reverse("offenders:detail", args=[offender.pk]), f"{offender.full_name} has been added"
        )

    try:
        if done := _save(request, form, save, let_through=(services.PossibleDuplicate,)):
            return done
    except services.PossibleDuplicate as duplicate:
        form = OffenderForm(request.POST, confirm_duplicate=True)
        form.is_valid()
        form.add_error(DIFFERENT_PERSON, duplicate.message)
        duplicates, duplicates_hidden = selectors.possible_duplicates(
            user=actor, ids=duplicate.matches
        )
    return render(
        request,
        "offenders/form.html",
        {
            "form": form,
            "title": "Add a person",
            "duplicates": duplicates,
            "duplicates_hidden": duplicates_hidden,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def offender_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    offender = selectors.offender_for_form(user=actor, pk=pk, kind=RecordKind.IDENTITY)
    form = OffenderForm(request.POST or None, instance=offender)

    def save(data: dict[str, Any]) -> Outcome:
        services.offender_update(user=request.user, offender_id=offender.pk, data=data)
        return Outcome(
            reverse("offenders:detail", args=[offender.pk]), "The details have been saved"
        )

    if done := _save(request, form, save):
        return done
    selectors.offender_form_shown(actor, offender, form="change details", shown=list(form.fields))
    return render(
        request,
        "offenders/form.html",
        {"form": form, "title": f"Change details – {offender.full_name}", "offender": offender},
    )


@login_required
@require_http_methods(["GET", "POST"])
def custody_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    offender = selectors.offender_for_form(user=actor, pk=pk, kind=RecordKind.CUSTODY)
    form = CustodyEpisodeForm(request.POST or None, offender=offender)

    def save(data: dict[str, Any]) -> Outcome:
        services.custody_episode_create(user=request.user, offender_id=offender.pk, data=data)
        return Outcome(
            reverse("offenders:detail", args=[offender.pk]), "The custody episode has been recorded"
        )

    if done := _save(request, form, save):
        return done
    selectors.offender_form_shown(actor, offender, form="record custody", shown=["full_name"])
    return render(
        request,
        "offenders/form.html",
        {"form": form, "title": f"Record custody – {offender.full_name}", "offender": offender},
    )


def _casework_form(
    request: HttpRequest,
    pk: int,
    *,
    kind: RecordKind,
    title: str,
    form_factory: Callable[..., Any],
    save: Callable[[Any, dict[str, Any]], str],
    submit: str = "Save",
    another: bool = False,
    agency_owned: bool = False,
) -> HttpResponse:
    """One short form that records something about a person, then back to their timeline."""
    actor = actor_for(request.user)
    offender = selectors.offender_for_form(
        user=actor,
        pk=pk,
        kind=kind,
        record_agency_id=actor.agency_id if agency_owned else None,
    )
    form = form_factory(request.POST or None, offender=offender)
    if request.method == "GET" and hasattr(form, "initial_now"):
        form.initial_now()

    def record(data: dict[str, Any]) -> Outcome:
        message = save(offender, data)
        if another and "another" in request.POST:
            # Issue 13.1: on down the caseload, the next person's "Log contact" focused.
            return Outcome(log_another_url(request.GET, offender.pk), message)
        return Outcome(reverse("offenders:timeline", args=[offender.pk]), message)

    if done := _save(request, form, record):
        return done
    selectors.offender_form_shown(actor, offender, form=title, shown=["full_name"])
    return render(
        request,
        "offenders/casework_form.html",
        {
            "form": form,
            "title": f"{title} – {offender.full_name}",
            "heading": title,
            "offender": offender,
            "submit": submit,
            "another": another,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    def save(offender: Any, data: dict[str, Any]) -> str:
        contact = services.contact_log(
            user=request.user,
            offender_id=offender.pk,
            occurred_at=data["when"],
            kind=data["kind"],
            outcome=data["outcome"],
            face_to_face=data["face_to_face"],
            note=data["note"],
        )
        case = getattr(contact, "enforcement_case", None)
        if case is not None:
            # 001 §3.2e: say what happens next and by when, not only that it was flagged.
            [clock] = enforcement.clocks_for([case], as_of=case.failed_on)
            action = "a recall request" if clock.by_recall else "a breach"
            owner = case.owner.get_full_name() or case.owner.username
            return (
                f"Contact logged for {offender.full_name}. Failed to attend while on "
                f"{clock.supervision_label.lower()}: "
                f"an enforcement case is open, owned by {owner}; {action} is due by "
                f"{clock.last_day:%A} {enforcement.long_date(clock.last_day)}"
            )
        if contact.enforcement_flagged:
            return (
                f"Contact logged for {offender.full_name}. Failed to attend while on licence "
                "or an order: flagged for fast-track breach or recall"
            )
        return f"Contact logged for {offender.full_name}"

    return _casework_form(
        request,
        pk,
        kind=RecordKind.CONTACTS,
        title="Log a contact",
        form_factory=ContactForm,
        save=save,
        submit="Save contact",
        another=True,
        agency_owned=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def drug_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    def save(offender: Any, data: dict[str, Any]) -> str:
        services.drug_test_record(
            user=request.user,
            offender_id=offender.pk,
            tested_at=data["when"],
            result=data["result"],
            substances=data["substances"],
            note=data["note"],
        )
        return "Drug test recorded"

    return _casework_form(
        request,
        pk,
        kind=RecordKind.DRUG_TESTS,
        title="Record a drug test",
        form_factory=DrugTestForm,
        save=save,
        agency_owned=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def event_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    kinds = [
        (value, label)
        for value, label in EventKind.choices
        if grant(actor, kind_of_event(value)).write is not Write.NONE
    ]

    def save(offender: Any, data: dict[str, Any]) -> str:
        event = services.offending_event_record(
            user=request.user,
            offender_id=offender.pk,
            kind=data["kind"],
            category=data["category"],
            occurred_on=data["occurred_on"],
            source_reference=data["source_reference"],
            summary=data["summary"],
        )
        return f"{event.get_kind_display()} recorded"

    return _casework_form(
        request,
        pk,
        kind=RecordKind.OFFENDING,
        title="Record an arrest, charge or intelligence",
        form_factory=lambda data, **kw: OffendingEventForm(data, kinds=kinds, **kw),
        save=save,
    )


@login_required
@require_http_methods(["GET", "POST"])
def custody_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    def save(offender: Any, data: dict[str, Any]) -> str:
        services.custody_release(
            user=request.user,
            offender_id=offender.pk,
            released_on=data["released_on"],
            supervision_on_release=data["supervision_on_release"],
        )
        return "Release recorded"

    return _casework_form(
        request,
        pk,
        kind=RecordKind.CUSTODY,
        title="Record a release from custody",
        form_factory=ReleaseForm,
        save=save,
    )


@login_required
@require_http_methods(["GET", "POST"])
def grade_change_view(request: HttpRequest, pk: int) -> HttpResponse:
    def save(offender: Any, data: dict[str, Any]) -> str:
        change = services.grade_change(
            user=request.user,
            offender_id=offender.pk,
            to_grade=data["to_grade"],
            reason=data["reason"],
        )
        return f"IOM grade changed to {change.get_to_grade_display()}"

    return _casework_form(
        request,
        pk,
        kind=RecordKind.IDENTITY,
        title="Change the IOM grade",
        form_factory=GradeForm,
        save=save,
    )


def _page_number(text: str | None) -> int:
    """A page number from the address; anything else (missing, "abc", "-2") is page 1."""
    return int(text) if text and text.isdigit() and int(text) > 0 else 1


@login_required
def timeline_view(request: HttpRequest, pk: int) -> HttpResponse:
    kinds = set(request.GET.getlist("kind")) or None
    period = TimelineFilterForm(request.GET)
    # A bad date is shown on the form and the timeline shows the whole period meanwhile.
    dates = period.cleaned_data if period.is_valid() else {}
    timeline = timeline_selector.offender_timeline(
        user=request.user,
        pk=pk,
        kinds=kinds,
        date_from=dates.get("date_from"),
        date_to=dates.get("date_to"),
        page=_page_number(request.GET.get("page")),
    )
    actor = actor_for(request.user)
    offender = timeline.offender
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "offenders/timeline.html",
        {
            "timeline": timeline,
            "offender": offender,
            "period": period,
            "query": query.urlencode(),
            "actions": casework_actions(actor, offender),
            "person_tabs": tabs_for(actor, offender.pk),
        },
    )


def casework_actions(actor: Any, offender: Any) -> list[tuple[str, str]]:
    """The "log something" links this viewer may use for this person.

    Whether the person is writable at all is asked once; then each kind of record.
    """
    if not can_change_person(actor, offender.pk):
        return []
    own = {"record_agency_id": actor.agency_id}
    candidates = [
        (RecordKind.CONTACTS, own, "Log contact", "offenders:contact-log"),
        (RecordKind.DRUG_TESTS, own, "Record drug test", "offenders:drug-test"),
        (RecordKind.OFFENDING, {}, "Record arrest or intelligence", "offenders:event-record"),
        (RecordKind.CUSTODY, {}, "Record custody", "offenders:custody-create"),
    ]
    if offender.current_status != "community":
        candidates.append((RecordKind.CUSTODY, {}, "Record release", "offenders:custody-release"))
    candidates += [
        (RecordKind.IDENTITY, {}, "Change IOM grade", "offenders:grade-change"),
        (RecordKind.IDENTITY, {}, "Change details", "offenders:update"),
    ]
    return [
        (label, reverse(url_name, args=[offender.pk]))
        for kind, options, label, url_name in candidates
        if may_write_kind(actor, kind, **options)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def contact_level_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Change the contact level" (001 §3.2b): for those who write every contact of the
    person (offenders.contact_levels); others are refused (403, audited)."""
    actor = actor_for(request.user)
    # Contacts written for every agency, not only one's own: prison and partner staff
    # (Write.OWN_AGENCY) are refused here, as contact_level_set refuses them.
    offender = selectors.offender_for_form(user=actor, pk=pk, kind=RecordKind.CONTACTS)
    if not contact_levels.may_set_levels(actor):
        raise Refused(OFFENDER, offender.pk, "role may not set contact levels")
    current = contact_levels.level_on(user=actor, offender=offender, day=actor.as_of)
    initial: dict[str, Any] = {"starts_on": actor.as_of}
    if current is not None:
        initial |= {
            "contacts_per_week": current.contacts,
            "drug_tests_per_week": current.drug_tests,
        }
    form = ContactLevelForm(request.POST or None, offender=offender, initial=initial)

    def save(data: dict[str, Any]) -> Outcome:
        level = contact_levels.contact_level_set(
            user=request.user,
            offender_id=offender.pk,
            contacts_per_week=data["contacts_per_week"],
            drug_tests_per_week=data["drug_tests_per_week"],
            starts_on=data["starts_on"],
            reason=data["reason"],
        )
        return Outcome(
            reverse("offenders:detail", args=[offender.pk]) + "#contact-level",
            f"Contact level set: {level.contacts_per_week} contacts and "
            f"{level.drug_tests_per_week} drug tests a week from {level.starts_on.day} "
            f"{level.starts_on:%B %Y}",
        )

    if done := _save(request, form, save):
        return done
    selectors.offender_form_shown(
        actor, offender, form="change the contact level", shown=["full_name", "contact_level"]
    )
    return render(
        request,
        "offenders/contact_level_form.html",
        {
            "form": form,
            "offender": offender,
            "current": current,
            "title": f"Change the contact level – {offender.full_name}",
        },
    )
