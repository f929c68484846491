"""Passwords built on the service's own name or its address are refused (CNIL: no password tied
to the service; issue 10 §9)."""

from __future__ import annotations

import pytest

from idp.passwords import policy_problems


@pytest.mark.parametrize(
    "password",
    [
        "Educonnect2024!",
        "Compteparent2026!",
        "ComptesParents#2026",
        "ÉduCation-2025-x",
        "Ecole-Arc-Ciel-2026",
    ],
)
def test_the_services_names_and_host_words_are_refused(make_app, password):
    app = make_app(ISSUER="https://ecole-arc-ciel.example.org")
    with app.test_request_context():
        problems = policy_problems(password, ["a.martin42", "Martin"], None)
    assert problems and problems[0].id == "password.service_name"


@pytest.mark.parametrize(
    "password", ["Cartable-Bleu-2026", "Trousse-Verte-88x", "Gomme-Rouge-2025!"]
)
def test_other_strong_passwords_still_pass(make_app, password):
    app = make_app(ISSUER="https://connexion.ecole-arc-ciel.fr")
    with app.test_request_context():
        assert policy_problems(password, ["a.martin42", "Martin"], None) == []


def test_the_activation_form_says_why(browser, factory):
    from tests.oidc_client import OIDCClient
    from tests.parent import Parent
    from tests.test_activation import activation_form

    account, letter_password = factory.account(status="provisional", email=None)
    OIDCClient(browser, "", None, "").sign_in(account.identifier, letter_password)
    response = activation_form(
        Parent(browser), new_password="Compteparent2026!", new_password_confirm="Compteparent2026!"
    )
    assert response.status_code == 400
    assert 'data-message-id="password.service_name"' in response.get_data(as_text=True)
