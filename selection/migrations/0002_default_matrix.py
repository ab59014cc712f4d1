from django.db import migrations
from django.utils import timezone


def add_default_matrix(apps, schema_editor):
    from selection.defaults import DEFAULT_CRITERIA, DEFAULT_THRESHOLD

    MatrixVersion = apps.get_model("selection", "MatrixVersion")
    Criterion = apps.get_model("selection", "Criterion")
    OffenceCategory = apps.get_model("offenders", "OffenceCategory")
    if MatrixVersion.objects.exists():
        return
    version = MatrixVersion.objects.create(
        number=1,
        status="adopted",
        description="The default matrix shipped with PPO Case: copy it to a draft to adjust it.",
        threshold=DEFAULT_THRESHOLD,
        adopted_at=timezone.now(),
    )
    for kind, event_kind, category_name, weight in DEFAULT_CRITERIA:
        category = (
            OffenceCategory.objects.filter(name=category_name).first() if category_name else None
        )
        if category_name and category is None:
            continue
        Criterion.objects.create(
            version=version, kind=kind, event_kind=event_kind, category=category, weight=weight
        )


class Migration(migrations.Migration):
    dependencies = [
        ("selection", "0001_matrix_risk_and_runs"),
        ("offenders", "0002_offence_categories"),
    ]

    operations = [migrations.RunPython(add_default_matrix, migrations.RunPython.noop)]
