"""What `bootstrap` does between migrating and serving: the platform login, the demo chains' rollups, progress lines."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.finders import get_finders
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from analytics.models import RollupWatermark
from analytics.rollups import parallel
from analytics.rollups.services import RollupReport, rollup_hourly, rollup_rebuild_all_at_once
from chains.models import Chain

PLATFORM_ADMIN = "platform-admin"
PLATFORM_PASSWORD = "demo"  # noqa: S105 - the documented demo login of the platform admin
# Further behind than this, a full rebuild (a few seconds per 100k sales) beats catching up on the hourly path,
# which recomputes every day it crosses in one statement.
CATCH_UP_LIMIT = timedelta(days=2)


class Progress:
    """Progress lines, flushed at once (bootstrap's output goes to a terminal or a log while it works)."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        self.out.write(message)
        flush = getattr(self.out, "flush", None)
        if flush is not None:
            flush()

    write = say  # the seeders log through .write

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @contextmanager
    def stage(self, message: str) -> Iterator[None]:
        """`message …`, then `… done in N s` (with the time since the start) when the block ends."""
        self.say(f"{message} …")
        began = time.monotonic()
        yield
        self.say(f"  done in {time.monotonic() - began:.1f} s ({time.monotonic() - self.started:.0f} s since the start)")


def platform_admin_ensure() -> bool:
    """The platform admin's login (public schema): created when missing, left alone otherwise. True when created."""
    with schema_context(get_public_schema_name()):
        users = get_user_model()
        if users.objects.filter(username=PLATFORM_ADMIN).exists():
            return False
        users.objects.create_superuser(PLATFORM_ADMIN, "platform-admin@localhost", PLATFORM_PASSWORD)  # type: ignore[attr-defined]
        return True


def rollups_plan(chain: Chain, *, fresh: bool) -> str:
    """"rebuild" for a chain just seeded, never rolled up or far behind; "catch-up" for one rolled up lately."""
    if fresh:
        return "rebuild"
    with schema_context(chain.schema_name):
        watermark = RollupWatermark.objects.filter(pk=1).first()
    if watermark is None or timezone.now() - watermark.covered_until > CATCH_UP_LIMIT:
        return "rebuild"
    return "catch-up"


def rollups_bring_up(chain: Chain, plan: str) -> RollupReport:
    """Build (the parallel full rebuild: shadow tables swapped in at one commit) or catch up the chain's rollups."""
    with schema_context(chain.schema_name):
        if plan == "rebuild":
            return rollup_rebuild_all_at_once(workers=parallel.rebuild_workers())
        return rollup_hourly()


def static_signature() -> str:
    """A digest of every static source file's path, size and mtime: what collectstatic would copy."""
    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = Path(storage.path(path)).stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class StaticCollection:
    """collectstatic (its brotli/gzip compression is a minute or more of CPU) in a subprocess next to the
    seeding, which mostly waits on PostgreSQL; skipped when the collected files match the sources."""

    def __init__(self) -> None:
        self.stamp = Path(settings.STATIC_ROOT) / ".collected"
        self.signature = static_signature()
        self.process: subprocess.Popen[bytes] | None = None
        self.started = time.monotonic()

    @property
    def needed(self) -> bool:
        return not (self.stamp.is_file() and self.stamp.read_text().strip() == self.signature)

    def start(self) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, this project's manage.py
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def finish(self) -> float:
        """Wait for the subprocess; raise with its error output when it failed. Seconds waited here."""
        assert self.process is not None
        waiting = time.monotonic()
        _out, errors = self.process.communicate()
        if self.process.returncode != 0:
            raise RuntimeError(f"collectstatic failed: {errors.decode(errors='replace').strip()[-2000:]}")
        self.stamp.write_text(self.signature + "\n")
        return time.monotonic() - waiting
