# The generic import engine moved to the ingest app, its ImportJob model with it: the table is renamed and
# keeps its rows; the model leaves fleet's state here and enters ingest's in ingest.0001_initial.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('fleet', '0009_dexread_duplicate_of'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name='importjob', table='ingest_importjob')],
            state_operations=[migrations.DeleteModel(name='ImportJob')],
        ),
    ]
