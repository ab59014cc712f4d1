from django.db import migrations

# 000 §5.1: the eight pathways of the Regional Reoffending Action Plan.
PATHWAYS = [
    ("accommodation", "Accommodation"),
    ("ete", "Education, Training and Employment"),
    ("health", "Mental and Physical Health"),
    ("drugs_alcohol", "Drugs and Alcohol"),
    ("finance", "Finance"),
    ("families", "Children, Families and Community Support"),
    ("attitudes", "Attitudes, Thinking and Behaviour"),
    ("victims", "Victims of Crime"),
]


def add_pathways(apps, schema_editor):
    Pathway = apps.get_model("pathways", "Pathway")
    for order, (code, name) in enumerate(PATHWAYS, start=1):
        Pathway.objects.update_or_create(code=code, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("pathways", "0001_initial")]
    operations = [migrations.RunPython(add_pathways, migrations.RunPython.noop)]
