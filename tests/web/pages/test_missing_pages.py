"""An address that does not exist: a page for browsers, the API's JSON error for others."""

from __future__ import annotations

from fastapi.testclient import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_a_browser_asking_for_an_unknown_page_gets_a_page_that_says_so(
    client: TestClient,
) -> None:
    response = client.get("/calender", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert "There is no page at /calender." in response.text


def test_an_unknown_api_address_keeps_the_api_error_shape_even_for_a_browser(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/nothing-here", headers=BROWSER)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_script_asking_for_an_unknown_address_gets_json(client: TestClient) -> None:
    response = client.get("/calender", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
