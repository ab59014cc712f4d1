from django.apps import AppConfig


class SelectionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "selection"

    def ready(self) -> None:
        from access.policy import RecordKind, grant
        from offenders.tabs import register

        # ACCESS.md "selection scores, panel decisions, reviews": offered to whoever may
        # read selection records (the page itself limits them to the people in scope).
        register(
            key="selection",
            label="Selection & panel",
            url_name="selection:person",
            offered=lambda actor: grant(actor, RecordKind.SELECTION).can_read,
            order=40,
        )
