"""A covering index for a range's runs (their visits' machine, time, completion and cash), in place of the
foreign key's plain one."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fleet', '0013_sale_customer_sales_cover_money'),
        ('routes', '0002_visit_device_time_id_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='servicevisit',
            name='route_run',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='visits', to='routes.routerun'),
        ),
        migrations.AddIndex(
            model_name='servicevisit',
            index=models.Index(fields=['route_run'], include=('id', 'device', 'visited_at', 'completed', 'cash_collected'), name='visit_run_cover'),
        ),
    ]
