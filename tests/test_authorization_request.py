"""The front channel: a teleservice sends a parent's browser to /authorize, and back.

The story, as the parent's browser and the relying teleservice see it:

- a request the provider cannot trust to send back (unknown client, unregistered or missing
  redirect_uri) ends on a French error page here, never on a redirect;
- once client and redirect_uri are verified, every other error goes back to the teleservice
  (RFC 6749 §4.1.2.1) with the request's `state` and the provider's `iss` (RFC 9207);
- a valid request waits for sign-in, activation or a fresh sign-in (`prompt`, `max_age`) and
  then issues a code; a signed-in browser gets codes for every teleservice straight away (SSO);
- an account that is not active never gets a code: it is held on the activation page;
- the login page refuses without saying whether the identifier exists, and never breaks.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import current_app

from idp.extensions import db
from idp.models import AuthorizationCode, LoginSession
from idp.models.base import utcnow
from tests.oidc_client import OIDCClient, query_of
from tests.parent import Page

INVALID_REQUEST_PAGE = "oidc.invalid_request"
EXPIRED_REQUEST_PAGE = "oidc.interaction_expired"
OTHER_REDIRECT_URI = "https://cantine.example.org/retour"


# --- helpers ---------------------------------------------------------------------------------


def assert_error_page(response, message_id: str = INVALID_REQUEST_PAGE) -> None:
    """A page for the parent, in French, saying `message_id`: never a redirect anywhere."""
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"
    page = Page(response)
    assert page.tree.find_all("html")[0].get("lang") == "fr"
    assert page.alert_ids == [message_id]


def redirect_params(response, rp: OIDCClient) -> dict[str, str]:
    """The parameters of a redirect to the teleservice: each once, with its state and our iss."""
    assert response.status_code == 302
    assert response.location.split("?")[0] == rp.redirect_uri
    params = parse_qs(urlsplit(response.location).query)
    assert all(len(values) == 1 for values in params.values()), params
    assert params["state"] == [rp.state]
    assert params["iss"] == [current_app.config["ISSUER"]]
    return {key: values[0] for key, values in params.items()}


def assert_error_redirect(response, rp: OIDCClient, error: str) -> dict[str, str]:
    """Back to the teleservice's own redirect_uri with the error (RFC 6749 §4.1.2.1)."""
    params = redirect_params(response, rp)
    assert params["error"] == error
    assert "code" not in params
    return params


def assert_code_redirect(response, rp: OIDCClient) -> str:
    params = redirect_params(response, rp)
    assert "error" not in params
    return params["code"]


def assert_to_login(response, **query: str) -> None:
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert query_of(response.location) == query


def codes_issued() -> int:
    return db.session.query(AuthorizationCode).count()


def walk(rp: OIDCClient, response) -> list:
    """Every response the browser sees while it follows the provider's own redirects."""
    seen = [response]
    while seen[-1].status_code in (302, 303) and not seen[-1].location.startswith("http"):
        seen.append(rp.browser.get(seen[-1].location))
        assert len(seen) < 12, "too many redirects"
    return seen


def login_session_of(account) -> LoginSession:
    return db.session.scalars(
        db.select(LoginSession).filter_by(account_id=account.id, ended_at=None)
    ).one()


def inputs(page: Page) -> dict[str, dict[str, str]]:
    """The attributes of every named <input> of the page, by name."""
    return {e["name"]: e.attrs for e in page.tree.find_all("input") if e.get("name")}


def lang(page: Page) -> str | None:
    return page.tree.find_all("html")[0].get("lang")


@pytest.fixture
def second_rp(factory, browser) -> OIDCClient:
    """Another registered teleservice, in the same browser."""
    client, secret = factory.client(name="Cantine", redirect_uris=[OTHER_REDIRECT_URI])
    return OIDCClient(browser, client.client_id, secret, client.redirect_uris[0])


# --- requests that cannot be answered to the client: an error page here ----------------------


@pytest.mark.parametrize("client_id", ["not-a-registered-client", None])
def test_unknown_or_missing_client_id_shows_error_page_without_redirect(rp, client_id):
    assert_error_page(rp.authorize(client_id=client_id))


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://lsu.example.org/callback/",
        "https://lsu.example.org/callback?next=1",
        "https://lsu.example.org/callback#x",
        "https://LSU.example.org/callback",
        "http://lsu.example.org/callback",
        "https://evil.example.org/callback",
        OTHER_REDIRECT_URI,  # registered, but for another client
    ],
)
def test_unregistered_redirect_uri_shows_error_page_never_redirects(
    rp, parent, second_rp, factory, redirect_uri
):
    account, password = factory.account()
    parent.signed_in_as(account, password)
    assert_error_page(rp.authorize(redirect_uri=redirect_uri))
    assert codes_issued() == 0


def test_missing_redirect_uri_shows_error_page_not_defaulted(rp):
    assert_error_page(rp.authorize(redirect_uri=None))


def test_missing_redirect_uri_with_unsupported_response_type_is_not_defaulted(rp):
    assert_error_page(rp.authorize(redirect_uri=None, response_type="token"))


# --- invalid requests from a verified client: back to the client, with state and iss ---------


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": None},
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
    ids=["no-challenge", "no-pkce-at-all", "plain", "no-method"],
)
def test_pkce_s256_is_required_else_invalid_request_to_client(rp, pkce):
    response = rp.authorize(**pkce)
    assert_error_redirect(response, rp, "invalid_request")


@pytest.mark.parametrize("scope", ["openid profile children", "profile", "email profile"])
def test_scope_beyond_registration_or_without_openid_is_invalid_scope(factory, browser, scope):
    client, secret = factory.client(scope="openid profile")
    rp = OIDCClient(browser, client.client_id, secret, client.redirect_uris[0])
    assert_error_redirect(rp.authorize(scope=scope), rp, "invalid_scope")


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token", "x"])
def test_response_type_other_than_code_is_unsupported_response_type(rp, response_type):
    # RFC 6749 §4.1.2.1: the server does not support obtaining a response this way at all
    # (unauthorized_client is for a type the server supports but this client may not use).
    response = rp.authorize(response_type=response_type)
    assert_error_redirect(response, rp, "unsupported_response_type")


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5"])
def test_malformed_max_age_is_invalid_request_for_signed_in_browser(rp, parent, factory, max_age):
    account, password = factory.account()
    parent.signed_in_as(account, password)
    assert_error_redirect(rp.authorize(max_age=max_age), rp, "invalid_request")


def test_malformed_max_age_is_invalid_request_before_sign_in(rp):
    assert_error_redirect(rp.authorize(max_age="abc"), rp, "invalid_request")


@pytest.mark.parametrize(
    ("parameter", "error"),
    [
        ({"request": "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9."}, "request_not_supported"),
        ({"request_uri": "https://lsu.example.org/req.jwt"}, "request_uri_not_supported"),
    ],
    ids=["request", "request_uri"],
)
def test_unsupported_request_object_is_refused_not_ignored(rp, parameter, error):
    # Discovery says request(_uri)_parameter_supported: false; OIDC Core §6: "Should an OP not
    # support these parameters and an RP uses them, the OP MUST return an appropriate error."
    assert_error_redirect(rp.authorize(**parameter), rp, error)


# --- prompt=none -----------------------------------------------------------------------------


def test_prompt_none_without_session_is_login_required(rp):
    assert_error_redirect(rp.authorize(prompt="none"), rp, "login_required")


def test_prompt_none_with_another_value_is_invalid_request(rp):
    # OIDC Core §3.1.2.1: "none" with any other value is an error.
    assert_error_redirect(rp.authorize(prompt="none login"), rp, "invalid_request")


def test_prompt_none_with_provisional_account_signed_in_is_interaction_required(
    rp, parent, factory
):
    account, password = factory.account(status="provisional")
    parent.signed_in_as(account, password)
    assert_error_redirect(rp.authorize(prompt="none"), rp, "interaction_required")
    assert codes_issued() == 0


def test_prompt_none_with_active_session_issues_code_without_login_page(rp, parent, factory):
    account, password = factory.account()
    parent.signed_in_as(account, password)
    assert_code_redirect(rp.authorize(prompt="none"), rp)


# --- sign-in, SSO and fresh sign-in ----------------------------------------------------------


def test_unsigned_browser_is_sent_to_login_then_back_with_code(rp, parent, factory):
    account, password = factory.account()
    response = rp.authorize()
    assert_to_login(response)
    seen = walk(rp, parent.sign_in(account.identifier, password, response.location).response)
    assert_code_redirect(seen[-1], rp)


def test_sso_second_teleservice_gets_code_without_login_page(rp, second_rp, factory):
    account, password = factory.account()
    rp.code_for(account.identifier, password)
    assert_code_redirect(second_rp.authorize(), second_rp)


def test_nonce_used_before_with_the_client_is_refused_signed_in_or_not(rp, second_rp, factory):
    """OIDC Core §15.5.2: a nonce already in a code for this client is a replay, refused to the
    teleservice (with a live session or without one); another teleservice may use it."""
    account, password = factory.account()
    rp.code_for(account.identifier, password, nonce="same-nonce")
    assert_error_redirect(rp.authorize(nonce="same-nonce"), rp, "invalid_request")
    assert_code_redirect(second_rp.authorize(nonce="same-nonce"), second_rp)
    assert_code_redirect(rp.authorize(nonce="another-nonce"), rp)

    rp.browser.delete_cookie(current_app.config["SESSION_COOKIE_NAME"])
    assert_error_redirect(rp.authorize(nonce="same-nonce"), rp, "invalid_request")
    assert_to_login(rp.authorize(nonce="a-third-nonce"))


def test_prompt_login_shows_login_page_again_then_issues_code(rp, parent, factory):
    account, password = factory.account()
    rp.code_for(account.identifier, password)
    response = rp.authorize(prompt="login")
    assert_to_login(response, fresh="1")
    assert "login.fresh_required" in parent.open(response.location).message_ids
    seen = walk(rp, parent.sign_in(account.identifier, password, response.location).response)
    assert_code_redirect(seen[-1], rp)


@pytest.mark.parametrize("max_age", ["0", "600"])
def test_max_age_with_old_session_asks_login_again_and_id_token_has_new_auth_time(
    rp, parent, factory, max_age
):
    account, password = factory.account()
    rp.code_for(account.identifier, password)
    an_hour_ago = utcnow() - timedelta(hours=1)
    login_session_of(account).auth_time = an_hour_ago
    db.session.commit()

    response = rp.authorize(max_age=max_age)
    assert_to_login(response, fresh="1")
    before = int(time.time())
    seen = walk(rp, parent.sign_in(account.identifier, password, response.location).response)
    tokens = rp.exchange(assert_code_redirect(seen[-1], rp)).get_json()
    claims = rp.id_token_claims(tokens["id_token"])
    assert claims["auth_time"] >= before - 1
    assert claims["auth_time"] > an_hour_ago.timestamp() + 3000


def test_recent_session_within_max_age_gets_code_directly(rp, factory):
    account, password = factory.account()
    rp.code_for(account.identifier, password)
    assert_code_redirect(rp.authorize(max_age="600"), rp)


def test_login_hint_prefills_identifier_field(rp, parent):
    response = rp.authorize(login_hint="a.lefevre42")
    assert_to_login(response, login_hint="a.lefevre42")
    assert inputs(parent.open(response.location))["identifier"]["value"] == "a.lefevre42"


# --- accounts that are not active: held on the activation page, never a code -----------------


def activation_form(page: Page) -> bool:
    return bool(page.tree.find_all("form", action="/activation"))


def check_your_mail(page: Page) -> bool:
    return "activation.mail_pending" in page.message_ids


@pytest.mark.parametrize(
    ("status", "shown"),
    [("provisional", activation_form), ("pending_email", check_your_mail)],
)
def test_inactive_account_lands_on_activation_and_never_gets_a_code(
    rp, parent, factory, status, shown
):
    account, password = factory.account(status=status)
    response = rp.authorize()
    seen = walk(rp, parent.sign_in(account.identifier, password, response.location).response)

    assert urlsplit(seen[-2].location).path == "/activation"
    assert seen[-1].status_code == 200
    assert shown(Page(seen[-1]))
    assert not any(r.location and r.location.startswith(rp.redirect_uri) for r in seen)
    assert codes_issued() == 0

    # The gate: everything else leads back to the activation page while signed in.
    for path in ("/", "/login", "/compte"):
        seen = walk(rp, rp.browser.get(path))
        assert urlsplit(seen[-2].location).path == "/activation", path
        assert seen[-1].status_code == 200
    seen = walk(rp, rp.authorize())
    assert urlsplit(seen[-2].location).path == "/activation"
    assert codes_issued() == 0


# --- the login form's refusals ---------------------------------------------------------------


def test_wrong_password_and_unknown_identifier_get_the_same_refusal(rp, parent, factory):
    account, _ = factory.account()

    def refusal(identifier: str) -> str:
        response = parent.sign_in(identifier, "Pas-le-bon-mot-de-passe")
        assert response.status_code == 401 and response.alert_ids == ["login.failed"]
        (token,) = response.tree.find_all("input", name="csrf_token")
        return response.html.replace(token["value"], "CSRF").replace(identifier, "IDENTIFIER")

    assert refusal(account.identifier) == refusal("x.inconnu99")
    assert parent.open("/").location.endswith("/login")


@pytest.mark.parametrize(
    ("options", "message_id"),
    [
        ({"status": "locked"}, "login.account_locked"),
        ({"status": "provisional", "provisional_expired": True}, "login.provisional_expired"),
    ],
    ids=["locked", "provisional-expired"],
)
def test_right_password_on_refused_account_says_why(parent, factory, options, message_id):
    account, password = factory.account(**options)
    response = parent.sign_in(account.identifier, password)
    assert response.status_code == 401 and response.alert_ids == [message_id]
    assert parent.open("/").location.endswith("/login")


def test_login_post_without_csrf_token_is_refused_in_french(parent, factory):
    account, password = factory.account()
    data = {"identifier": account.identifier, "password": password}
    response = Page(parent.browser.post("/login", data=data))
    assert response.status_code == 400 and response.alert_ids == ["error.form_expired"]
    assert "La page a expiré." in response.text  # in French, on purpose
    assert parent.open("/").location.endswith("/login")


# --- the pending request (Interaction): single use, bound to its browser ---------------------


def test_resume_link_is_single_use(rp, parent, factory):
    account, password = factory.account()
    response = parent.sign_in(account.identifier, password, rp.authorize().location)
    resume = response.location
    assert urlsplit(resume).path.startswith("/authorize/resume/")
    assert_code_redirect(rp.browser.get(resume), rp)
    assert_error_page(rp.browser.get(resume), EXPIRED_REQUEST_PAGE)
    assert codes_issued() == 1


def test_resume_link_opened_in_another_browser_is_expired(rp, parent, make_parent, factory):
    account, password = factory.account()
    resume = parent.sign_in(account.identifier, password, rp.authorize().location).location
    other = make_parent().signed_in_as(account, password)
    assert_error_page(other.open(resume).response, EXPIRED_REQUEST_PAGE)
    assert codes_issued() == 0
    assert_code_redirect(rp.browser.get(resume), rp)  # still the first browser's


# --- the login page itself -------------------------------------------------------------------


def test_login_page_fields_links_and_language(rp, parent):
    page = parent.open(rp.authorize().location)
    assert page.status_code == 200
    assert lang(page) == "fr"
    fields = inputs(page)
    assert fields["identifier"]["autocomplete"] == "username"
    assert fields["password"]["autocomplete"] == "current-password"
    assert fields["password"]["type"] == "password"
    assert fields["csrf_token"]["type"] == "hidden"
    assert fields["csrf_token"]["value"]
    links = {a.text: a["href"] for a in page.tree.find_all("a")}
    assert links["Identifiant oublié"] == "/recovery/identifier"
    assert links["Mot de passe oublié"] == "/recovery/password"
    assert "Pour accéder à : LSU de test" in page.text


def test_login_page_follows_browser_language(parent):
    page = parent.open("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 200 and lang(page) == "en"
    assert "Sign in" in page.text


def test_login_page_follows_ui_locales_of_the_request(rp, parent):
    response = rp.authorize(ui_locales="en-US fr")
    login = parent.open(response.location, headers={"Accept-Language": "fr"})
    assert login.status_code == 200 and lang(login) == "en"


# --- odd and malformed requests: a 4xx answer, never a 500 -------------------------------


def test_duplicate_client_id_is_refused_on_an_error_page(rp, second_rp):
    query = [*rp.params().items(), ("client_id", second_rp.client_id)]
    assert_error_page(rp.browser.get("/authorize?" + urlencode(query)))


def raw_get(browser, path: str, query_string: bytes):
    """A GET whose query is sent as raw bytes, latin-1 decoded as a WSGI server passes it."""
    return browser.get(path, environ_overrides={"QUERY_STRING": query_string.decode("latin-1")})


@pytest.mark.parametrize(
    "query_string",
    [
        b"client_id=%ff%fe%00&response_type=code",
        b"response_type=code&client_id=" + b"a" * 5000,
        b"%%%&&&===",
        b"",
    ],
    ids=["percent-garbage", "huge-client-id", "broken-escapes", "empty"],
)
def test_malformed_authorization_requests_get_a_4xx_page(browser, query_string):
    response = raw_get(browser, "/authorize", query_string)
    assert 400 <= response.status_code < 500
    assert "Location" not in response.headers


@pytest.mark.parametrize("path", ["/authorize", "/login"])
def test_raw_non_utf8_bytes_in_query_get_a_4xx_page(app, browser, path):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # see the answer a real server would send
    response = raw_get(browser, path, b"client_id=\xff\xfe&login_hint=\xc3\x28")
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "overrides",
    [
        {"state": "s" * 20000},
        {"nonce": "n" * 20000, "login_hint": "\u00e9\ufffd" * 1000},
        {"ui_locales": "\x01\x02 en"},
    ],
    ids=["very-long-state", "very-long-nonce-hint", "control-chars"],
)
def test_odd_but_wellformed_requests_go_through_sign_in_and_come_back(
    rp, parent, factory, overrides
):
    account, password = factory.account()
    response = rp.authorize(**overrides)
    rp.state = overrides.get("state", rp.state)  # params() remembers its own, not an override
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert rp.browser.get(response.location).status_code == 200
    seen = walk(rp, parent.sign_in(account.identifier, password, response.location).response)
    assert_code_redirect(seen[-1], rp)  # the state comes back whole


def test_garbage_resume_id_is_the_expired_page(browser):
    assert_error_page(browser.get("/authorize/resume/" + "é" * 300), EXPIRED_REQUEST_PAGE)


def test_client_id_is_not_echoed_unescaped_on_the_error_page(rp):
    response = rp.authorize(client_id='"><script>alert(1)</script>')
    assert_error_page(response)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
