from django.apps import AppConfig


class ConferencesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conferences"

    def ready(self) -> None:
        from access.policy import RecordKind, grant
        from offenders.tabs import register

        # ACCESS.md "conference minutes and agendas": offered to whoever may read
        # conferences (the page itself limits them to the conferences and people in scope).
        register(
            key="conferences",
            label="Conferences",
            url_name="conferences:person-tab",
            offered=lambda actor: grant(actor, RecordKind.CONFERENCES).can_read,
            order=60,
        )
