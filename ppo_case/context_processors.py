from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from access.policy import actor_for

from .navigation import navigation_for


def staff_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    actor = actor_for(user)
    return {"actor": actor, "nav_items": navigation_for(actor, request.path)}
