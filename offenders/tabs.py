"""The tabs of a person's page that other apps serve (shared/UI.md "Sub-nav").

A person's page has its own tabs (Overview, Timeline) and tabs served by the apps built
on the record, such as "Selection & panel". `offenders` may not import those apps
(STYLE.md rule 11), so each app registers its tab here from its `AppConfig.ready()`:
a label, the URL name of its page (taking the person's record number), and a predicate
on the actor saying whether the tab is offered. The predicate asks the access policy
(e.g. `grant(actor, RecordKind.SELECTION).can_read`), never a list of roles, so a tab is
offered to exactly those whose page would not refuse them.

The header is shown only to someone who may see the person at all, so a predicate on
the actor decides, within the people in scope, whether the tab applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

# The person page's own tabs: a registered tab may not take their keys.
OWN_TABS = frozenset({"overview", "timeline"})


@dataclass(frozen=True)
class PersonTab:
    key: str
    label: str
    url_name: str
    offered: Callable[[Any], bool]
    # Tabs are shown after Overview and Timeline in this order (then by label).
    order: int = 100


@dataclass(frozen=True)
class TabLink:
    """A tab as the header renders it."""

    key: str
    label: str
    url: str


_registry: dict[str, PersonTab] = {}


def register(
    *, key: str, label: str, url_name: str, offered: Callable[[Any], bool], order: int = 100
) -> PersonTab:
    """Add (or, for the same key, replace) a tab. Called from an app's `ready()`, which
    may run more than once in a process: registering again is harmless."""
    if key in OWN_TABS:
        raise ValueError(f"The person page's own tab {key!r} cannot be registered")
    tab = PersonTab(key=key, label=label, url_name=url_name, offered=offered, order=order)
    _registry[key] = tab
    return tab


def unregister(key: str) -> None:
    _registry.pop(key, None)


def registered() -> list[PersonTab]:
    return sorted(_registry.values(), key=lambda t: (t.order, t.label))


def tabs_for(actor: Any, offender_id: int) -> list[TabLink]:
    """The registered tabs this actor is offered on this person's page, with their URLs."""
    return [
        TabLink(key=tab.key, label=tab.label, url=reverse(tab.url_name, args=[offender_id]))
        for tab in registered()
        if tab.offered(actor)
    ]
