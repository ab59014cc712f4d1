"""The partner API, version 1 (issue 12): `/api/v1/...`. Each app serves its own
endpoints from its api.py (offenders: people and their records; pathways: actions and
referrals; selection: reviews; conferences; reporting: the aggregate reports); endpoints
added later go here the same way, before the catch-all."""

from __future__ import annotations

from typing import Any

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from access.api import PartnerAPIView
from conferences import api as conferences_api
from offenders import api as offenders_api
from pathways import api as pathways_api
from reporting import api as reporting_api
from selection import api as selection_api

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
    path("actions/", pathways_api.ActionList.as_view(), name="actions"),
    path("actions/<str:pk>/", pathways_api.ActionDetail.as_view(), name="action"),
    path("referrals/", pathways_api.ReferralList.as_view(), name="referrals"),
    path("referrals/<str:pk>/", pathways_api.ReferralDetail.as_view(), name="referral"),
    path("reviews/", selection_api.ReviewList.as_view(), name="reviews"),
    path("reviews/<str:pk>/", selection_api.ReviewDetail.as_view(), name="review"),
    path("conferences/", conferences_api.ConferenceList.as_view(), name="conferences"),
    path("conferences/<str:pk>/", conferences_api.ConferenceDetail.as_view(), name="conference"),
    path("reports/ni30/", reporting_api.Ni30Report.as_view(), name="report-ni30"),
    path(
        "reports/local-measure/",
        reporting_api.LocalMeasureReport.as_view(),
        name="report-local-measure",
    ),
    path(
        "reports/reoffending/",
        reporting_api.ReoffendingReport.as_view(),
        name="report-reoffending",
    ),
    path("reports/profile/", reporting_api.ProfileReport.as_view(), name="report-profile"),
    re_path(r"^.*$", NoSuchEndpoint.as_view(), name="no-such-endpoint"),
]
