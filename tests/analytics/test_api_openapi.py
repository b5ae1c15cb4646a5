"""The OpenAPI schema documents every analytics field and parameter (a description, with the formula where there is one)."""

from __future__ import annotations

from typing import Any

from tests.conftest import ChainFixture


def _undocumented(schema: dict[str, Any]) -> list[str]:
    missing = []
    for name, component in schema["components"]["schemas"].items():
        for field, spec in (component.get("properties") or {}).items():
            documented = spec.get("description") or any(
                "description" in part for part in spec.get("allOf", []) + spec.get("oneOf", [])
            )
            if not documented:
                missing.append(f"{name}.{field}")
    return missing


def test_every_analytics_field_and_parameter_is_documented(chain_a: ChainFixture) -> None:
    response = chain_a.client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    # The dashboard endpoint belongs to the dashboard pages and documents itself; the export answers files.
    analytics_paths = {
        path: item for path, item in schema["paths"].items()
        if path.startswith("/api/analytics/") and path not in ("/api/analytics/dashboard/", "/api/analytics/export/")
    }
    assert len(analytics_paths) >= 12
    referenced: set[str] = set()
    for path, item in analytics_paths.items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), f"{method.upper()} {path} ?{parameter['name']} is undocumented"
            ref = operation["responses"]["200"]["content"]["application/json"]["schema"].get("$ref", "")
            referenced.add(ref.rsplit("/", 1)[-1])

    # Walk the response components reachable from the analytics answers.
    components = schema["components"]["schemas"]
    seen: set[str] = set()
    todo = [name for name in referenced if name]
    while todo:
        name = todo.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        text = str(components[name])
        todo += [part.split("'")[0] for part in text.split("#/components/schemas/")[1:]]
    missing = [entry for entry in _undocumented({"components": {"schemas": {n: components[n] for n in seen}}})]
    assert not missing, f"undocumented fields: {missing}"
