"""The import page: upload a partner system's CSV file of people or offending events."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from access.errors import NotPermitted, Refused
from access.policy import actor_for

from . import importing

# The web page lists this many problems; the rest are counted.
PROBLEMS_SHOWN = 500

EXAMPLES = {
    importing.OFFENDERS: [
        "2004/0046583U",
        "Ffion",
        "Invented",
        "1990-04-01",
        "F",
        "white",
        "",
        "",
        "X123456",
        "",
        "catch_convict;rehabilitate_resettle",
    ],
    importing.EVENTS: [
        "Police agency",
        "CR-2025-000123",
        "2004/0046583U",
        "arrest",
        "Shoplifting",
        "2025-06-01",
        "2025-06-02",
        "Arrested leaving a shop with goods",
    ],
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(importing.OFFENDERS, "People"), (importing.EVENTS, "Offending events")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select what the file holds",
            "invalid_choice": "Select what the file holds",
        },
    )
    # The importer gives the clearer message for an empty file.
    file = forms.FileField(
        allow_empty_file=True,
        error_messages={
            "required": "Select a CSV file",
            "invalid": "Select a CSV file",
            "missing": "Select a CSV file",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not importing.can_use_import_page(actor):
        raise Refused("offenders.import", "", "role may not import files")
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kind = form.cleaned_data["kind"]
        if upload.size is not None and upload.size > importing.MAX_IMPORT_BYTES:
            # Django has already spooled it to a temporary file; it is not read again.
            form.add_error(
                "file", importing.too_large_message(upload.size, importing.MAX_IMPORT_BYTES)
            )
        else:
            try:
                result = importing.IMPORTERS[kind](
                    user=actor,
                    file=upload,
                    filename=upload.name or "",
                    max_bytes=importing.MAX_IMPORT_BYTES,
                )
            except NotPermitted as error:
                form.add_error("kind", error.message)
            else:
                for problem in result.file_problems:
                    form.add_error("file", problem)
                if result.ok:
                    messages.success(request, result.summary)
                    return redirect("offenders:import")
    problems = result.problems if result else []
    return render(
        request,
        "offenders/import.html",
        {
            "form": form,
            "result": result if problems else None,
            "problems": problems[:PROBLEMS_SHOWN],
            "problems_not_shown": max(len(problems) - PROBLEMS_SHOWN, 0),
            "has_errors": bool(form.errors or problems),
            "column_sets": [
                ("People", importing.OFFENDERS, importing.OFFENDER_COLUMNS),
                ("Offending events", importing.EVENTS, importing.EVENT_COLUMNS),
            ],
            "max_size": importing.describe_size(importing.MAX_IMPORT_BYTES).replace(" ", ""),
        },
    )


@login_required
def import_template_view(request: HttpRequest, kind: str) -> HttpResponse:
    """A CSV with the header row and one invented example row, to fill in."""
    if kind not in importing.COLUMNS:
        raise Http404("No such template")
    if not importing.can_use_import_page(actor_for(request.user)):
        raise Refused("offenders.import", "", "role may not import files")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ppo-case-{kind}-template.csv"'
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow([column.name for column in importing.COLUMNS[kind]])
    writer.writerow(EXAMPLES[kind])
    return response
