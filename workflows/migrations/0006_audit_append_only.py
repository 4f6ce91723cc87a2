"""On PostgreSQL the audit table refuses UPDATE and DELETE, whoever asks (a bug, a console
session). Only a superuser who switches triggers off (session_replication_role = replica) can
get past it, and verify_audit still names what such a person changed. TRUNCATE is withheld from
the application's role by ``manage.py protect_audit_log`` (see docs/auditors.md)."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION fuzhu_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: %% on %% is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS workflows_auditevent_append_only ON workflows_auditevent;
CREATE TRIGGER workflows_auditevent_append_only
    BEFORE UPDATE OR DELETE ON workflows_auditevent
    FOR EACH ROW EXECUTE FUNCTION fuzhu_audit_append_only();
"""

ALLOW = """
DROP TRIGGER IF EXISTS workflows_auditevent_append_only ON workflows_auditevent;
DROP FUNCTION IF EXISTS fuzhu_audit_append_only();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0005_instance_scope_path")]

    operations = [migrations.RunPython(forbid, allow)]
