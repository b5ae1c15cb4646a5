"""Pack the basket days a chain already holds into one row a day; a new chain has none yet (a migration of its own,
after the table's, like 0019)."""

from django.db import migrations


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from analytics.rollups.baskets import pack_all

    pack_all()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0020_basket_day_series"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
