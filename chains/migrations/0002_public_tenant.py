"""The public tenant and the platform's own domain, so the platform admin answers at localhost."""

from django.db import migrations

PLATFORM_DOMAINS = ["localhost", "127.0.0.1"]


def create_public_tenant(apps, schema_editor):  # type: ignore[no-untyped-def]
    Chain = apps.get_model("chains", "Chain")
    Domain = apps.get_model("chains", "Domain")
    public, _ = Chain.objects.get_or_create(
        schema_name="public", defaults={"name": "CVD platform", "time_zone": "UTC", "currency": "EUR"}
    )
    for index, domain in enumerate(PLATFORM_DOMAINS):
        Domain.objects.get_or_create(domain=domain, defaults={"tenant": public, "is_primary": index == 0})


class Migration(migrations.Migration):
    dependencies = [("chains", "0001_initial")]
    operations = [migrations.RunPython(create_public_tenant, migrations.RunPython.noop)]
