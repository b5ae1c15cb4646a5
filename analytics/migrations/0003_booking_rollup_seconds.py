"""Booked time in the booking rollup is kept in exact seconds; minutes are derived when read."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0002_rollups"),
    ]

    operations = [
        migrations.RenameField(model_name="bookingrollup", old_name="booked_minutes", new_name="booked_seconds"),
        migrations.AlterField(
            model_name="bookingrollup",
            name="booked_seconds",
            field=models.DecimalField(decimal_places=6, max_digits=24),
        ),
    ]
