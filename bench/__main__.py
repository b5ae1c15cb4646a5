"""Run every benchmark module (bench/bench_*.py) that defines run(), in name order, or those named on the command line."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvd.settings.base")
    import django

    django.setup()
    from cvd.wsgi import settle_heap

    settle_heap()  # the in-process figures are a web worker's: its start-up heap frozen (cvd.wsgi)
    wanted = set(sys.argv[1:])
    import bench

    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    for name in names:
        if wanted and name.removeprefix("bench_") not in wanted and name not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        print(f"\n=== {name} ===", flush=True)
        module.run()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
