"""The audit trail's link from events to people (issue 15), append-only like the trail.

Each audit event's people become rows of AuditEventPerson, indexed by person, so "who
looked at this person?" is an index lookup rather than a LIKE over every row's
`offender_refs`. The database writes them itself as an audit row is inserted (a trigger
reading the row's `offender_refs`): no query more for the application, and no way to
write an audit row without its links. The existing events' people are copied in one
statement, the same. An event of more than AUDIT_IDS_IN_ROW people or records lists them
only in link rows, which access.audit writes in batches (`ids_listed_apart`, the row's
`offender_refs` empty; its records in AuditEventRecord).

The link tables refuse UPDATE and DELETE in the database as the audit table does
(migration 0003, whose function they share on PostgreSQL). SQLite rebuilds a table to add
a column with a default, which drops the table's triggers: the audit table's trigger is
made again here.
"""

import django.db.models.deletion
from django.db import migrations, models

LINKS = ("access_auditeventperson", "access_auditeventrecord")

POSTGRES_TRIGGER = """
CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION access_auditevent_append_only();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""

POSTGRES_LINK_PEOPLE = """
CREATE OR REPLACE FUNCTION access_auditevent_link_people() RETURNS trigger AS $$
BEGIN
  INSERT INTO access_auditeventperson (event_id, offender_id)
  SELECT NEW.id, ref::bigint
  FROM unnest(string_to_array(btrim(NEW.offender_refs, ','), ',')) AS ref
  WHERE ref <> '';
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_auditevent_links AFTER INSERT ON access_auditevent
  FOR EACH ROW WHEN (NEW.offender_refs <> '')
  EXECUTE FUNCTION access_auditevent_link_people();
"""
SQLITE_LINK_PEOPLE = """
CREATE TRIGGER access_auditevent_links AFTER INSERT ON access_auditevent
WHEN NEW.offender_refs != ''
BEGIN
  INSERT INTO access_auditeventperson (event_id, offender_id)
  SELECT NEW.id, value FROM json_each('[' || trim(NEW.offender_refs, ',') || ']');
END;
"""

# Every earlier event's people, as (event, person): what the trigger writes for a new row.
POSTGRES_PEOPLE_OF_EVENTS = """
SELECT e.id, ref::bigint
FROM access_auditevent e, unnest(string_to_array(btrim(e.offender_refs, ','), ',')) AS ref
WHERE e.offender_refs <> '' AND ref <> ''
ORDER BY e.id, ref::bigint
"""
SQLITE_PEOPLE_OF_EVENTS = """
SELECT e.id, j.value
FROM access_auditevent e, json_each('[' || trim(e.offender_refs, ',') || ']') AS j
WHERE e.offender_refs != ''
ORDER BY e.id, j.value
"""
COPY = "INSERT INTO access_auditeventperson (event_id, offender_id) {select}"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in LINKS:
            schema_editor.execute(POSTGRES_TRIGGER.format(table=table))
        schema_editor.execute(COPY.format(select=POSTGRES_PEOPLE_OF_EVENTS))
        schema_editor.execute(POSTGRES_LINK_PEOPLE)
    elif vendor == "sqlite":
        for table in ("access_auditevent", *LINKS):
            schema_editor.execute(SQLITE_TRIGGER.format(table=table))
        schema_editor.execute(COPY.format(select=SQLITE_PEOPLE_OF_EVENTS))
        schema_editor.execute(SQLITE_LINK_PEOPLE)
    else:
        # Elsewhere nothing links new rows by itself: access.audit would have to.
        event_model = apps.get_model("access", "AuditEvent")
        person_model = apps.get_model("access", "AuditEventPerson")
        rows = event_model.objects.exclude(offender_refs="").values_list("pk", "offender_refs")
        person_model.objects.bulk_create(
            [
                person_model(event_id=pk, offender_id=int(part))
                for pk, refs in rows.iterator()
                for part in refs.split(",")
                if part
            ],
            batch_size=5000,
        )


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS access_auditevent_links ON access_auditevent")
        schema_editor.execute("DROP FUNCTION IF EXISTS access_auditevent_link_people()")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS access_auditevent_links")
    for table in LINKS:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")


def audit_trigger_again(apps, schema_editor):
    """Undoing: removing the column rebuilds the SQLite table, which drops its trigger."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER.format(table="access_auditevent"))


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0008_api_clients_and_idempotency_keys"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, audit_trigger_again),
        migrations.AddField(
            model_name="auditevent",
            name="ids_listed_apart",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="AuditEventRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("record_id", models.BigIntegerField()),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="access.auditevent",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="AuditEventPerson",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("offender_id", models.BigIntegerField()),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="access.auditevent",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["offender_id", "event"], name="audit_person_idx")],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
