from django.apps import AppConfig


class OffendersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "offenders"

    def ready(self) -> None:
        # Each module measuring a premium-service standard registers it on import
        # (offenders.standards): contacts and drug tests against each person's level.
        from . import compliance  # noqa: F401

        # Enforcement on a clock (001 §3.2e): its standard, and the person page's tab,
        # offered to readers of contacts (enforcement is casework on contacts).
        from .enforcement import register_tab

        register_tab()
        # Reception assessments within N hours and release plans N weeks before release.
        from . import custody_release  # noqa: F401
