"""Security headers on every kind of response (issue 14 item 2; README "Security headers").

Each page type — the sign-in page, a casework page, a report page, a PDF download, an API
JSON response, an API error, the API docs and their script, the admin, a 404 and a 403 —
carries the same strict Content-Security-Policy (no inline script, no 'unsafe-inline', no
eval, nothing from another site), frame denial, nosniff, a same-origin referrer policy, a
Permissions-Policy that denies the camera, microphone, location and the like, and a
same-origin opener policy. The expected values are written out here, not read from the
settings. A browser test then opens the pages under that policy and finds no violation.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from access.models import Role
from conferences.models import CaseConference, ConferencePerson, ConferenceStatus
from tests.api_clients import Api, make_api_client
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory

# What the policy must say, directive by directive (README "Security headers").
EXPECTED_CSP = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "manifest-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
# Features a casework tool never needs: each must be denied to every origin, "()".
DENIED_FEATURES = [
    "camera",
    "microphone",
    "geolocation",
    "payment",
    "usb",
    "serial",
    "hid",
    "display-capture",
    "accelerometer",
    "gyroscope",
    "magnetometer",
]
REFERRER_POLICIES = {"same-origin", "no-referrer"}  # same-origin or stricter


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            assert words[0] not in directives, f"directive {words[0]} given twice: {header}"
            directives[words[0]] = words[1:]
    return directives


def permissions(header: str) -> dict[str, str]:
    found = {}
    for part in header.split(","):
        feature, _, allow = part.strip().partition("=")
        found[feature] = allow
    return found


def assert_security_headers(response: Any, where: str) -> None:
    headers = response.headers
    assert "Content-Security-Policy" in headers, f"{where}: no Content-Security-Policy"
    csp = headers["Content-Security-Policy"]
    assert csp_directives(csp) == EXPECTED_CSP, f"{where}: {csp}"
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"):
        assert unsafe not in csp.split(), f"{where}: {unsafe} in {csp}"
    assert "Content-Security-Policy-Report-Only" not in headers, where
    assert headers.get("X-Frame-Options") == "DENY", f"{where}: {headers.get('X-Frame-Options')}"
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in REFERRER_POLICIES, (
        f"{where}: {headers.get('Referrer-Policy')}"
    )
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", where
    assert "Permissions-Policy" in headers, f"{where}: no Permissions-Policy"
    policy = permissions(headers["Permissions-Policy"])
    for feature in DENIED_FEATURES:
        assert policy.get(feature) == "()", f"{where}: {feature} not denied: {policy}"


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def assert_no_inline_code(response: Any, where: str) -> None:
    """What the policy would refuse in a browser, found in the page itself: an inline
    script, an event-handler attribute, a style attribute or element."""
    html = response.content.decode()
    for pattern in (INLINE_SCRIPT, INLINE_HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT):
        found = pattern.search(html)
        assert found is None, f"{where}: {found.group(0)[:120] if found else ''}"


@pytest.fixture
def world(db: Any) -> Any:
    class World:
        key_worker = staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")
        manager = staff(Role.PPO_MANAGER, username="mgr")
        steering = staff(Role.STEERING_GROUP, username="steer")
        administrator = staff(Role.ADMINISTRATOR, username="adm", is_staff=True)
        administrator.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="auth",
                codename__in=["view_user", "add_user", "change_user"],
            )
        )
        person = OffenderFactory(key_worker=key_worker)
        ProgrammeEpisodeFactory(offender=person)
        conference = CaseConference.objects.create(
            held_on=timezone.localdate() + dt.timedelta(days=7),
            chair=manager,
            created_by=manager,
            location="Room 4",
            status=ConferenceStatus.PLANNED,
        )
        ConferencePerson.objects.create(conference=conference, offender=person, order=1)

    return World()


def signed_in(user: Any) -> Client:
    return sign_in(Client(), user)  # type: ignore[no-any-return]


def test_the_sign_in_page(db: Any) -> None:
    response = Client().get("/sign-in/")
    assert response.status_code == 200
    assert_security_headers(response, "sign-in page")
    assert_no_inline_code(response, "sign-in page")


def test_a_casework_page(world: Any) -> None:
    response = signed_in(world.key_worker).get(f"/people/{world.person.pk}/")
    assert response.status_code == 200
    assert_security_headers(response, "person page")
    assert_no_inline_code(response, "person page")


def test_the_home_page_and_a_form(world: Any) -> None:
    client = signed_in(world.key_worker)
    for path in ("/", f"/people/{world.person.pk}/timeline/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response, path)
        assert_no_inline_code(response, path)


def test_a_report_page(world: Any) -> None:
    response = signed_in(world.steering).get("/reports/")
    assert response.status_code == 200
    assert_security_headers(response, "reports index")
    assert_no_inline_code(response, "reports index")


def test_a_pdf_download(world: Any) -> None:
    response = signed_in(world.manager).get(f"/conferences/{world.conference.pk}/agenda.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert_security_headers(response, "agenda PDF")


def test_an_api_json_response_and_an_api_error(db: Any) -> None:
    _, token = make_api_client(Role.POLICE_OFFICER)
    response = Api(token).get("people/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert_security_headers(response, "API list")

    refused = Api(None).get("people/")
    assert refused.status_code == 401
    assert "detail" in refused.json()
    assert_security_headers(refused, "API 401")

    missing = Api(token).get("people/999999/")
    assert missing.status_code == 404
    assert_security_headers(missing, "API 404")


def test_the_api_docs_and_their_script(world: Any) -> None:
    client = signed_in(world.manager)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert_security_headers(page, "API docs")
    assert_no_inline_code(page, "API docs")
    html = page.content.decode()
    # Swagger UI comes from this site (drf-spectacular-sidecar), never from a CDN.
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(source.startswith("/") for source in sources), sources
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    script_url = next(s for s in sources if "script=" in s)

    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content
    assert_security_headers(script, "API docs script")

    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert_security_headers(schema, "API schema")


def test_the_admin(world: Any) -> None:
    client = signed_in(world.administrator)
    for path in ("/admin/", "/admin/auth/user/", "/admin/auth/user/add/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response, path)
        assert b"OFFICIAL-SENSITIVE" in response.content, path
    anonymous = Client().get("/admin/login/")
    assert_security_headers(anonymous, "admin sign-in redirect or page")


def test_a_404_and_a_403(world: Any) -> None:
    not_found = signed_in(world.key_worker).get("/no-such-page/")
    assert not_found.status_code == 404
    assert_security_headers(not_found, "404")
    assert_no_inline_code(not_found, "404")

    refused = signed_in(world.steering).get(f"/people/{world.person.pk}/")
    assert refused.status_code == 403
    assert_security_headers(refused, "403")
    assert_no_inline_code(refused, "403")


def test_a_signed_out_redirect(db: Any) -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert_security_headers(response, "redirect to sign-in")


@pytest.mark.browser
def test_pages_work_under_the_policy_in_a_browser(
    world: Any, live_server: Any, page: Any, page_problems: Any
) -> None:
    """Chromium enforces the policy: a refused script, style, image or frame is a console
    error. The pages' JavaScript still runs, Swagger UI draws the API, the admin works."""
    from playwright.sync_api import expect

    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/sign-in/")
    # GOV.UK Frontend started from the static start-up script: the password input's
    # "Show" button exists only once its module has run.
    expect(page.get_by_role("button", name="Show password")).to_be_visible()
    page.get_by_label("Username").fill("kw")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    expect(page.locator('[data-module="govuk-service-navigation"]').first).to_have_attribute(
        "data-govuk-service-navigation-init", re.compile(".*")
    )

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PPO Case partner API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()

    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Sign in"))
    page.get_by_label("Username").fill("adm")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Administration").click()
    expect(page.locator("#site-name")).to_contain_text("PPO Case administration")
    expect(page.get_by_test_id("security-marking")).to_contain_text("OFFICIAL-SENSITIVE")
    page.goto(f"{live_server.url}/admin/auth/user/")
    expect(page.locator("#changelist")).to_be_visible()
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    expect(page.locator("#user_form")).to_be_visible()

    assert not violations, "\n".join(violations)
    assert not page_problems.all(), "\n".join(page_problems.all())
