"""collectstatic without the design systems' sources.

GOV.UK Frontend and MoJ Frontend ship their Sass, Nunjucks templates, per-component ES
modules, example HTML and documentation beside the built files: about 1,200 files that
no page asks for. The app serves only the built bundles (`govuk-frontend.min.js`,
`moj-frontend.min.js`, imported by static/js/init.js), their source maps and `assets/`
(fonts, images, the web manifest); the CSS is our own build (frontend/build/app.css, from
the Sass under node_modules). Collecting the rest cost most of collectstatic's time
(whitenoise compresses and hashes every file): a deploy and the production-stack test paid
for it on every run.

The patterns match paths inside each static directory (Django's ignore_patterns); the
design systems' source folders are named here, and nothing else in the project or its
installed apps uses those top-level names.
"""

from django.contrib.staticfiles.apps import StaticFilesConfig

SOURCE_FOLDERS = (
    "common",
    "components",
    "core",
    "custom-properties",
    "errors",
    "filters",
    "helpers",
    "macros",
    "objects",
    "overrides",
    "settings",
    "tools",
    "utilities",
    "vendor",
)


class StaticFiles(StaticFilesConfig):
    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        *(f"{folder}/*" for folder in SOURCE_FOLDERS),
        "*.scss",
        "*.scss.map",
        "*.njk",
        "*.md",
        "*.mjs",
        "*.mjs.map",
        "*.bundle.js",
        "*.bundle.js.map",
    ]
