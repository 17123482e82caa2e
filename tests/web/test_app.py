"""The app factory: the API and its documentation live under /api/v1, and settings come from
the same environment variables as the command line."""

from __future__ import annotations

from typing import Any

from calsync.web import WebSettings
from tests.web.conftest import API, TestClient


def _all_property_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        for value in node.values():
            names |= _all_property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _all_property_names(value)
    return names


def test_the_openapi_document_and_the_docs_are_served_under_api_v1(api: TestClient) -> None:
    document = api.get(f"{API}/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert all(path.startswith(f"{API}/") for path in paths)
    assert {f"{API}/events", f"{API}/events/{{event_id}}", f"{API}/individuals"} <= set(paths)
    assert api.get(f"{API}/docs").status_code == 200


def test_no_response_schema_can_carry_a_secret(api: TestClient) -> None:
    schemas = api.get(f"{API}/openapi.json").json()["components"]["schemas"]
    responses = {name: schema for name, schema in schemas.items() if name.endswith("Out")}
    names = _all_property_names(responses)
    assert not names & {"password_hash", "token_hash", "client_secret_encrypted", "certificate_pem"}


def test_every_operation_documents_its_errors_in_the_api_shape(api: TestClient) -> None:
    paths = api.get(f"{API}/openapi.json").json()["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            for status in ("400", "401", "422"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"]["$ref"].endswith("/ErrorBody"), (method, path, status)


def test_settings_follow_the_database_url_variable() -> None:
    environment = {"CALSYNC_DATABASE_URL": "postgresql+psycopg://calsync@db.internal/calsync"}
    assert WebSettings.from_environment(environment).database_url == (
        "postgresql+psycopg://calsync@db.internal/calsync"
    )
    assert WebSettings.from_environment({"CALSYNC_DATA_DIR": "/srv/calsync"}).database_url == (
        "sqlite:////srv/calsync/calsync.sqlite3"
    )
