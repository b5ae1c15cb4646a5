"""The fleet tests' catalog (a location, devices with serials, products) for the security tests too."""

from tests.fleet.conftest import catalog  # noqa: F401
