"""Serviced revenue per visit, kept by the rollup jobs (analytics.rollups.visits)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0014_fill_slot_stock'),
    ]

    operations = [
        migrations.CreateModel(
            name='VisitRevenueRollup',
            fields=[
                ('visit_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('route_run_id', models.BigIntegerField(null=True)),
                ('device_id', models.BigIntegerField(db_index=True)),
                ('previous_at', models.DateTimeField(help_text="the machine's previous completed visit")),
                ('visited_at', models.DateTimeField()),
                ('revenue', models.DecimalField(decimal_places=4, max_digits=20)),
            ],
            options={
                'indexes': [models.Index(fields=['route_run_id'], include=('visit_id', 'device_id', 'previous_at', 'visited_at', 'revenue'), name='visit_revenue_run_cover')],
            },
        ),
    ]
