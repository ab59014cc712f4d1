"""`manage.py report NAME --as-of YYYY-MM-DD [--format json|csv] --as USERNAME`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from access.models import AuditAction, AuditEvent, Role
from offenders.models import EventKind
from reporting.management.commands.report import REPORTS
from tests.factories import staff

from .measure_data import confirmed_cohort, events, ppo

AS_OF = "2025-09-30"


@pytest.fixture
def scheme(db):
    stays = ppo(dt.date(2023, 6, 1), local_ref="LR-1", first_name="Zebedee", last_name="Quill")
    leaves = ppo(dt.date(2024, 1, 1), dt.date(2025, 8, 1), local_ref="LR-2")
    events(stays, EventKind.CONVICTION, [dt.date(2024, 1, 5)] * 4)
    events(leaves, EventKind.CONVICTION, [dt.date(2024, 2, 5), dt.date(2025, 7, 1)])
    events(stays, EventKind.CHARGE, [dt.date(2023, 5, 1), dt.date(2023, 7, 1)])
    confirmed_cohort(2025, [stays, leaves])
    return stays, leaves


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


def test_ni30_as_json_for_the_steering_group(scheme):
    steering = staff(Role.STEERING_GROUP, username="steering.one")
    body = json.loads(run("ni30", "--as-of", AS_OF, "--as", steering.username))
    assert body["year"] == "2025/26"
    assert (body["members"], body["baseline_convictions"], body["year_convictions"]) == (2, 5, 1)
    assert body["change_percent"] == -80.0
    assert "Zebedee" not in json.dumps(body)


def test_the_national_return_is_one_row_per_member_with_no_names_and_is_a_disclosure(scheme):
    stays, leaves = scheme
    manager = staff(Role.PPO_MANAGER, username="manager.one")
    text = run("ni30", "--as-of", AS_OF, "--format", "csv", "--as", manager.username)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["pnc_id"] for r in rows] == sorted([stays.pnc_id, leaves.pnc_id])
    by_ref = {r["local_ref"]: r for r in rows}
    assert by_ref["LR-1"]["baseline_convictions"] == "4"
    assert by_ref["LR-2"] == {
        "cohort_year": "2025/26",
        "pnc_id": leaves.pnc_id,
        "local_ref": "LR-2",
        "selected_on": "2024-01-01",
        "deselected_on": "2025-08-01",
        "on_scheme_on_as_of": "no",
        "baseline_convictions": "1",
        "year_convictions": "1",
    }
    for secret in (stays.first_name, stays.last_name, stays.date_of_birth.isoformat()):
        assert secret not in text
    disclosure = AuditEvent.objects.get(action=AuditAction.DISCLOSE)
    assert disclosure.recipient == "National PPO cohort return (JTrack)"
    assert disclosure.username == "manager.one"
    assert disclosure.channel == "command"
    assert sorted(disclosure.record_ids) == sorted([stays.pk, leaves.pk])


def test_the_national_return_names_its_recipient_when_asked(scheme):
    manager = staff(Role.PPO_MANAGER)
    run("ni30", "--as-of", AS_OF, "--format", "csv", "--as", manager.username,
        "--recipient", "Government Office North East")  # fmt: skip
    assert AuditEvent.objects.get(action=AuditAction.DISCLOSE).recipient == (
        "Government Office North East"
    )


def test_the_steering_group_may_not_send_the_national_return(scheme):
    steering = staff(Role.STEERING_GROUP)
    with pytest.raises(CommandError, match="only the PPO manager sends it"):
        run("ni30", "--as-of", AS_OF, "--format", "csv", "--as", steering.username)
    assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()


def test_local_measure_and_reoffending_as_csv_figures(scheme):
    steering = staff(Role.STEERING_GROUP)
    text = run(
        "local-measure", "--as-of", AS_OF, "--format", "csv", "--as", steering.username,
        "--from", "2023-06-01", "--to", "2023-06-30",
    )  # fmt: skip
    figures = dict(csv.reader(io.StringIO(text)))
    assert figures["figure"] == "value"
    assert (figures["people"], figures["charges_before"], figures["charges_after"]) == (
        "1",
        "1",
        "1",
    )
    assert figures["reduction_percent"] == "0.0"
    text = run("reoffending", "--as-of", AS_OF, "--format", "csv", "--as", steering.username)
    figures = dict(csv.reader(io.StringIO(text)))
    assert figures["this_year.year"] == "2025/26"
    assert figures["this_year.managed"] == "2"
    assert "this_year.exact_rate" not in figures


def test_reoffending_as_json(scheme):
    body = json.loads(
        run("reoffending", "--as-of", AS_OF, "--as", staff(Role.PPO_MANAGER).username)
    )
    assert body["this_year"]["reoffenders"] == 1
    assert body["this_year"]["rate_percent"] == 50.0


def test_a_key_worker_is_refused(scheme):
    worker = staff(Role.KEY_WORKER)
    for name in REPORTS:
        with pytest.raises(CommandError, match="Only the steering group and PPO managers"):
            run(name, "--as-of", AS_OF, "--as", worker.username)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nothing", "--as-of", AS_OF], "no report called “nothing”"),
        (["ni30", "--as-of", "30/09/2025"], "must be a date written YYYY-MM-DD"),
        (["ni30", "--as-of", "2999-01-01"], "in the future"),
        (["ni30", "--as-of", AS_OF, "--format", "xml"], "json or csv"),
        (["ni30", "--as-of", AS_OF, "--cohort", "25"], "--cohort is the year"),
        (["ni30", "--as-of", AS_OF, "--cohort", "2024"], "no NI30 cohort for 2024/25"),
        (["ni30", "--as-of", AS_OF, "--from", "2025-01-01"], "not a period"),
        (["local-measure", "--as-of", AS_OF, "--from", "2025-01-01"], "both the first"),
        (["local-measure", "--as-of", AS_OF, "--target", "five"], "--target must be"),
        (["ni30", "--as-of", AS_OF, "--as", "nobody.at.all"], "no active user"),
    ],
)
def test_bad_input_is_a_message_and_a_non_zero_exit(scheme, args, message):
    steering = staff(Role.STEERING_GROUP)
    if "--as" not in args:
        args = [*args, "--as", steering.username]
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_whose_rights_must_be_said(scheme, monkeypatch):
    monkeypatch.delenv("PPO_REPORT_USER", raising=False)
    with pytest.raises(CommandError, match="Say whose rights"):
        run("ni30", "--as-of", AS_OF)
