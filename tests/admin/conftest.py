"""The admin tests build on the ingestion tests' catalog (one location, two devices, three products)."""

from tests.fleet.conftest import catalog  # noqa: F401  (re-exported fixture)
