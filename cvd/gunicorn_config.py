"""gunicorn's settings for `make run` (the Procfile's web process), sized for the machine and read from the environment.

Every request is mostly CPU in Python (rendering, pandas on aggregated frames) with short waits on PostgreSQL and
Redis. Threads of one process share its interpreter lock, so the default is two worker processes per CPU the
process may use, each with two threads to cover those waits: on 2 cores, 4 × 2 answered 103–110 warm dashboard
and asset-sales reads a second where 2 × 4 answered 77–103 (`python -m bench load`). Each thread keeps one persistent database connection (CONN_MAX_AGE), so the server holds at most
workers × threads connections; PostgreSQL's max_connections must leave room for them and for the Celery worker.
Each worker freezes its start-up heap when it loads the application (cvd.wsgi.settle_heap), so the collector's
full passes do not stop a request for 100-150 ms.

    GUNICORN_WORKERS     worker processes              (default: twice the CPUs available, at least 2)
    GUNICORN_THREADS     threads per worker (gthread)  (default 2)
    GUNICORN_TIMEOUT     seconds a request may hold a worker before it is restarted (default 60)
    GUNICORN_KEEPALIVE   seconds an idle keep-alive connection stays open (default 5)
    GUNICORN_MAX_REQUESTS  restart a worker after this many requests, with jitter; 0: never (default 0)
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


workers = _int("GUNICORN_WORKERS", max(2, 2 * available_cpus()))
threads = _int("GUNICORN_THREADS", 2)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
