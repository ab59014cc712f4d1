"""Service navigation items per role (shared/UI.md "Nav: items per role")."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from access.api_clients import may_manage_api_clients
from access.models import Role
from access.policy import (
    Actor,
    RecordKind,
    can_read_audit_log,
    can_see_aggregates,
    grant,
    may_check_arrivals,
    may_review_retention,
    may_use_admin_site,
)
from offenders.compliance import can_see_compliance
from offenders.importing import can_use_import_page


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def navigation_for(actor: Actor, path: str) -> list[NavItem]:
    items: list[tuple[str, str]] = [("Home", reverse("home"))]
    if actor.role not in (None, Role.STEERING_GROUP, Role.ADMINISTRATOR):
        items.append(("People", reverse("offenders:list")))
    if may_check_arrivals(actor):
        # 002: prison staff check a new arrival's PNC ID or prison number.
        items.append(("Arrivals", reverse("offenders:arrival-check")))
    if grant(actor, RecordKind.SELECTION).can_read:
        items.append(("Selection", reverse("selection:index")))
    if grant(actor, RecordKind.PATHWAYS).can_read:
        # pathways: "my actions", with overdue actions, providers and the gap view beside it.
        items.append(("Actions", reverse("pathways:my-actions")))
    if grant(actor, RecordKind.CONFERENCES).can_read:
        items.append(("Conferences", reverse("conferences:list")))
    if can_see_compliance(actor):
        items.append(("Compliance", reverse("offenders:compliance")))
    if can_see_aggregates(actor):
        # The scheme's figures and the 004 self-assessment (reporting).
        items.append(("Reports", reverse("reporting:index")))
    if can_use_import_page(actor):
        items.append(("Import", reverse("offenders:import")))
    if may_manage_api_clients(actor):
        # Partner systems' API clients and their tokens (issue 12).
        items.append(("API clients", reverse("api-clients")))
    if can_read_audit_log(actor):
        items.append(("Audit log", reverse("audit-log")))
    if may_review_retention(actor):
        # Who is past the retention periods and due for review (issue 14).
        items.append(("Retention", reverse("offenders:retention")))
    if may_use_admin_site(actor.user):
        items.append(("Administration", reverse("admin:index")))
    # The longest matching prefix wins, so /people/compliance/ is not also "People".
    matches = [url for _, url in items if (path == url if url == "/" else path.startswith(url))]
    current = max(matches, key=len, default=None)
    return [NavItem(label, url, url == current) for label, url in items]
