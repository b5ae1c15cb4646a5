"""The embedded services start from nothing and are reused; production settings refuse to start without secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, os, sys
from cvd import services
db = services.embedded_postgres()
redis_url = services.embedded_redis_url()
import psycopg, redis
with psycopg.connect(host=db["HOST"], user=db["USER"], dbname=db["NAME"]) as conn:
    wal_level = conn.execute("SHOW wal_level").fetchone()[0]
    postmaster = int(open(os.path.join(os.environ["CVD_VAR_DIR"], "pg", "postmaster.pid")).readline())
client = redis.Redis.from_url(redis_url)
client.incr("probe")
print(json.dumps({"postmaster": postmaster, "wal_level": wal_level, "redis_pid": client.info()["process_id"], "count": int(client.get("probe"))}))
"""


def _probe(var_dir: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CVD_VAR_DIR"] = str(var_dir)
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _stop(var_dir: Path) -> None:
    pid_file = var_dir / "redis" / "redis.pid"
    if pid_file.exists():
        subprocess.run(["kill", pid_file.read_text().strip()], check=False)
    import pgserver._commands as pg

    if (var_dir / "pg" / "postmaster.pid").exists():
        pg.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=var_dir / "pg", user="pgserver")


def test_embedded_services_start_from_nothing_and_are_reused() -> None:
    # A short path: a unix socket path must stay under 108 bytes.
    var_dir = Path(tempfile.mkdtemp(prefix="cvd-probe-"))
    var_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own system user when we are root
    try:
        first = _probe(var_dir)
        second = _probe(var_dir)
        assert (var_dir / "pg" / "PG_VERSION").exists()
        assert (var_dir / "redis" / "redis.sock").exists()
        assert second["postmaster"] == first["postmaster"], "the second process reused the running PostgreSQL"
        assert second["redis_pid"] == first["redis_pid"], "the second process reused the running Redis"
        assert (first["count"], second["count"]) == (1, 2), "both processes talked to the same Redis"
        assert first["wal_level"] == "minimal", "the first start tuned the server and restarted it once"
        from cvd.services import TUNING_VERSION

        marker = var_dir / "pg" / "cvd_tuning_version"
        assert marker.read_text().strip() == str(TUNING_VERSION)
        # A data directory tuned by an older version (or before the marker existed) is re-tuned at its
        # next start, with one restart, and then reused again.
        marker.unlink()
        # Not while another client is connected (a restart would cut it off): at a later, quiet start.
        import psycopg

        socket_dir = (var_dir / "pg" / "postmaster.pid").read_text().splitlines()[4]
        with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres"):
            assert _probe(var_dir)["postmaster"] == first["postmaster"]
        assert not marker.exists()
        retuned = _probe(var_dir)
        assert retuned["postmaster"] != first["postmaster"], "the outdated tuning was re-applied with a restart"
        assert retuned["wal_level"] == "minimal"
        assert marker.read_text().strip() == str(TUNING_VERSION)
        assert _probe(var_dir)["postmaster"] == retuned["postmaster"], "an up-to-date tuning does not restart"
    finally:
        _stop(var_dir)
        subprocess.run(["rm", "-rf", str(var_dir)], check=False)


def _production_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS")}
    env.update(DJANGO_SETTINGS_MODULE="cvd.settings.production", **extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_production_refuses_to_start_without_its_secrets() -> None:
    result = _production_check({})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "DATABASE_URL" in result.stderr


@pytest.mark.parametrize("secret", ["short", "a" * 60])
def test_production_refuses_a_weak_secret_key(secret: str) -> None:
    result = _production_check(_production_env(SECRET_KEY=secret))
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def _production_env(**overrides: str) -> dict[str, str]:
    env = {
        "SECRET_KEY": "k3y-" + "x9Q!fa7Lm2#pZ" * 5,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": ".cvd.example",
        "EMAIL_URL": "smtp://mail.cvd.example:587",
        "DEFAULT_FROM_EMAIL": "reports@cvd.example",
    }
    env.update(overrides)
    return env


def test_production_check_deploy_is_clean_with_its_variables_set() -> None:
    result = _production_check(_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_web_worker_freezes_what_start_up_made() -> None:
    """cvd.wsgi loads every view before it freezes the heap: a full collection then walks only what requests leave
    behind, not the ~190,000 objects of Django, pandas and the analytics modules (100-150 ms at a random request)."""
    probe = ("import gc, json, sys, cvd.wsgi; print(json.dumps({'frozen': gc.get_freeze_count(), "
             "'tracked': len(gc.get_objects()), 'views': 'analytics.apis.assets' in sys.modules}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=dict(os.environ), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    heap = json.loads(result.stdout.strip().splitlines()[-1])
    assert heap["views"], "the views are imported before the freeze"
    assert heap["frozen"] > 100_000 and heap["tracked"] < 1_000, heap
