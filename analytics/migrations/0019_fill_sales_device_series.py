"""Derive the device month series of a chain that already has rollups from its day buckets; a new chain has none yet.
A migration of its own: the table's unique key, which the fill upserts on, is only created at the end of 0018."""

from django.db import migrations


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from analytics.rollups.device_series import fill_from_marks

    fill_from_marks()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0018_sales_device_series"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
