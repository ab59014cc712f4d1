from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The synthetic demo scheme (`manage.py seed_demo`). It sits above every app and
    writes through their services (STYLE.md rule 11), so nothing below imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo scheme"
