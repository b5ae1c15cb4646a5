"""Slot stock rows (analytics.rollups.slot_stock), and the triggers that mark a machine's rows stale whenever any
statement writes its service visits or slot fills: admin edits, imports and API posts alike, in the writer's own
transaction. Statement-level with transition tables: one insert per statement, however many rows it writes."""

import django.contrib.postgres.fields
from django.db import migrations, models

DIRTY = """
CREATE FUNCTION analytics_slot_stock_dirty_visits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_slotstockdirty (device_id) SELECT DISTINCT device_id FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_slotstockdirty (device_id) SELECT DISTINCT device_id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION analytics_slot_stock_dirty_fills() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_slotstockdirty (device_id)
        SELECT DISTINCT v.device_id FROM (SELECT DISTINCT visit_id FROM new_rows) n
        JOIN routes_servicevisit v ON v.id = n.visit_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_slotstockdirty (device_id)
        SELECT DISTINCT ps.device_id FROM (SELECT DISTINCT slot_id FROM old_rows) o
        JOIN fleet_planogramslot ps ON ps.id = o.slot_id;
    END IF;
    RETURN NULL;
END $$;
""" + "".join(
    f"""
CREATE TRIGGER analytics_slot_stock_{table}_{event.lower()} AFTER {event} ON routes_{table}
    REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION analytics_slot_stock_dirty_{kind}();
"""
    for table, kind in (("servicevisit", "visits"), ("slotfill", "fills"))
    for event, transition in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    )
)

UNDIRTY = """
DROP FUNCTION analytics_slot_stock_dirty_visits() CASCADE;
DROP FUNCTION analytics_slot_stock_dirty_fills() CASCADE;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0012_fill_basket_days'),
        ('routes', '0002_visit_device_time_id_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='SlotStockDirty',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('device_id', models.BigIntegerField(db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name='SlotStockRollup',
            fields=[
                ('slot_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('filled_at', models.DateTimeField(help_text="the visit of the slot's last fill (none: never filled)", null=True)),
                ('level_after', models.IntegerField(null=True)),
                ('sold_since', models.BigIntegerField(help_text='units sold from the slot after the fill, before the watermark')),
                ('first_day', models.DateField(help_text='the local day `cumulative` starts on')),
                ('cumulative', django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), help_text='units sold from first_day through each day, before the watermark', size=None)),
                ('covered_until', models.DateTimeField()),
                ('ingested_until', models.DateTimeField()),
            ],
        ),
        migrations.RunSQL(DIRTY, UNDIRTY),
    ]
