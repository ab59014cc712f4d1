"""The header (issue 13 item 7): who is signed in, their agency and Sign out in the MoJ
header pattern; OFFICIAL-SENSITIVE as a persistent marking on every page, the admin's too,
not a phase banner; "Administration" in the navigation only for those who may use it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from access.models import Agency, AgencyKind, Role
from tests.factories import sign_in, staff

pytestmark = pytest.mark.django_db


def header_of(html: str) -> str:
    found = re.search(r'<header class="govuk-template__header">(.*?)</header>', html, re.S)
    assert found, "no page header"
    return found.group(1)


def marking_of(html: str) -> str:
    found = re.search(r'data-testid="security-marking">(.*?)</div>\s*</div>', html, re.S)
    assert found, "no security marking"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def nav_labels(html: str) -> list[str]:
    return re.findall(
        r'class="govuk-service-navigation__link"[^>]*>(?:<strong[^>]*>)?([^<]+)<', html
    )


def test_the_header_names_the_user_their_role_and_agency_and_signs_out() -> None:
    agency = Agency.objects.create(name="Qxnorth Probation Unit", kind=AgencyKind.PROBATION)
    user = staff(Role.KEY_WORKER, agency, first_name="Orlanthe", last_name="Vexbury")
    html = sign_in(Client(), user).get("/").content.decode()

    header = header_of(html)
    assert 'class="moj-header' in header
    account = re.search(
        r'<nav class="moj-header__navigation" aria-label="Account">(.*?)</nav>', header, re.S
    )
    assert account, header
    words = " ".join(re.sub(r"<[^>]+>", " ", account.group(1)).split())
    assert "Orlanthe Vexbury" in words
    assert "Key worker" in words
    assert "Qxnorth Probation Unit" in words
    # Sign out is a POST (Django's LogoutView refuses GET), with its CSRF token.
    sign_out = re.search(
        r'<form method="post" action="/sign-out/"[^>]*>(.*?)</form>', account.group(1), re.S
    )
    assert sign_out, account.group(1)
    assert 'name="csrfmiddlewaretoken"' in sign_out.group(1)
    assert ">Sign out</button>" in sign_out.group(1)

    assert marking_of(html).startswith("OFFICIAL-SENSITIVE")
    assert "govuk-phase-banner" not in html


def test_the_marking_is_on_the_sign_in_page_with_no_account_links() -> None:
    html = Client().get("/sign-in/").content.decode()
    assert marking_of(html).startswith("OFFICIAL-SENSITIVE")
    assert "Sign out" not in header_of(html)
    assert "govuk-phase-banner" not in html


def test_administration_is_in_the_navigation_only_for_administrators() -> None:
    administrator = staff(Role.ADMINISTRATOR, is_staff=True)
    manager = staff(Role.PPO_MANAGER, is_staff=True)
    not_staff = staff(Role.ADMINISTRATOR, is_staff=False)

    admin_home = sign_in(Client(), administrator).get("/").content.decode()
    assert "Administration" in nav_labels(admin_home)
    assert 'href="/admin/"' in admin_home
    for user in (manager, not_staff):
        page = sign_in(Client(), user).get("/").content.decode()
        assert "Administration" not in nav_labels(page)
        assert 'href="/admin/"' not in page


def test_the_admin_carries_the_same_marking_and_who_is_signed_in() -> None:
    agency = Agency.objects.create(name="Qxborough Council", kind=AgencyKind.LOCAL_AUTHORITY)
    administrator = staff(Role.ADMINISTRATOR, agency, is_staff=True, first_name="Tamsell")
    administrator.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="auth", codename="view_user")
    )
    client = sign_in(Client(), administrator)
    for path in ("/admin/", "/admin/auth/user/"):
        html = client.get(path).content.decode()
        header = re.search(r'<header id="header">(.*?)</header>', html, re.S)
        assert header, path
        assert marking_of(html).startswith("OFFICIAL-SENSITIVE"), path
        # The marking sits above the admin's own header, on every admin page.
        assert html.index('data-testid="security-marking"') < html.index('<header id="header">')
        assert "Qxborough Council" in header.group(1), path
        assert 'action="/sign-out/"' in header.group(1), path


def test_a_page_without_a_request_still_renders_the_marking(client: Any) -> None:
    """500.html is rendered with no context at all (access.views.server_error)."""
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert marking_of(html).startswith("OFFICIAL-SENSITIVE")
    assert "Sign out" not in html
