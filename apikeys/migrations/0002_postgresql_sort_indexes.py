from django.db import migrations

INDEXES = {
    "apikey_tenant_expires_desc": "(tenant_id, expires_on DESC NULLS LAST, id DESC)",
    "apikey_tenant_used_desc": "(tenant_id, last_used_at DESC NULLS LAST, id DESC)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite cannot declare NULLS LAST in an index; it sorts small tables anyway
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON apikeys_apikey {columns}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("apikeys", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
