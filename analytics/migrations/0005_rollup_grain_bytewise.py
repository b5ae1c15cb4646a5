"""The bucket grain ('hour', 'day', 'week', 'month') compares bytewise: it leads every bucket key, and the
database's default collation (a libc locale) makes each comparison of a key index build a strcoll() call
and rules out abbreviated keys. Equality, the only thing reads ask of it, is the same in any collation."""

from django.db import migrations, models


def _grain() -> models.CharField:
    return models.CharField(
        choices=[("hour", "Hour"), ("day", "Day"), ("week", "Week"), ("month", "Month")], db_collation="C", max_length=5
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_rollup_covering_indexes")]

    operations = [
        migrations.AlterField(model_name=model, name="grain", field=_grain())
        for model in ("saleschainrollup", "salesdevicerollup", "salesproductrollup", "bookingrollup")
    ]
