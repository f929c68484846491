"""`idp clients …`: registering the relying teleservices."""

from __future__ import annotations

import click
from flask import Flask

from idp.cli import emit, json_option, with_app
from idp.oidc.clients import registration, registry
from idp.oidc.clients.metadata import AUTH_METHODS

MAX_TOKEN_LIFETIME = 30 * 86400


@click.group("clients")
def group() -> None:
    """Relying teleservices."""


def _text(info: dict) -> str:
    return "\n".join(
        f"{key}: {' '.join(value) if isinstance(value, list) else value}"
        for key, value in info.items()
    )


@group.command("add")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--post-logout-redirect-uri", "post_logout_uris", multiple=True)
@click.option("--scope", default="openid profile email children", show_default=True)
@click.option(
    "--auth-method",
    type=click.Choice(AUTH_METHODS),
    default="client_secret_basic",
    show_default=True,
)
@click.option(
    "--subject-type", type=click.Choice(["public", "pairwise"]), default="public", show_default=True
)
@click.option("--initiate-login-uri", help="Third-party-initiated login: offered on the portal.")
@click.option("--child-page-uri", help='A child\'s page, "https://…/{child}".')
@click.option("--school", "schools", multiple=True, help="Only for children of this UAI.")
@click.option("--description", help="What the portal says of the teleservice.")
@click.option("--backchannel-logout-uri")
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), help="Default RS256.")
@json_option
@with_app
def add(
    app: Flask,
    name: str,
    redirect_uris: tuple[str, ...],
    post_logout_uris: tuple[str, ...],
    scope: str,
    auth_method: str,
    subject_type: str,
    initiate_login_uri: str | None,
    child_page_uri: str | None,
    schools: tuple[str, ...],
    description: str | None,
    backchannel_logout_uri: str | None,
    id_token_alg: str | None,
    as_json: bool,
) -> None:
    """Register a relying teleservice; its secret is shown this once."""
    client, secret = registry.register_client(
        name,
        list(redirect_uris),
        scope=scope,
        auth_method=auth_method,
        subject_type=subject_type,
        post_logout_redirect_uris=list(post_logout_uris),
        initiate_login_uri=initiate_login_uri,
        backchannel_logout_uri=backchannel_logout_uri,
        id_token_signed_response_alg=id_token_alg,
        schools=list(schools),
        description=description,
        child_page_uri=child_page_uri,
    )
    info = registry.describe_client(client, secret)
    emit(as_json, info, _text(info))


@group.command("list")
@json_option
@with_app
def list_(app: Flask, as_json: bool) -> None:
    """Every registered teleservice."""
    infos = [registry.describe_client(client) for client in registry.list_clients()]
    text = "\n".join(f"{i['client_id']}  {i['client_name']}" for i in infos) or "no clients"
    emit(as_json, infos, text)


@group.command("show")
@click.argument("client_id")
@json_option
@with_app
def show(app: Flask, client_id: str, as_json: bool) -> None:
    """One teleservice's registration (never its secret)."""
    info = registry.describe_client(registry.find_client(client_id))
    emit(as_json, info, _text(info))


@group.command("remove")
@click.argument("client_id")
@with_app
def remove(app: Flask, client_id: str) -> None:
    """Remove a teleservice and every code and token it holds."""
    registry.remove_client(client_id)
    click.echo(f"removed {client_id}")


@group.command("rotate-secret")
@click.argument("client_id")
@json_option
@with_app
def rotate_secret(app: Flask, client_id: str, as_json: bool) -> None:
    """Give a teleservice a new secret; the old one stops working at once."""
    client, secret = registry.rotate_secret(client_id)
    info = {"client_id": client.client_id, "client_secret": secret}
    emit(as_json, info, _text(info))


@group.command("token")
@click.option(
    "--expires-in",
    type=click.IntRange(1, MAX_TOKEN_LIFETIME),
    default=3600,
    show_default=True,
    help="Lifetime in seconds.",
)
@json_option
@with_app
def token(app: Flask, expires_in: int, as_json: bool) -> None:
    """An initial access token for one registration by API (RFC 7591), shown this once."""
    value, expires_at = registration.mint_initial_token(expires_in)
    info = {"initial_access_token": value, "expires_at": expires_at.isoformat()}
    emit(as_json, info, _text(info))
