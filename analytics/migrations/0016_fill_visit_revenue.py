"""Fill the visit revenue rows of a chain that already has rollups (at its marks); a new chain has none yet."""

from django.db import migrations


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from analytics.rollups.visits import fill_from_marks

    fill_from_marks()


class Migration(migrations.Migration):

    dependencies = [("analytics", "0015_visit_revenue")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
