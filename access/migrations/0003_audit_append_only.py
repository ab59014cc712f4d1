from django.db import migrations

# On PostgreSQL the database itself refuses to change or delete an audit row, so
# not even a bug or a raw SQL session through the app's role can rewrite history.
# (TRUNCATE, used only by test teardown, is a separate privilege.)
FORWARD = """
CREATE OR REPLACE FUNCTION access_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_auditevent_no_update BEFORE UPDATE OR DELETE ON access_auditevent
  FOR EACH ROW EXECUTE FUNCTION access_auditevent_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS access_auditevent_no_update ON access_auditevent;
DROP FUNCTION IF EXISTS access_auditevent_append_only();
"""

SQLITE_FORWARD = """
CREATE TRIGGER access_auditevent_no_update BEFORE UPDATE ON access_auditevent
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(FORWARD)
    elif vendor == "sqlite":
        # Only UPDATE on SQLite: its test teardown empties tables with DELETE, which
        # PostgreSQL does with TRUNCATE. The model and queryset refuse deletes anyway.
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS access_auditevent_no_update")


class Migration(migrations.Migration):
    dependencies = [("access", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
