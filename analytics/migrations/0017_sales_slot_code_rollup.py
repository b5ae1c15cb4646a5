"""Revenue by slot code across the fleet, a bucket family of its own (analytics.rollups.sql.SALES_SLOT_CODE)."""

from django.db import migrations, models

# A chain that already has rollups gets the new family's buckets at the marks it has: the slot family's buckets
# (per device, product and slot code, same grains, same marks) summed over devices and products are exactly what
# a job would write, with no pass over the raw rows.
FILL = """
    INSERT INTO analytics_salesslotcoderollup
        (grain, starts_at, ends_at, local_date, local_hour, slot_code, revenue, units, transactions)
    SELECT grain, starts_at, ends_at, local_date, local_hour, slot_code, SUM(revenue), SUM(units), SUM(transactions)
    FROM analytics_salesslotrollup
    GROUP BY grain, starts_at, ends_at, local_date, local_hour, slot_code
"""


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0016_fill_visit_revenue'),
    ]

    operations = [
        migrations.CreateModel(
            name='SalesSlotCodeRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grain', models.CharField(choices=[('hour', 'Hour'), ('day', 'Day'), ('week', 'Week'), ('month', 'Month')], db_collation='C', max_length=5)),
                ('starts_at', models.DateTimeField()),
                ('ends_at', models.DateTimeField()),
                ('local_date', models.DateField(help_text='local date the bucket starts on')),
                ('local_hour', models.PositiveSmallIntegerField(default=0, help_text='local hour the bucket starts at (hour grain)')),
                ('revenue', models.DecimalField(decimal_places=4, max_digits=20)),
                ('units', models.BigIntegerField()),
                ('transactions', models.BigIntegerField()),
                ('slot_code', models.CharField(db_collation='C', max_length=20)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('starts_at', 'grain', 'slot_code'), include=('local_date', 'revenue', 'units', 'transactions'), name='sales_slot_code_rollup_bucket')],
            },
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.RunSQL("ANALYZE analytics_salesslotcoderollup", migrations.RunSQL.noop),
    ]
