"""The case conference pages: the list, who is due one, arranging one, the generated
agenda (page and PDF), recording it as it runs, closing it, core-group meetings, and the
person's "Conferences" tab.

Who sees and does what is the selectors' and services' business (conferences.selectors,
conferences.agenda, conferences.services): the views show what they return, turn a role's
refusal into a 403 (audited by the 403 handler) and a service's message into the error
summary. Every form carries a one-time token (access.submissions) and, where it changes a
record that others may change too, the version it was read at.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import NotPermitted, Refused
from access.policy import Actor, actor_for
from access.submissions import Outcome
from offenders.selectors import offender_get
from offenders.tabs import tabs_for
from pathways.selectors import owner_agency_choices, owner_choices
from selection.views import _save, place_service_error

from . import agenda as agendas
from . import selectors, services
from .forms import (
    ActionForm,
    AttendanceForm,
    CloseForm,
    ConferenceForm,
    CoreGroupForm,
    NeedForm,
    PersonRecordForm,
)
from .models import CaseConference, ConferencePerson

CONFERENCE = selectors.CONFERENCE
# The need and action forms share a page with the record form and both have a "Pathway":
# ids of their own, so each label (and each error summary link) finds its own field.
NEED_IDS = "need-%s"
ACTION_IDS = "action-%s"


def _bound(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _runner(request: HttpRequest, record_id: Any = "") -> Actor:
    actor = actor_for(request.user)
    if not services.may_run_conferences(actor):
        raise Refused(CONFERENCE, record_id, "only the PPO manager records case conferences")
    return actor


def _detail_url(conference: CaseConference) -> str:
    return reverse("conferences:detail", args=[conference.pk])


def _closed_page(request: HttpRequest, conference: CaseConference) -> HttpResponse:
    """A closed conference's recording pages: refused, in words (nothing can be saved)."""
    return render(
        request,
        "conferences/closed.html",
        {"conference": conference, "message": str(services.ClosedConference(conference))},
        status=409,
    )


def _stale_version(form: Any, current: int) -> None:
    """After a stale save, the form is shown again with what was typed and the version
    now current, so that saving it again (having checked) overwrites knowingly."""
    data = form.data.copy()
    data["version"] = str(current)
    form.data = data


# --- lists ------------------------------------------------------------------------------------


@login_required
@require_GET
def list_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    planned, closed = selectors.conference_list(user=actor)
    return render(
        request,
        "conferences/list.html",
        {
            "planned": planned,
            "closed": closed,
            "may_arrange": services.may_run_conferences(actor),
            "sees_due": selectors.reads_every_conference(actor),
        },
    )


@login_required
@require_GET
def due_view(request: HttpRequest) -> HttpResponse:
    due = selectors.due_for_conference(user=request.user)
    return render(request, "conferences/due.html", {"due": due})


# --- arranging one ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def create_view(request: HttpRequest) -> HttpResponse:
    actor = _runner(request)
    initial: dict[str, Any] = {"chair": actor.user.pk if actor.user else None}
    if request.method == "GET":
        initial["people"] = [v for v in request.GET.getlist("people") if str(v).isdigit()] or [
            str(row.offender.pk) for row in selectors.due_for_conference(user=actor).due_now
        ]
    form = ConferenceForm(
        _bound(request),
        initial=initial,
        chairs=selectors.chair_choices(actor.as_of),
        people=selectors.ppo_choices(actor),
        agencies=selectors.agency_choices(),
    )

    def save() -> Outcome:
        made = services.conference_create(user=actor, **form.service_args())
        return Outcome(
            _detail_url(made), f"Case conference of {services.long_date(made.held_on)} arranged"
        )

    if done := _save(request, form, save, record_type=CONFERENCE, place=place_service_error):
        return done
    return render(request, "conferences/create.html", {"form": form})


# --- the agenda -------------------------------------------------------------------------------


@login_required
@require_GET
def detail_view(request: HttpRequest, conference_id: int) -> HttpResponse:
    agenda = agendas.agenda(user=request.user, conference_id=conference_id)
    return render(request, "conferences/detail.html", {"agenda": agenda})


@login_required
@require_GET
def agenda_pdf_view(request: HttpRequest, conference_id: int) -> HttpResponse:
    document = agendas.agenda_pdf(user=request.user, conference_id=conference_id)
    response = HttpResponse(document.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    # Named people's records: not kept by the browser or any proxy.
    response["Cache-Control"] = "no-store"
    return response


# --- running it -------------------------------------------------------------------------------


def _conference(actor: Actor, conference_id: Any) -> CaseConference:
    return selectors.conference_for_reader(actor, conference_id)


@login_required
@require_http_methods(["GET", "POST"])
def attendance_view(request: HttpRequest, conference_id: int) -> HttpResponse:
    actor = _runner(request, conference_id)
    conference = _conference(actor, conference_id)
    if conference.is_closed and request.method == "GET":
        return _closed_page(request, conference)
    attendances = list(conference.attendances.all())
    form = AttendanceForm(
        _bound(request),
        initial={"version": conference.version},
        attendances=attendances,
    )

    def save() -> Outcome:
        services.attendance_record(
            user=actor,
            conference_id=conference.pk,
            version=form.cleaned_data["version"],
            attendance=form.attendance(),
        )
        return Outcome(_detail_url(conference), "Attendance recorded")

    if done := _save(
        request,
        form,
        save,
        record_type=CONFERENCE,
        record_id=conference.pk,
        place=place_service_error,
    ):
        return done
    if form.is_bound and form.errors:
        current = CaseConference.objects.get(pk=conference.pk)
        if current.version != _int(form.data.get("version")):
            _stale_version(form, current.version)
    return render(request, "conferences/attendance.html", {"conference": conference, "form": form})


def _person_on(actor: Actor, conference: CaseConference, person_id: Any) -> ConferencePerson:
    person = next(
        (p for p in selectors.visible_people(actor, conference) if str(p.pk) == str(person_id)),
        None,
    )
    if person is None:
        from access import audit
        from access.errors import OutOfScope

        audit.denied(actor, selectors.CONFERENCE_PERSON, person_id, "outside scope")
        raise OutOfScope(selectors.CONFERENCE_PERSON, person_id)
    return person


def _record_initial(person: ConferencePerson) -> dict[str, Any]:
    """The person's record as saved, and the version it was read at."""
    return {
        "version": person.version,
        "minutes": person.minutes,
        "offender_comment": person.offender_comment,
        "contact_level_per_week": person.contact_level_per_week,
        "next_conference_on": person.next_conference_on,
    }


def _record_context(
    actor: Actor, conference: CaseConference, person: ConferencePerson, **forms: Any
) -> dict[str, Any]:
    pathways = selectors.pathway_choices()
    agencies = owner_agency_choices(actor)
    context = {
        "conference": conference,
        "person": person,
        "name": selectors.person_name(actor, person.offender),
        "record_form": forms.get("record_form")
        or PersonRecordForm(initial=_record_initial(person)),
        "need_form": forms.get("need_form") or NeedForm(pathways=pathways, auto_id=NEED_IDS),
        "action_form": forms.get("action_form")
        or ActionForm(
            pathways=pathways,
            agencies=agencies,
            owners=owner_choices(actor, agencies),
            auto_id=ACTION_IDS,
        ),
        "stale": forms.get("stale"),
    }
    return context


@login_required
@require_http_methods(["GET", "POST"])
def person_record_view(request: HttpRequest, conference_id: int, person_id: int) -> HttpResponse:
    """One person's record at the conference: minutes, their comment, the contact level,
    the next date (one form with the version), and the need and action forms."""
    actor = _runner(request, conference_id)
    conference = _conference(actor, conference_id)
    person = _person_on(actor, conference, person_id)
    if conference.is_closed and request.method == "GET":
        return _closed_page(request, conference)
    # Opened with the record as saved and its version: without them the page showed empty
    # fields and posted no version, so every save was refused.
    form = PersonRecordForm(_bound(request), initial=_record_initial(person))
    url = reverse("conferences:person", args=[conference.pk, person.pk])
    name = selectors.person_name(actor, person.offender)

    def save() -> Outcome:
        services.conference_person_record(
            user=actor, conference_person_id=person.pk, **form.service_args()
        )
        return Outcome(_detail_url(conference) + f"#person-{person.pk}", f"Record for {name} saved")

    if done := _save(
        request,
        form,
        save,
        record_type=CONFERENCE,
        record_id=conference.pk,
        place=place_service_error,
    ):
        return done
    stale = None
    if form.is_bound and form.errors:
        current = ConferencePerson.objects.get(pk=person.pk)
        if current.version != _int(form.data.get("version")):
            stale = current
            _stale_version(form, current.version)
    context = _record_context(actor, conference, person, record_form=form, stale=stale)
    context["url"] = url
    return render(request, "conferences/person_record.html", context)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_http_methods(["POST"])
def need_view(request: HttpRequest, conference_id: int, person_id: int) -> HttpResponse:
    actor = _runner(request, conference_id)
    conference = _conference(actor, conference_id)
    person = _person_on(actor, conference, person_id)
    form = NeedForm(request.POST, pathways=selectors.pathway_choices(), auto_id=NEED_IDS)
    name = selectors.person_name(actor, person.offender)

    def save() -> Outcome:
        need = services.conference_need_set(
            user=actor,
            conference_person_id=person.pk,
            pathway_id=form.cleaned_data["pathway"],
            level=form.cleaned_data["level"],
            note=form.cleaned_data["note"],
        )
        return Outcome(
            reverse("conferences:person", args=[conference.pk, person.pk]),
            f"{need.pathway.name}: need for {name} recorded as {need.get_level_display().lower()}",
        )

    if done := _save(
        request,
        form,
        save,
        record_type=CONFERENCE,
        record_id=conference.pk,
        place=place_service_error,
    ):
        return done
    context = _record_context(actor, conference, person, need_form=form)
    return render(request, "conferences/person_record.html", context)


@login_required
@require_http_methods(["POST"])
def action_view(request: HttpRequest, conference_id: int, person_id: int) -> HttpResponse:
    actor = _runner(request, conference_id)
    conference = _conference(actor, conference_id)
    person = _person_on(actor, conference, person_id)
    agencies = owner_agency_choices(actor)
    form = ActionForm(
        request.POST,
        pathways=selectors.pathway_choices(),
        agencies=agencies,
        owners=owner_choices(actor, agencies),
        auto_id=ACTION_IDS,
    )
    name = selectors.person_name(actor, person.offender)

    def save() -> Outcome:
        action = services.conference_action_create(
            user=actor, conference_person_id=person.pk, **form.service_args()
        )
        return Outcome(
            reverse("conferences:person", args=[conference.pk, person.pk]),
            f"{action.pathway.name}: action for {name} added",
        )

    if done := _save(
        request,
        form,
        save,
        record_type=CONFERENCE,
        record_id=conference.pk,
        place=place_service_error,
    ):
        return done
    context = _record_context(actor, conference, person, action_form=form)
    return render(request, "conferences/person_record.html", context)


# --- closing it -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def close_view(request: HttpRequest, conference_id: int) -> HttpResponse:
    """ "Closing freezes the plans and cannot be undone": a confirmation page, then the
    close (shared/UI.md "Are you sure?")."""
    actor = _runner(request, conference_id)
    conference = _conference(actor, conference_id)
    if conference.is_closed and request.method == "GET":
        return _closed_page(request, conference)
    form = CloseForm(_bound(request), initial={"version": conference.version})

    def save() -> Outcome:
        services.conference_close(
            user=actor, conference_id=conference.pk, version=form.cleaned_data["version"]
        )
        return Outcome(
            _detail_url(conference),
            f"Case conference of {services.long_date(conference.held_on)} closed: the plans "
            "are frozen as agreed",
        )

    if done := _save(
        request,
        form,
        save,
        record_type=CONFERENCE,
        record_id=conference.pk,
        place=place_service_error,
    ):
        return done
    if form.is_bound and form.errors:
        current = CaseConference.objects.get(pk=conference.pk)
        _stale_version(form, current.version)
    people = selectors.visible_people(actor, conference)
    return render(
        request,
        "conferences/close.html",
        {"conference": conference, "form": form, "people": len(people)},
    )


# --- core-group meetings ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def core_group_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor = _runner(request, offender_id)
    offender = offender_get(user=actor, pk=offender_id, write=True)
    form = CoreGroupForm(_bound(request), agencies=selectors.agency_choices())

    def save() -> Outcome:
        data = form.cleaned_data
        services.core_group_record(
            user=actor,
            offender_id=offender.pk,
            held_on=data["held_on"],
            notes=data["notes"],
            agency_ids=list(data["agencies"]),
        )
        return Outcome(
            reverse("conferences:person-tab", args=[offender.pk]), "Core-group meeting recorded"
        )

    if done := _save(request, form, save, record_type=CONFERENCE, place=place_service_error):
        return done
    return render(
        request,
        "conferences/core_group.html",
        {"offender": offender, "name": selectors.person_name(actor, offender), "form": form},
    )


# --- the person's tab -------------------------------------------------------------------------


@login_required
@require_GET
def person_tab_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        page = selectors.person_conferences(user=actor, offender_id=offender_id)
    except NotPermitted as refusal:
        raise Refused(CONFERENCE, offender_id, refusal.message) from None
    if request.GET.get("saved"):
        messages.info(request, "Saved")
    return render(
        request,
        "conferences/person_tab.html",
        {
            "page": page,
            "offender": page.offender,
            "person_tabs": tabs_for(actor, page.offender.pk),
        },
    )
