"""The partner API, version 1 (issue 12): `/api/v1/...`. Each app serves its own
endpoints from its api.py; later ones (actions, referrals, reviews, conferences, reports)
are added here the same way."""

from __future__ import annotations

from typing import Any

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from access.api import PartnerAPIView
from offenders import api as offenders_api

app_name = "api-v1"


@extend_schema(exclude=True)
class NoSuchEndpoint(PartnerAPIView):
    """Anything else under /api/v1/: a 404 in the API's error shape, not an HTML page."""

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        raise NotFound("There is no such endpoint")

    get = post = put = patch = delete = _not_found


urlpatterns = [
    path("people/", offenders_api.PeopleList.as_view(), name="people"),
    path("people/<str:pk>/", offenders_api.PersonDetail.as_view(), name="person"),
    path(
        "offending-events/",
        offenders_api.OffendingEventList.as_view(),
        name="offending-events",
    ),
    path("contacts/", offenders_api.ContactList.as_view(), name="contacts"),
    path("drug-tests/", offenders_api.DrugTestList.as_view(), name="drug-tests"),
    path(
        "custody-episodes/",
        offenders_api.CustodyEpisodeList.as_view(),
        name="custody-episodes",
    ),
    path("arrival-checks/", offenders_api.ArrivalCheck.as_view(), name="arrival-checks"),
    re_path(r"^.*$", NoSuchEndpoint.as_view(), name="no-such-endpoint"),
]
