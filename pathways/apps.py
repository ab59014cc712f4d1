from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pathways"

    def ready(self) -> None:
        from access.policy import RecordKind, grant
        from offenders.tabs import register

        # ACCESS.md "pathway needs and action plan": offered to whoever may read plans
        # (the page itself limits them to the people in scope).
        register(
            key="plan",
            label="Action plan",
            url_name="pathways:person",
            offered=lambda actor: grant(actor, RecordKind.PATHWAYS).can_read,
            order=30,
        )

        # Treatment on a clock (001 §3.2c): its two standards register themselves with
        # offenders.standards on import. From here rather than OffendersConfig: offenders
        # does not import the apps built on it (STYLE.md rule 11).
        from . import treatment  # noqa: F401
