"""The "bare" people endpoints the API benchmark (benchmarks/api.py) compares with the
real ones: the same URLs, querysets, filters, cursor pages and serializers as
offenders.api.PeopleList and PersonDetail, with no authentication, no throttle and no
audit row. The caller is the API client's service user named by PPO_BENCH_BARE_USER_ID,
resolved once per process, so the scope (and so the rows) is exactly the real client's.

Served only by a gunicorn started with `DJANGO_SETTINGS_MODULE=benchmarks.bare_settings`:
never part of the deployed URLconf. Everything else answers 404.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from access.policy import Actor, RecordKind, actor_for, visible_fields
from offenders import api as offenders_api
from offenders.serializers import PersonSerializer


@functools.cache
def _actor() -> Actor:
    user = get_user_model().objects.get(pk=int(os.environ["PPO_BENCH_BARE_USER_ID"]))
    return actor_for(user)


class _Bare:
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @property
    def actor(self) -> Actor:
        return _actor()


class BarePeopleList(_Bare, offenders_api.PeopleList):
    def get(self, request: Request) -> Response:
        actor = self.actor
        page = self.paginate_queryset(self.filter_queryset(offenders_api._people(actor)))
        data = PersonSerializer(
            page,
            many=True,
            visible=visible_fields(actor, RecordKind.IDENTITY),
            context={"as_of": actor.as_of},
        ).data
        return self.get_paginated_response(data)


class BarePersonDetail(_Bare, offenders_api.PersonDetail):
    def get(self, request: Request, pk: str) -> Response:
        actor = self.actor
        person = offenders_api._people(actor).filter(pk=int(pk)).first() if pk.isdigit() else None
        if person is None:
            raise Http404
        data = PersonSerializer(
            person,
            visible=visible_fields(actor, RecordKind.IDENTITY),
            context={"as_of": actor.as_of},
        ).data
        return Response(data, headers={"ETag": offenders_api._person_etag(person)})


urlpatterns = [
    path("api/v1/people/", BarePeopleList.as_view()),
    path("api/v1/people/<str:pk>/", BarePersonDetail.as_view()),
]
