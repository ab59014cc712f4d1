"""What collectstatic collects (ppo_case/staticfiles.py): every file a page loads, and
none of the design systems' sources."""

from __future__ import annotations

from django.apps import apps
from django.contrib.staticfiles.finders import get_finders


def collected() -> set[str]:
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    found: set[str] = set()
    for finder in get_finders():
        for path, storage in finder.list(ignore):
            prefix = getattr(storage, "prefix", None)
            found.add(f"{prefix}/{path}" if prefix else path)
    return found


def test_collectstatic_takes_what_the_pages_load_and_leaves_the_sources():
    files = collected()
    # Loaded by base.html and static/js/init.js, and by the built CSS (url(...)).
    for needed in (
        "app.css",
        "css/print.css",
        "js/init.js",
        "js/govuk-frontend-supported.js",
        "images/favicon.svg",
        "govuk/govuk-frontend.min.js",
        "govuk/govuk-frontend.min.js.map",
        "moj/moj-frontend.min.js",
        "govuk/assets/images/govuk-crest.svg",
        "govuk/assets/manifest.json",
        "moj/assets/images/icon-document.svg",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.html",
        "admin/css/base.css",
    ):
        assert needed in files, needed
    assert any(f.startswith("govuk/assets/fonts/") and f.endswith(".woff2") for f in files)
    sources = [
        f
        for f in files
        if f.startswith(("govuk/", "moj/"))
        and f.endswith((".scss", ".njk", ".md", ".mjs", ".html", "fixtures.json"))
    ]
    assert sources == []
    assert not any(f.startswith(("govuk/components/", "moj/components/")) for f in files)
