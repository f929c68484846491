"""RFC 7591 registration takes the portal's metadata too: schools, description, child page."""

from __future__ import annotations

from tests.test_registration import METADATA, bearer, endpoint, initial_token  # noqa: F401


def test_dynamic_registration_accepts_the_portal_metadata(browser, endpoint, initial_token):  # noqa: F811
    document = {
        **METADATA,
        "initiate_login_uri": "https://cantine.example.org/connexion",
        "child_page_uri": "https://cantine.example.org/enfant/{child}",
        "schools": ["0751234j"],
        "description": "Payer la cantine.",
        "backchannel_logout_uri": "https://cantine.example.org/backchannel",
    }
    response = browser.post(endpoint, json=document, headers=bearer(initial_token))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["schools"] == ["0751234J"] and body["description"] == "Payer la cantine."
    assert body["child_page_uri"] == "https://cantine.example.org/enfant/{child}"


def test_bad_portal_metadata_is_invalid_client_metadata(browser, endpoint, initial_token):  # noqa: F811
    for bad in (
        {"schools": "0751234J"},
        {"schools": ["ecole"]},
        {"child_page_uri": "https://cantine.example.org/enfant"},
        {"description": 42},
    ):
        response = browser.post(endpoint, json={**METADATA, **bad}, headers=bearer(initial_token))
        assert response.status_code == 400, bad
        assert response.get_json()["error"] == "invalid_client_metadata", bad
