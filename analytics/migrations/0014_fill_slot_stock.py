"""Fill the slot stock rows of a chain that already has rollups (at its marks); a new chain has none yet."""

from django.db import migrations


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from analytics.rollups.slot_stock import fill_from_marks

    fill_from_marks()


class Migration(migrations.Migration):

    dependencies = [("analytics", "0013_slot_stock")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
