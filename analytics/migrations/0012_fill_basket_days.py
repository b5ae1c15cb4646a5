"""Fill the basket days of a chain that already has rollups (up to its buckets' marks); a new chain has none yet.
A migration of its own: the table's unique key, which the fill upserts on, is only created at the end of 0011."""

from django.db import migrations


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from analytics.rollups.baskets import fill_from_marks

    fill_from_marks()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0011_basket_days"),
        ("fleet", "0013_sale_customer_sales_cover_money"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
