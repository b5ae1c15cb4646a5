"""bootstrap: migrate every schema, seed the demo chains when they are missing, bring their rollups up to now,
print URLs and logins."""

from __future__ import annotations

import io
import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from chains.auth import is_loopback
from chains.models import Chain
from reporting.alerts.demo import demo_alert_rules_create
from reporting.subscriptions.demo import demo_subscriptions_ensure

DEMO_SCHEMAS = ("acme", "playhub")


class Command(BaseCommand):
    help = "Migrate, seed the demo chains when missing, and print where to log in."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate_schemas", shared=True, verbosity=0, interactive=False)
        call_command("migrate_schemas", verbosity=0, interactive=False)
        # seed_demo leaves a chain that already has data as it is, so this only fills what is missing or empty.
        call_command("seed_demo")
        # Dashboards read rollups from the first request, not after beat's first hourly run (up to an hour away);
        # a chain already built only catches up.
        for schema in DEMO_SCHEMAS:
            if Chain.objects.filter(schema_name=schema).exists():
                call_command("rollup", schema, stdout=io.StringIO())
                # A few alert rules per chain (once), evaluated at once so the alert center is not empty.
                with schema_context(schema):
                    demo_alert_rules_create()
                # The manager's monthly board pack and daily device sales (once); `run_schedules --at` sends them.
                demo_subscriptions_ensure(schema)
        port = os.environ.get("PORT", "8000")
        self.stdout.write("")
        self.stdout.write("CVD is starting:")
        for chain in Chain.objects.exclude(schema_name="public").order_by("schema_name"):
            domain = chain.domains.filter(is_primary=True).first()
            self.stdout.write(f"  {chain.name}: http://{domain}:{port}/admin/   API: http://{domain}:{port}/api/docs/")
        self.stdout.write(f"  Platform admin: http://localhost:{port}/admin/")
        if is_loopback(os.environ.get("HOST", "127.0.0.1")):
            self.stdout.write("Demo logins (password 'demo'):")
            for schema in DEMO_SCHEMAS:
                self.stdout.write(f"  {schema}-admin, {schema}-manager, {schema}-viewer")
        else:
            # Their short password signs in from this machine only (chains.auth): do not advertise it.
            self.stdout.write("Demo logins work from this machine only (HOST is not a loopback address).")
