"""Service navigation items per role (shared/UI.md "Nav: items per role")."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from .models import Role
from .policy import Actor, can_read_audit_log


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def navigation_for(actor: Actor, path: str) -> list[NavItem]:
    items: list[tuple[str, str]] = [("Home", reverse("home"))]
    if actor.role not in (None, Role.STEERING_GROUP, Role.ADMINISTRATOR):
        items.append(("People", reverse("offenders:list")))
    if can_read_audit_log(actor):
        items.append(("Audit log", reverse("audit-log")))
    if actor.user is not None and actor.user.is_staff:
        items.append(("Administration", reverse("admin:index")))
    result = []
    for label, url in items:
        active = path == url if url == "/" else path.startswith(url)
        result.append(NavItem(label, url, active))
    return result
