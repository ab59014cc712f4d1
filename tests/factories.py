"""factory_boy factories: invented people only.

Names are made up from syllables rather than drawn from Faker's lists of real names: no
real person's name, and none with an apostrophe (O'Brien) that a page escapes to
O&#x27;Brien, which would make a test comparing page text flaky. Tests that need a
particular name give it, and tests of names with apostrophes compare escaped text.
"""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from access.models import Agency, AgencyKind, Membership, Role
from offenders.identifiers import format_pnc
from offenders.models import (
    Contact,
    CustodyEpisode,
    CustodyKind,
    DrugTest,
    DrugTestResult,
    EventKind,
    OffenceCategory,
    Offender,
    OffenderStrand,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
)
from pathways.models import Pathway, Referral

factory.Faker._DEFAULT_LOCALE = "en_GB"

_SYLLABLES = ("bra", "dov", "fen", "gil", "hask", "jor", "kel", "lun", "mav", "nor", "pell", "rov")


def invented_name(n: int, salt: int) -> str:
    """A made-up name, the same for the same (n, salt), different for 1,728 consecutive n."""
    size = len(_SYLLABLES)
    code = (n * 7919 + salt * 104729) % size**3  # 7919 is prime: n -> code is one to one
    parts = [_SYLLABLES[code // size**i % size] for i in range(3)]
    return "".join(parts).capitalize()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: invented_name(n, 1))
    last_name = factory.Sequence(lambda n: invented_name(n, 2))
    password = factory.django.Password("correct-horse-battery")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = AgencyKind.PROBATION


ROLE_DEFAULT_AGENCY = {
    Role.PPO_MANAGER: AgencyKind.PROBATION,
    Role.KEY_WORKER: AgencyKind.PROBATION,
    Role.POLICE_OFFICER: AgencyKind.POLICE,
    Role.PRISON_WORKER: AgencyKind.PRISON,
    Role.YOT_WORKER: AgencyKind.YOT,
    Role.PARTNER_WORKER: AgencyKind.TREATMENT,
    Role.STEERING_GROUP: AgencyKind.LOCAL_AUTHORITY,
    Role.ADMINISTRATOR: AgencyKind.LOCAL_AUTHORITY,
}


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.KEY_WORKER
    agency = factory.LazyAttribute(
        lambda o: AgencyFactory(
            name=f"{ROLE_DEFAULT_AGENCY[o.role].label} agency",
            kind=ROLE_DEFAULT_AGENCY[o.role],
        )
    )
    started_on = dt.date(2020, 1, 1)


def staff(role: str, agency: Agency | None = None, **user_fields: object) -> object:
    """A user holding `role` (in `agency`, or a default agency of the right kind)."""
    user = UserFactory(**user_fields)
    kwargs = {"user": user, "role": role}
    if agency is not None:
        kwargs["agency"] = agency
    MembershipFactory(**kwargs)
    return user


class OffenderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offender
        skip_postgeneration_save = True  # `strands` writes its own rows

    first_name = factory.Sequence(lambda n: invented_name(n, 3))
    last_name = factory.Sequence(lambda n: invented_name(n, 4))
    date_of_birth = factory.Faker("date_of_birth", minimum_age=19, maximum_age=50)
    pnc_id = factory.Sequence(lambda n: format_pnc(2001 + n % 20, 10000 + n))

    @factory.post_generation
    def strands(self, create: bool, extracted: object, **kwargs: object) -> None:
        """OffenderFactory(strands=[Strand.CATCH_CONVICT, ...]): the person's set of strands."""
        if create and extracted:
            for strand in extracted:  # type: ignore[attr-defined]
                OffenderStrand.objects.create(offender=self, strand=strand)  # type: ignore[misc]


class ProgrammeEpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeEpisode

    offender = factory.SubFactory(OffenderFactory)
    kind = ProgrammeKind.PPO
    selected_on = dt.date(2024, 1, 1)


class OffenceCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OffenceCategory
        django_get_or_create = ("name",)

    name = "Shoplifting"
    harm_weight = 1


class OffendingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OffendingEvent

    offender = factory.SubFactory(OffenderFactory)
    kind = EventKind.ARREST
    category = factory.LazyFunction(lambda: OffenceCategory.objects.get(name="Shoplifting"))
    occurred_on = dt.date(2025, 6, 1)
    recorded_on = factory.LazyAttribute(lambda o: o.occurred_on)
    source_agency = factory.LazyFunction(
        lambda: AgencyFactory(name="Police agency", kind=AgencyKind.POLICE)
    )
    source_reference = factory.Sequence(lambda n: f"REF{n:06d}")


class CustodyEpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustodyEpisode

    offender = factory.SubFactory(OffenderFactory)
    kind = CustodyKind.SENTENCE
    establishment = factory.LazyFunction(
        lambda: AgencyFactory(name="Prison agency", kind=AgencyKind.PRISON)
    )
    started_on = dt.date(2025, 1, 1)
    sentence_length_months = 18


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    offender = factory.SubFactory(OffenderFactory)
    worker = factory.SubFactory(UserFactory)
    agency = factory.LazyFunction(
        lambda: AgencyFactory(name="Probation agency", kind=AgencyKind.PROBATION)
    )
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


class DrugTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DrugTest

    offender = factory.SubFactory(OffenderFactory)
    tested_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    agency = factory.LazyFunction(
        lambda: AgencyFactory(name="Probation agency", kind=AgencyKind.PROBATION)
    )
    result = DrugTestResult.NEGATIVE


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    offender = factory.SubFactory(OffenderFactory)
    agency = factory.LazyFunction(
        lambda: AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
    )
    pathway = factory.LazyFunction(lambda: Pathway.objects.get(code="drugs_alcohol"))
    opened_on = dt.date(2025, 1, 1)


def sign_in(client: object, user: object) -> object:
    """Sign a test client in without a password.

    django-axes's backend is listed first and cannot load a user, so force_login must
    name the model backend.
    """
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")  # type: ignore[attr-defined]
    return client


def ensure_reference_data() -> None:
    """The reference rows the data migrations load, back after a transactional test
    emptied every table: offence categories (offenders 0002), the eight pathways
    (pathways 0002), the default selection matrix (selection 0002) and the bank holidays
    (access 0007). The demo seed needs all of them. Each loader is run only when its
    table is empty (or is idempotent), so calling this on a full database changes nothing."""
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from access.models import BankHoliday
    from offenders.models import OffenceCategory
    from pathways.models import Pathway
    from selection.models import MatrixVersion

    loaders = [
        (OffenceCategory, "offenders.migrations.0002_offence_categories", "add_categories"),
        (Pathway, "pathways.migrations.0002_the_eight_pathways", "add_pathways"),
        (MatrixVersion, "selection.migrations.0002_default_matrix", "add_default_matrix"),
        (
            BankHoliday,
            "access.migrations.0007_premium_service_standards_and_bank_holidays",
            "bank_holidays",
        ),
    ]
    missing = [row for row in loaders if not row[0]._default_manager.exists()]
    if not missing:
        return
    loader = MigrationLoader(connection)
    for _, module, function in missing:
        # The models as the migration saw them (the real ones' save() guards refuse to
        # add criteria to an adopted matrix, as they should for users).
        app_label, _, name = module.partition(".migrations.")
        state_apps = loader.project_state((app_label, name)).apps
        getattr(import_module(module), function)(state_apps, None)
