# ImportJob moved here from fleet (fleet.0010_importjob_to_ingest renamed its table): nothing is created, the
# model only enters ingest's state; its content type moves too, so the permissions granted on it stay granted.

import django.utils.timezone
import ingest.models
from django.db import migrations, models


def content_type_move(apps, schema_editor, old='fleet', new='ingest'):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=new, model='importjob').exists():
        types.filter(app_label=old, model='importjob').update(app_label=new)


def content_type_move_back(apps, schema_editor):
    content_type_move(apps, schema_editor, old='ingest', new='fleet')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('fleet', '0010_importjob_to_ingest'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=10)),
                        ('file_name', models.CharField(max_length=255)),
                        ('upload', models.FileField(blank=True, max_length=500, upload_to=ingest.models._import_upload_path)),
                        ('status', models.CharField(choices=[('previewing', 'Previewing'), ('previewed', 'Previewed'), ('queued', 'Queued'), ('running', 'Running'), ('imported', 'Imported'), ('rejected', 'Rejected'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('phase', models.CharField(blank=True, max_length=20)),
                        ('progress', models.FloatField(default=0)),
                        ('report', models.JSONField(blank=True, default=dict)),
                        ('preview', models.JSONField(blank=True, default=dict)),
                        ('requested_by', models.CharField(blank=True, max_length=150)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('previewed_at', models.DateTimeField(blank=True, null=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'ordering': ['-created_at'],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_move, content_type_move_back),
    ]
