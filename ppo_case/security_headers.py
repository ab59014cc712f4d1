"""The one security header neither Django nor django-csp sets: Permissions-Policy.

Django's SecurityMiddleware sets X-Content-Type-Options, Referrer-Policy and
Cross-Origin-Opener-Policy, XFrameOptionsMiddleware sets X-Frame-Options, and django-csp's
middleware the Content-Security-Policy (settings: SECURE_*, X_FRAME_OPTIONS,
CONTENT_SECURITY_POLICY). A casework tool needs no camera, microphone or location, so every
powerful browser feature is denied to the service and anything it could embed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Permissions-Policy"


def permissions_policy_header(policy: Mapping[str, Sequence[str]]) -> str:
    """{"camera": [], "fullscreen": ["self"]} -> 'camera=(), fullscreen=(self)'."""
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())


class PermissionsPolicyMiddleware:
    """Adds settings.PERMISSIONS_POLICY as the Permissions-Policy header to every response
    that does not already carry one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.header = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault(HEADER, self.header)
        return response
