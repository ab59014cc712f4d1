"""Strands are a set (000 §2.2: "The strands are not mutually exclusive"): the data
migration that carried each person's one strand over, filtering and sorting the caseload
by strand with a person on two, the form's checkboxes and the service's checks."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from access.errors import ApplicationError
from access.models import AuditAction, AuditEvent, Role
from offenders import services
from offenders.models import Offender, OffenderStrand, Strand
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

BEFORE = ("offenders", "0005_iom_tier_and_deselection_reasons")
AFTER = ("offenders", "0006_strands_as_a_set")

CC, RR, PD = Strand.CATCH_CONVICT, Strand.REHABILITATE_RESETTLE, Strand.PREVENT_DETER


# --- The data migration -----------------------------------------------------------------------


def _migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return MigrationExecutor(connection).loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_persons_strand_and_back_again():
    try:
        apps = _migrate(BEFORE)
        old = apps.get_model("offenders", "Offender")
        born = dt.date(1990, 1, 1)
        on_cc = old.objects.create(first_name="Ann", last_name="Qxone", date_of_birth=born,
                                   strand="catch_convict")  # fmt: skip
        on_pd = old.objects.create(first_name="Bo", last_name="Qxtwo", date_of_birth=born,
                                   strand="prevent_deter")  # fmt: skip
        on_none = old.objects.create(first_name="Cy", last_name="Qxnone", date_of_birth=born)

        apps = _migrate(AFTER)
        rows = apps.get_model("offenders", "OffenderStrand").objects.values_list(
            "offender_id", "strand"
        )
        assert sorted(rows) == sorted([(on_cc.pk, "catch_convict"), (on_pd.pk, "prevent_deter")])
        new = apps.get_model("offenders", "Offender")
        assert "strand" not in {f.name for f in new._meta.concrete_fields}
        assert new.objects.filter(pk=on_none.pk).exists()

        # Back again: a person on two strands keeps the first in the guidance's order.
        apps.get_model("offenders", "OffenderStrand").objects.create(
            offender_id=on_pd.pk, strand="rehabilitate_resettle"
        )
        apps = _migrate(BEFORE)
        old = apps.get_model("offenders", "Offender")
        assert dict(old.objects.values_list("last_name", "strand")) == {
            "Qxone": "catch_convict",
            "Qxtwo": "rehabilitate_resettle",
            "Qxnone": "",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# --- The caseload: filter and sort by strand -------------------------------------------------


@pytest.fixture
def people(db):
    kw = staff(Role.KEY_WORKER, username="kw")
    made = {}
    for name, strands in (
        ("Adams", [CC]),
        ("Baker", [CC, RR]),
        ("Cole", [PD]),
        ("Dunn", [RR]),
        ("Evans", []),
    ):
        made[name] = OffenderFactory(last_name=name, key_worker=kw, strands=strands)
        ProgrammeEpisodeFactory(offender=made[name])
    return {"kw": kw, **made}


def names(response) -> list[str]:
    return [row.offender.last_name for row in response.context["rows"]]


@pytest.mark.parametrize(
    ("strand", "expected"),
    [
        (CC, ["Adams", "Baker"]),  # Baker holds Catch and Convict among others
        (RR, ["Baker", "Dunn"]),
        (PD, ["Cole"]),
    ],
)
def test_filtering_by_a_strand_lists_everyone_holding_it(client, people, strand, expected):
    sign_in(client, people["kw"])
    response = client.get(reverse("home"), {"strand": strand})
    assert names(response) == expected
    assert response.context["caseload"].query.strand == strand


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        # By the strands as the column lists them; nobody on a strand last either way.
        ("asc", ["Adams", "Baker", "Cole", "Dunn", "Evans"]),
        ("desc", ["Dunn", "Cole", "Baker", "Adams", "Evans"]),
    ],
)
def test_sorting_by_strands(client, people, direction, expected):
    sign_in(client, people["kw"])
    response = client.get(reverse("home"), {"sort": "strand", "dir": direction})
    assert names(response) == expected


def test_the_column_shows_every_strand(client, people):
    sign_in(client, people["kw"])
    page = client.get(reverse("home")).content.decode()
    assert "Catch and Convict<br>Rehabilitate and Resettle" in page
    # A sortable column heading: a link (with its sort arrow) inside the header cell.
    assert re.search(r"<th[^>]*>\s*<a [^>]*>Strands\b.*?</a>\s*</th>", page, re.S)


# --- The form and the service -----------------------------------------------------------------


def form_data(offender: Offender, **changes):
    data = {
        "first_name": offender.first_name,
        "last_name": offender.last_name,
        "date_of_birth": offender.date_of_birth.isoformat(),
        "sex": offender.sex,
        "ethnicity": offender.ethnicity,
        "supervision": offender.supervision,
        "pnc_id": offender.pnc_id or "",
        "key_worker": offender.key_worker_id or "",
        "form_token": "6f1f0e52-1d1c-4b8a-9d0a-6a3f7f2c9a01",
    }
    data.update(changes)
    return data


def test_the_form_offers_checkboxes_and_saves_two_strands(client, people):
    manager = staff(Role.PPO_MANAGER)
    sign_in(client, manager)
    dunn = people["Dunn"]
    url = reverse("offenders:update", args=[dunn.pk])
    page = client.get(url).content.decode()
    assert page.count('type="checkbox" value="') == 3
    assert 'name="strands" type="checkbox" value="rehabilitate_resettle" checked' in page
    response = client.post(url, form_data(dunn, strands=[CC, RR]))
    assert response.status_code == 302
    assert Offender.objects.get(pk=dunn.pk).strand_values == [CC, RR]
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE).latest("pk")
    assert event.detail["fields"] == ["strands"]
    profile = client.get(reverse("offenders:detail", args=[dunn.pk])).content.decode()
    assert "Catch and Convict, Rehabilitate and Resettle" in profile


def test_unticking_every_strand_clears_them(client, people):
    sign_in(client, staff(Role.PPO_MANAGER))
    baker = people["Baker"]
    response = client.post(reverse("offenders:update", args=[baker.pk]), form_data(baker))
    assert response.status_code == 302
    assert not OffenderStrand.objects.filter(offender=baker).exists()


def test_a_bad_strand_is_refused_and_nothing_is_saved(client, people):
    manager = staff(Role.PPO_MANAGER)
    adams = people["Adams"]
    with pytest.raises(ApplicationError) as refused:
        services.offender_update(
            user=manager,
            offender_id=adams.pk,
            data={"last_name": "Changed", "strands": [CC, "catch_and_release"]},
        )
    assert refused.value.field_errors == {
        "strands": ["“catch_and_release” is not a strand: choose from the list"]
    }
    adams.refresh_from_db()
    assert adams.last_name == "Adams" and adams.strand_values == [CC]
    # Through the page: the form's own choices refuse it, with a message.
    sign_in(client, manager)
    response = client.post(
        reverse("offenders:update", args=[adams.pk]), form_data(adams, strands=["nonsense"])
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert adams.strand_values == [CC]


def test_a_person_is_added_with_their_strands(db):
    manager = staff(Role.PPO_MANAGER)
    person = services.offender_create(
        user=manager,
        data={
            "first_name": "Qxnew",
            "last_name": "Qxperson",
            "date_of_birth": dt.date(1991, 2, 3),
            "strands": [PD, CC, CC],
        },
    )
    assert person.strand_values == [CC, PD]
    event = AuditEvent.objects.get(action=AuditAction.CREATE, record_type="offenders.offender")
    assert "strands" in event.detail["fields"]


def test_leaving_strands_out_of_the_data_leaves_them_alone(db, people):
    services.offender_update(
        user=staff(Role.PPO_MANAGER), offender_id=people["Baker"].pk, data={"last_name": "Baxter"}
    )
    assert Offender.objects.get(pk=people["Baker"].pk).strand_values == [CC, RR]


@pytest.mark.django_db
def test_a_strand_is_held_once():
    person = OffenderFactory(strands=[CC])
    with pytest.raises(IntegrityError), transaction.atomic():
        OffenderStrand.objects.create(offender=person, strand=CC)
    with pytest.raises(IntegrityError), transaction.atomic():
        OffenderStrand.objects.create(offender=person, strand="not_a_strand")
