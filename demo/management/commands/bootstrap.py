"""bootstrap: migrate every schema, seed the demo chains when they are missing, build their rollups,
create the platform admin's login, and print URLs and logins (once)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django_tenants.utils import schema_context

from chains.auth import is_loopback
from chains.models import Chain
from demo.seed import DEMO_PASSWORD, SMALL_VENUES, demo_chain_ensure, demo_chains, demo_data_seed
from demo.startup import (
    PLATFORM_ADMIN,
    PLATFORM_PASSWORD,
    Progress,
    StaticCollection,
    platform_admin_ensure,
    rollups_bring_up,
    rollups_plan,
)
from reporting.alerts.demo import demo_alert_rules_create
from reporting.subscriptions.demo import demo_subscriptions_ensure


class Command(BaseCommand):
    help = (
        "What `make run` runs before serving: migrate, seed the demo chains when missing, build their rollups, "
        "create the platform admin's login, and print where to log in. For development only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="the demo data's seed (default 42)")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SETTINGS_MODULE == "cvd.settings.production":
            raise CommandError("bootstrap creates logins with the password 'demo'; it does not run with production settings.")
        progress = Progress(self.stdout)
        # WhiteNoise serves the apps' files straight from their folders when DEBUG is on (WHITENOISE_USE_FINDERS);
        # otherwise they are collected (and compressed) under STATIC_ROOT, alongside the seeding.
        static = None if settings.DEBUG else StaticCollection()
        if static is not None and static.needed:
            progress.say("Static files: collecting and compressing them in the background …")
            static.start()
        with progress.stage("Migrating the public schema and every chain schema"):
            call_command("migrate_schemas", shared=True, verbosity=0, interactive=False)
            call_command("migrate_schemas", tenant=True, verbosity=0, interactive=False)
        for demo, spec in demo_chains():
            existed = Chain.objects.filter(schema_name=demo.schema).exists()
            with progress.stage(f"{demo.schema}: {'checking the chain and its demo users' if existed else 'creating the chain (its schema and tables) and demo users'}"):
                chain = demo_chain_ensure(demo, verbosity=0)
            today = timezone.now().astimezone(chain.tz).date()
            with progress.stage(f"{demo.schema}: seeding {demo.kind} demo data through {today} (seed {options['seed']}) when empty"):
                outcome = demo_data_seed(
                    chain=chain, kind=demo.kind, seed=options["seed"], today=today, vending=spec, venues=SMALL_VENUES,
                    log=progress,
                )
                if outcome.status == "skipped":
                    progress.say("  it already has data: left as it is (seed_demo --reset recreates it)")
            plan = rollups_plan(chain, fresh=outcome.status == "seeded")
            label = "building its rollups (full parallel rebuild)" if plan == "rebuild" else "bringing its rollups up to now"
            with progress.stage(f"{demo.schema}: {label}"):
                report = rollups_bring_up(chain, plan)
                progress.say(f"  {report.changed_rows:,} bucket rows")
            # A few alert rules per chain (once), evaluated at once so the alert center is not empty.
            with progress.stage(f"{demo.schema}: demo alert rules"), schema_context(demo.schema):
                demo_alert_rules_create()
            # The manager's monthly board pack and daily device sales (once); `run_schedules --at` sends them.
            with progress.stage(f"{demo.schema}: demo scheduled reports"):
                demo_subscriptions_ensure(demo.schema)
        if static is None:
            progress.say("Static files: served from the apps' folders (DEBUG is on), no collectstatic needed")
        elif static.process is None:
            progress.say("Static files: already collected, unchanged")
        else:
            with progress.stage("Static files: waiting for collectstatic (started with the migrations)"):
                try:
                    seconds = static.finish()
                except RuntimeError as exc:
                    raise CommandError(str(exc)) from exc
                progress.say(f"  collected and compressed; waited {seconds:.0f} s for it after the seeding")
        created = platform_admin_ensure()
        port = os.environ.get("PORT", "8000")
        say = progress.say
        say("")
        say(f"CVD is starting (bootstrap took {progress.elapsed():.0f} s):")
        for chain in Chain.objects.exclude(schema_name="public").order_by("schema_name"):
            domain = chain.domains.filter(is_primary=True).first()
            say(f"  {chain.name}: http://{domain}:{port}/admin/   API: http://{domain}:{port}/api/docs/")
        say(f"  Platform admin (chains and domains): http://localhost:{port}/admin/")
        if not is_loopback(os.environ.get("HOST", "127.0.0.1")):
            # Their short password signs in from this machine only (chains.auth): do not advertise it.
            say("Demo logins work from this machine only (HOST is not a loopback address).")
            return
        say("Logins:")
        for demo, _spec in demo_chains():
            say(f"  {demo.schema}: {demo.schema}-admin, {demo.schema}-manager, {demo.schema}-viewer (password '{DEMO_PASSWORD}')")
        note = "" if created else " unless it was changed"
        say(f"  platform admin: {PLATFORM_ADMIN} (password '{PLATFORM_PASSWORD}'{note})")
