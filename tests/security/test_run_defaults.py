"""`make run`'s defaults: loopback only, no DEBUG unless asked, a per-checkout key, gunicorn's control socket
under var/, workers, threads, timeout and keep-alive from the environment, and static files served without DEBUG."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _settings(**env: str) -> tuple[str, str]:
    """(DEBUG, SECRET_KEY) as cvd.settings.base computes them with this environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    clean.update(DJANGO_SETTINGS_MODULE="cvd.settings.base", **env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    debug, key = out.stdout.strip().splitlines()[-1].split(" ", 1)
    return debug, key


def test_debug_is_off_unless_asked_and_the_dev_key_is_random_per_checkout() -> None:
    debug, key = _settings()
    assert debug == "False"
    assert len(key) >= 50 and "insecure" not in key
    assert (ROOT / "var" / "secret_key").read_text().strip() == key, "kept for the next start"
    assert oct((ROOT / "var" / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert _settings(DEBUG="1", SECRET_KEY="x" * 60) == ("True", "x" * 60)


def test_the_makefile_and_procfile_default_to_loopback() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, re.M) and "export PORT HOST" in makefile
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "--bind ${HOST:-127.0.0.1}:${PORT:-8000}" in web
    assert "--config python:cvd.gunicorn_config" in web
    assert "--control-socket var/gunicorn.ctl" in web


def _gunicorn_config(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    clean.update(env)
    code = ("import json, cvd.gunicorn_config as c; print(json.dumps({k: getattr(c, k) for k in "
            "('workers', 'threads', 'timeout', 'keepalive', 'worker_class', 'max_requests')}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def test_gunicorn_is_sized_from_the_machine_and_the_environment() -> None:
    cpus = len(os.sched_getaffinity(0))
    assert _gunicorn_config() == {"workers": max(2, 2 * cpus), "threads": 2, "timeout": 60, "keepalive": 5,
                                  "worker_class": "gthread", "max_requests": 0}
    assert _gunicorn_config(GUNICORN_WORKERS="3", GUNICORN_THREADS="8", GUNICORN_TIMEOUT="20", GUNICORN_KEEPALIVE="2",
                            GUNICORN_MAX_REQUESTS="1000") == {
        "workers": 3, "threads": 8, "timeout": 20, "keepalive": 2, "worker_class": "gthread", "max_requests": 1000}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_web_process_listens_on_loopback_only_and_serves_static_files() -> None:
    # WhiteNoise serves what collectstatic put in STATIC_ROOT (make run does that); a probe file stands in
    # for it here, since collecting every app's files takes minutes on a busy machine.
    static_root = ROOT / "var" / "static"
    static_root.mkdir(parents=True, exist_ok=True)
    probe = static_root / f"probe-{os.getpid()}.css"
    probe.write_text("body { color: black; }\n")
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))[4:]
    control = Path(tempfile.mkdtemp(prefix="cvd-ctl-")) / "gunicorn.ctl"
    web = web.replace("var/gunicorn.ctl", str(control))  # not the checkout's own, in case `make run` is up
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(PORT=str(port), GUNICORN_WORKERS="1", GUNICORN_THREADS="2")
    server = subprocess.Popen(["bash", "-c", f"exec {web}"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        listening: list[object] = []
        while time.monotonic() < deadline and not (listening and control.exists()):
            assert server.poll() is None, "gunicorn exited"
            listening = [c.laddr for c in psutil.net_connections("inet") if c.status == "LISTEN" and c.laddr.port == port]
            time.sleep(0.2)
        assert listening and {address.ip for address in listening} == {"127.0.0.1"}  # type: ignore[attr-defined]
        assert control.exists(), "the control socket is where the Procfile says"
        assert len(psutil.Process(server.pid).children()) == 1, "GUNICORN_WORKERS=1"
        request = urllib.request.Request(f"http://127.0.0.1:{port}/static/{probe.name}", headers={"Host": "localhost"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (a loopback URL)
            assert response.status == 200 and response.read() == b"body { color: black; }\n"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        probe.unlink()
