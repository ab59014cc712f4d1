"""Factories for needs, actions and providers (invented data only), built directly on the
models so tests do not depend on the services they test."""

from __future__ import annotations

import datetime as dt

import factory

from pathways.models import Action, Need, NeedLevel, Pathway, Provider
from tests.factories import AgencyFactory, OffenderFactory

factory.Faker._DEFAULT_LOCALE = "en_GB"


def pathway(code: str) -> Pathway:
    return Pathway.objects.get(code=code)


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need

    offender = factory.SubFactory(OffenderFactory)
    pathway = factory.LazyFunction(lambda: pathway("accommodation"))
    level = NeedLevel.MEDIUM
    set_on = dt.date(2026, 1, 10)


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    offender = factory.SubFactory(OffenderFactory)
    pathway = factory.LazyFunction(lambda: pathway("accommodation"))
    description = factory.Sequence(lambda n: f"Find a tenancy, step {n}")
    owner_agency = factory.SubFactory(AgencyFactory)
    due_on = dt.date(2026, 7, 1)
    created_on = dt.date(2026, 1, 10)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Provider {n}")
    agency = factory.SubFactory(AgencyFactory)
    phone = "01632 960000"

    @factory.post_generation
    def serves(self, create: bool, extracted: object, **kwargs: object) -> None:
        """ProviderFactory(serves=["accommodation"]): the pathway codes it serves."""
        if create and extracted:
            self.pathways.set(Pathway.objects.filter(code__in=extracted))  # type: ignore[attr-defined]
