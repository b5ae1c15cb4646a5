from django.db import migrations, models


def track(apps, schema_editor):  # type: ignore[no-untyped-def]
    from analytics.query.changes import ensure_change_triggers

    ensure_change_triggers()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0007_sales_slot_rollup"),
        ("bookings", "0001_initial"),
        ("fleet", "0012_sale_customer_sales_by_time"),
        ("routes", "0002_visit_device_time_id_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("txid", models.BigIntegerField(help_text="the writing transaction's id (none: a compaction)", null=True)),
                ("at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(track, migrations.RunPython.noop),
    ]
