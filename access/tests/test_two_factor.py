"""Two-factor sign-in (issue 14 item 1): a code from an authenticator app after the password,
recovery codes, setting it up, enforcement, an administrator's reset, and the API untouched.

Expected codes are worked out here from the device's key and the (frozen) time with
django-otp's own RFC 6238 implementation, never by asking the code under test.
"""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32encode

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import two_factor
from access.errors import NotPermitted
from access.models import AuditAction, AuditEvent, Role
from access.policy import actor_for
from access.tests.test_admin import administrator
from tests.api_clients import Api, fresh_throttle_counts, make_api_client  # noqa: F401
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory
# 09:00:00 UTC starts a 30-second time step.
WHEN = dt.datetime(2026, 6, 1, 9, 0, 0, tzinfo=dt.UTC)


def code_at(device: TOTPDevice, when: dt.datetime) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = when.timestamp()
    return f"{totp.token():06d}"


@pytest.fixture
def clock():
    with time_machine.travel(WHEN, tick=False) as traveller:
        yield traveller


@pytest.fixture
def worker(db):
    return staff(Role.KEY_WORKER, username="qx.twofactor")


@pytest.fixture
def phone(worker):
    """An authenticator app already set up, made directly (not by the enrolment code)."""
    return TOTPDevice.objects.create(user=worker, name="Phone", confirmed=True)


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def password_step(client, username="qx.twofactor", next_url=""):
    data = {"username": username, "password": PASSWORD}
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


def enrol(client, user, when: dt.datetime) -> list[str]:
    """Set up two-factor sign-in through the pages; the recovery codes it shows."""
    page = client.get(reverse("two-factor-set-up"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("two-factor-set-up"), {"code": code_at(device, when)})
    assert response.status_code == 200
    return re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", response.text)


# --- Signing in ------------------------------------------------------------------------------


def test_without_a_second_factor_the_password_signs_in_as_before(client, worker):
    response = password_step(client)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in(client)


def test_after_the_password_a_code_from_the_app_is_asked_for_and_signs_in(
    client, worker, phone, clock
):
    response = password_step(client, next_url="/people/")
    assert response.status_code == 302
    assert response.url == reverse("sign-in-code")
    assert not signed_in(client), "the password alone must not sign in"
    assert not AuditEvent.objects.filter(action=AuditAction.SIGN_IN).exists()

    page = client.get(reverse("sign-in-code"))
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    assert 'inputmode="numeric"' in page.text

    response = client.post(reverse("sign-in-code"), {"code": code_at(phone, WHEN)})
    assert response.status_code == 302
    assert response.url == "/people/"
    assert signed_in(client)
    assert AuditEvent.objects.get(action=AuditAction.SIGN_IN).user == worker
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_code_is_refused_clearly_and_signs_nobody_in(client, worker, phone, clock):
    password_step(client)
    right = code_at(phone, WHEN)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(reverse("sign-in-code"), {"code": wrong})
    assert response.status_code == 200
    assert "The code is not right" in response.text
    assert "govuk-error-summary" in response.text
    assert not signed_in(client)
    failed = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert failed.detail == {"username": "qx.twofactor", "second_factor": "authenticator code"}
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the 6-digit code"),
        ("12ab56", "Enter the code as 6 digits"),
        ("1234", "6 digits"),
    ],
)
def test_a_malformed_code_gets_a_clear_message(client, worker, phone, clock, typed, message):
    password_step(client)
    response = client.post(reverse("sign-in-code"), {"code": typed})
    assert response.status_code == 200
    assert message in response.text
    assert not signed_in(client)


def test_a_replayed_code_is_refused(client, worker, phone, clock):
    code = code_at(phone, WHEN)
    password_step(client)
    assert client.post(reverse("sign-in-code"), {"code": code}).status_code == 302
    client.post(reverse("logout"))

    clock.shift(5)  # the same 30-second step: the code is still the one the app shows
    password_step(client)
    response = client.post(reverse("sign-in-code"), {"code": code})
    assert response.status_code == 200
    assert "That code has already been used" in response.text
    assert not signed_in(client)

    clock.shift(30)
    response = client.post(
        reverse("sign-in-code"), {"code": code_at(phone, WHEN + dt.timedelta(seconds=35))}
    )
    assert response.status_code == 302
    assert signed_in(client)


def test_the_code_step_times_out(client, worker, phone, clock):
    password_step(client)
    clock.shift(6 * 60)
    response = client.post(
        reverse("sign-in-code"), {"code": code_at(phone, WHEN + dt.timedelta(minutes=6))}
    )
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert not signed_in(client)


def test_the_code_step_needs_the_password_step_first(client, worker, phone, clock):
    response = client.post(reverse("sign-in-code"), {"code": code_at(phone, WHEN)})
    assert response.status_code == 302 and response.url == reverse("login")
    assert not signed_in(client)


def test_wrong_codes_count_toward_the_lockout(client, worker, phone, clock, settings):
    settings.AXES_ENABLED = True
    password_step(client)
    right = code_at(phone, WHEN)
    wrong = f"{(int(right) + 7) % 1_000_000:06d}"
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        clock.shift(2**attempt + 1)  # past django-otp's own back-off between tries
        response = client.post(reverse("sign-in-code"), {"code": wrong})
    assert response.status_code == 429
    assert "You cannot sign in for now" in response.text
    assert not signed_in(client)
    # Locked: neither the password step nor a right code gets in now.
    response = password_step(client)
    assert response.status_code == 429
    assert not signed_in(client)


# --- Recovery codes --------------------------------------------------------------------------


def test_a_recovery_code_signs_in_once(client, worker, clock):
    sign_in(client, worker)
    codes = enrol(client, worker, WHEN)
    client.post(reverse("logout"))

    clock.shift(60)
    password_step(client)
    response = client.post(reverse("sign-in-recovery"), {"code": codes[3].upper()})
    assert response.status_code == 302
    assert response.url == reverse("two-factor")
    assert signed_in(client)
    page = client.get(reverse("two-factor"))
    assert "You signed in with a recovery code. You have 9 left" in page.text
    client.post(reverse("logout"))

    clock.shift(60)
    password_step(client)
    response = client.post(reverse("sign-in-recovery"), {"code": codes[3]})
    assert response.status_code == 200
    assert "That recovery code is not right or has already been used" in response.text
    assert not signed_in(client)
    # Another of the codes still works.
    clock.shift(60)
    response = client.post(reverse("sign-in-recovery"), {"code": codes[4]})
    assert response.status_code == 302 and signed_in(client)


def test_recovery_codes_are_kept_only_as_hashes(client, worker, clock):
    sign_in(client, worker)
    codes = enrol(client, worker, WHEN)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(StaticToken.objects.filter(device__user=worker).values_list("token", flat=True))
    assert len(stored) == 10
    plain = {c.replace("-", "") for c in codes} | set(codes)
    assert not stored & plain


def test_after_losing_the_phone_a_recovery_code_then_a_new_app(client, worker, clock):
    sign_in(client, worker)
    codes = enrol(client, worker, WHEN)
    old = TOTPDevice.objects.get(user=worker, confirmed=True)
    client.post(reverse("logout"))

    clock.shift(60)
    password_step(client)
    client.post(reverse("sign-in-recovery"), {"code": codes[0]})
    new_codes = enrol(client, worker, WHEN + dt.timedelta(seconds=60))
    assert len(new_codes) == 10
    new = TOTPDevice.objects.get(user=worker, confirmed=True)
    assert new.pk != old.pk
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert client.get(reverse("home")).status_code == 200  # still signed in, verified
    client.post(reverse("logout"))

    clock.shift(60)
    password_step(client)
    # The old app's code and the old recovery codes no longer work.
    later = WHEN + dt.timedelta(seconds=120)
    assert client.post(reverse("sign-in-code"), {"code": code_at(old, later)}).status_code == 200
    clock.shift(60)
    assert client.post(reverse("sign-in-recovery"), {"code": codes[1]}).status_code == 200
    assert not signed_in(client)
    clock.shift(60)
    later = WHEN + dt.timedelta(seconds=240)
    assert client.post(reverse("sign-in-code"), {"code": code_at(new, later)}).status_code == 302


# --- Setting it up ---------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_then_ten_recovery_codes(client, worker, clock):
    sign_in(client, worker)
    page = client.get(reverse("two-factor-set-up"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=worker, confirmed=False)
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<svg" in main and "<script" not in main and "style=" not in main
    secret = b32encode(device.bin_key).decode()
    groups = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert groups in page.text
    assert client.get(reverse("two-factor-set-up")).text.count(groups) == 1  # same secret again

    wrong = f"{(int(code_at(device, WHEN)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("two-factor-set-up"), {"code": wrong})
    assert "The code is not right" in response.text
    device.refresh_from_db()
    assert not device.confirmed

    clock.shift(2)
    response = client.post(reverse("two-factor-set-up"), {"code": code_at(device, WHEN)})
    assert response.status_code == 200
    assert "Save your recovery codes" in response.text
    assert 'download="ppo-case-recovery-codes.txt"' in response.text
    device.refresh_from_db()
    assert device.confirmed
    assert StaticDevice.objects.get(user=worker).token_set.count() == 10
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, record_type="auth.user")
    assert event.user == worker and event.record_ids == [worker.pk]
    assert event.detail["fields"]["second_factor"]["new"] == "set up"
    assert client.get(reverse("home")).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(client, worker, clock):
    sign_in(client, worker)
    old_codes = enrol(client, worker, WHEN)
    response = client.post(reverse("two-factor-recovery-codes"))
    new_codes = re.findall(r"<code>([a-z2-9-]{14})</code>", response.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    renewed = AuditEvent.objects.get(detail__fields__recovery_codes__changed=True)
    assert renewed.user == worker and renewed.record_ids == [worker.pk]
    assert client.get(reverse("home")).status_code == 200  # the session is still verified
    client.post(reverse("logout"))
    clock.shift(60)
    password_step(client)
    assert client.post(reverse("sign-in-recovery"), {"code": old_codes[0]}).status_code == 200
    clock.shift(60)
    assert client.post(reverse("sign-in-recovery"), {"code": new_codes[0]}).status_code == 302


# --- Enforced or optional --------------------------------------------------------------------


def test_when_required_a_person_without_it_can_only_set_it_up(client, worker, settings, clock):
    settings.PPO_REQUIRE_TWO_FACTOR = True
    assert password_step(client).status_code == 302
    for path in (reverse("home"), "/people/", reverse("audit-log"), "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith(reverse("two-factor-set-up") + "?next="), path
    page = client.get(reverse("two-factor-set-up") + "?next=/people/")
    assert "You need to do this once" in page.text
    device = TOTPDevice.objects.get(user=worker, confirmed=False)
    response = client.post(
        reverse("two-factor-set-up"), {"code": code_at(device, WHEN), "next": "/people/"}
    )
    assert 'href="/people/"' in response.text
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/people/").status_code == 200


def test_when_required_the_sign_in_pages_still_open(client, worker, settings):
    settings.PPO_REQUIRE_TWO_FACTOR = True
    assert client.get(reverse("login")).status_code == 200
    sign_in(client, worker)
    assert client.post(reverse("logout")).status_code == 302
    assert not signed_in(client)


def test_when_optional_a_password_alone_will_do_until_it_is_set_up(client, worker, settings):
    settings.PPO_REQUIRE_TWO_FACTOR = False
    sign_in(client, worker)
    assert client.get(reverse("home")).status_code == 200
    page = client.get(reverse("two-factor"))
    assert "Set up two-factor sign-in" in page.text


def test_once_set_up_it_must_be_used_even_when_optional(client, worker, phone, settings):
    settings.PPO_REQUIRE_TWO_FACTOR = False
    # Signed in some other way than the code step (as the admin's own form would).
    sign_in(client, worker)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not signed_in(client)


def test_the_admin_sign_in_page_sends_people_to_the_two_step_sign_in(db, client):
    response = client.get(reverse("admin:login") + "?next=/admin/auth/user/")
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=/admin/auth/user/"


def test_the_api_is_unaffected_when_two_factor_is_required(db, settings, fresh_throttle_counts):  # noqa: F811
    settings.PPO_REQUIRE_TWO_FACTOR = True
    _, token = make_api_client(Role.PPO_MANAGER)
    ProgrammeEpisodeFactory(offender=OffenderFactory())
    response = Api(token).get("people/")
    assert response.status_code == 200
    assert response.json()["results"]


# --- An administrator's reset ----------------------------------------------------------------


REASON = "Phone lost; identity checked by call-back on 01632 960 000 (ticket 5521)"


def reset_action(client, *users, reason=REASON):
    data = {
        "action": "reset_two_factor",
        "_selected_action": [u.pk for u in users],
        "post": "yes",
        "change_reason": reason,
    }
    return client.post(reverse("admin:auth_user_changelist"), data)


def test_an_administrator_resets_a_second_factor_after_a_confirm_page_audited(
    client, worker, phone, clock
):
    StaticDevice.objects.create(user=worker, name="Recovery").token_set.create(token="abc")
    admin_user = administrator(username="qx.admin2fa")
    # The person's own verified session, in another browser.
    theirs = type(client)()
    password_step(theirs)
    theirs.post(reverse("sign-in-code"), {"code": code_at(phone, WHEN)})
    assert theirs.get(reverse("home")).status_code == 200

    sign_in(client, admin_user)
    confirm = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [worker.pk]},
    )
    assert confirm.status_code == 200
    assert "Yes, reset two-factor sign-in" in confirm.text
    assert TOTPDevice.objects.filter(user=worker).exists(), "the confirm page changes nothing"

    response = reset_action(client, worker)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=worker).exists()
    assert not StaticDevice.objects.filter(user=worker).exists()
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, record_type="auth.user", record_ids=[worker.pk]
    )
    assert event.user == admin_user
    assert event.detail["reason"] == REASON
    assert event.detail["account"] == "qx.twofactor"
    assert event.detail["fields"]["second_factor"] == {"old": "set up", "new": "reset"}

    # Their open session ends; the password alone signs them in again (optional here).
    response = theirs.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert password_step(theirs).url == reverse("home")


def test_a_reset_needs_a_reason(client, worker, phone):
    sign_in(client, administrator(username="qx.admin2fa"))
    response = reset_action(client, worker, reason="  ")
    assert response.status_code == 200
    assert "This field is required" in response.text
    assert TOTPDevice.objects.filter(user=worker).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_nobody_resets_their_own_second_factor_and_nothing_is_half_done(client, worker, phone):
    admin_user = administrator(username="qx.admin2fa")
    own = TOTPDevice.objects.create(user=admin_user, name="Phone", confirmed=True)
    # The admin's own session has used their code (as the code step records it).
    sign_in(client, admin_user)
    session = client.session
    session["otp_device_id"] = own.persistent_id
    session.save()
    response = reset_action(client, worker, admin_user)
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=worker).exists()
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()
    page = client.get(response.url)
    assert "Nothing was reset" in page.text


def test_a_reset_is_refused_to_anyone_but_an_administrator(client, worker, phone):
    manager = staff(Role.PPO_MANAGER, username="qx.manager2fa", is_staff=True)
    sign_in(client, manager)
    response = reset_action(client, worker)
    assert response.status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=worker).exists()
    with pytest.raises(NotPermitted):
        two_factor.second_factor_reset(actor=actor_for(manager), user=worker, reason=REASON)
    assert TOTPDevice.objects.filter(user=worker).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_the_users_list_shows_who_has_set_it_up(client, worker, phone):
    sign_in(client, administrator(username="qx.admin2fa"))
    page = client.get(reverse("admin:auth_user_changelist"))
    assert page.status_code == 200
    assert "Two-factor sign-in" in page.text


# --- Password rules (NCSC) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["short-pw-1", "password1234", "123456789012345"],
)
def test_passwords_that_are_short_common_or_all_digits_are_refused(db, password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_three_random_words_are_a_good_password(db):
    validate_password("kettle-orbit-marmalade")
