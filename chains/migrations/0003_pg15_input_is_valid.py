"""PostgreSQL 15 compatibility: pg_input_is_valid() arrived in PostgreSQL 16.

Imports validate staged text set-based with pg_input_is_valid(value, type). On a PostgreSQL 15 server
(DATABASE_URL may point at one) this creates an equivalent function in the public schema, which every
chain's search_path includes; on 16 and later the built-in one in pg_catalog is used and nothing is created.
"""

from django.db import migrations

SHIM = """
CREATE OR REPLACE FUNCTION public.pg_input_is_valid(value text, type_name text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF type_name = 'timestamptz' THEN
        PERFORM value::timestamptz;
    ELSIF type_name = 'numeric' THEN
        PERFORM value::numeric;
    ELSIF type_name = 'integer' OR type_name = 'int4' THEN
        PERFORM value::integer;
    ELSE
        EXECUTE 'SELECT $1::' || type_name::regtype::text USING value;
    END IF;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $$;
"""


def create_shim(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.pg_version < 160000:
        schema_editor.execute(SHIM)


def drop_shim(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.pg_version < 160000:
        schema_editor.execute("DROP FUNCTION IF EXISTS public.pg_input_is_valid(text, text)")


class Migration(migrations.Migration):
    dependencies = [("chains", "0002_public_tenant")]
    operations = [migrations.RunPython(create_shim, drop_shim)]
