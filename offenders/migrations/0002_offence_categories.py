from decimal import Decimal

from django.db import migrations

# shared/HARM.md: offence groups, Home Office codes, CCHI median days, ONS CSS and the
# default weight w = clamp(1 + 9 ln(days) / ln(365), 1, 10). Schemes edit these.
CATEGORIES = [
    ("Burglary – residential", "28E–28H (legacy 28A–D); aggravated 29", "273.5", 438, "9.6", True),
    ("Burglary – business/community", "30C/30D (legacy 30A/B); aggravated 31", "183.5", 117, "9.0", True),
    ("Robbery – personal", "34B", "365", 746, "10.0", True),
    ("Robbery – business", "34A", "365", 746, "10.0", True),
    ("Theft from the person", "39", "2", 86, "2.1", True),
    ("Shoplifting", "46", "1", 13, "1.0", True),
    ("Bicycle theft", "44", "2", 10, "2.1", True),
    ("Theft from a vehicle", "45", "5", None, "3.5", True),
    ("Theft/taking of a vehicle, aggravated vehicle taking", "48; 37.2", "5", None, "3.5", True),
    ("Interfering with a vehicle", "126", "5", None, "3.5", True),
    ("Other theft, making off without payment", "49, 40, 41, 49A", "2", 33, "2.1", True),
    ("Handling stolen goods, going equipped", "54; 33", "10", None, "4.5", True),
    ("Criminal damage", "58A–58D, 58J", "2", None, "2.1", False),
    ("Arson", "56A/56B", "185", None, "9.0", False),
    ("Drug possession", "92D, 92E", "3", 3, "2.7", False),
    ("Drug trafficking", "92A", "5", 497, "3.5", False),
    ("Violence with injury", "8N, 5D, 8P, 8S", "365", None, "10.0", False),
    ("Violence without injury", "105A, 105B, 104", "10", None, "4.5", False),
    ("Stalking and harassment", "8L, 8Q, 8R, 8M", "10", None, "4.5", False),
    ("Public order", "9A, 9B, 62A, 66", "7.5", None, "4.1", False),
    ("Possession of weapons", "10A–10D, 81, 90", "273.75", None, "9.6", False),
    ("Fraud", "53B–F", None, None, "3.0", True),
    ("Breach of court order, bail offences", "83, misc.", "10", None, "4.5", False),
]

NOTES = {
    "Drug trafficking": "Median hides severe codes: the maximum is 547.5 days (HARM.md caveats).",
    "Theft from the person": "CCHI 2 days but CSS 86: many schemes raise this weight (HARM.md).",
    "Fraud": "No CCHI median found: the scheme sets the weight (default 3.0).",
}


def add_categories(apps, schema_editor):
    OffenceCategory = apps.get_model("offenders", "OffenceCategory")
    for name, codes, days, css, weight, acquisitive in CATEGORIES:
        OffenceCategory.objects.update_or_create(
            name=name,
            defaults={
                "home_office_codes": codes,
                "cchi_median_days": Decimal(days) if days else None,
                "crime_severity_score": css,
                "harm_weight": Decimal(weight),
                "acquisitive": acquisitive,
                "note": NOTES.get(name, ""),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("offenders", "0001_initial")]
    operations = [migrations.RunPython(add_categories, migrations.RunPython.noop)]
