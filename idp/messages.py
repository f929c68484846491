"""Every user-visible message has a stable id (as Ory Kratos does): `activation.birthdate_wrong`.

A ``Message`` is the translated text (a ``str``, so templates and forms use it as they would any
string) that also carries its ``id``. Templates render it with ``data-message-id`` (the
``message`` macro of ``templates/_messages.html`` and the field macro do), so that tests check
ids and behaviour, never French sentences, and copy can be edited without breaking them.

Add a message here, never inline in a service: the id says what happened, the text (French,
the source language; English in the catalogue) says it to the parent.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, flash
from flask_babel import gettext, ngettext
from markupsafe import Markup


def N_(text: str) -> str:
    """Marks a message for extraction; it is translated when ``message()`` is called."""
    return text


def _plural(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural message for extraction (`make messages`: ``-k _plural:1,2``)."""
    return (singular, plural)


CATALOGUE: dict[str, str | tuple[str, str]] = {
    # Login
    "login.failed": N_("Identifiant ou mot de passe incorrect."),
    "login.failed_wait": _plural(
        "Identifiant ou mot de passe incorrect. Par sécurité, réessayez dans %(num)d minute.",
        "Identifiant ou mot de passe incorrect. Par sécurité, réessayez dans %(num)d minutes.",
    ),
    "login.throttled": _plural(
        "Trop d'essais infructueux. Par sécurité, réessayez dans %(num)d minute.",
        "Trop d'essais infructueux. Par sécurité, réessayez dans %(num)d minutes.",
    ),
    "login.locked_now": N_(
        "Trop d'essais infructueux : par sécurité, le compte est bloqué. "
        "Adressez-vous à l'école de votre enfant pour le débloquer."
    ),
    "login.account_locked": N_("Votre compte est bloqué. Adressez-vous au directeur de l'école."),
    "login.account_disabled": N_("Ce compte est désactivé. Adressez-vous à l'école."),
    "login.provisional_expired": N_(
        "Votre mot de passe provisoire a expiré. "
        "Demandez un nouveau courrier à l'école de votre enfant."
    ),
    # Activation
    "activation.birthdate_wrong": N_("Cette date ne correspond pas à celle que l'école connaît."),
    "activation.tries_left": N_("Essais restants : %(n)d."),
    # Account management
    "account.current_password_wrong": N_("Mot de passe actuel incorrect."),
    "account.password_unchanged": N_(
        "Choisissez un mot de passe différent du mot de passe actuel."
    ),
    "account.email_unchanged": N_("C'est déjà l'adresse de votre compte."),
    "account.password_changed": N_(
        "Votre mot de passe a été modifié. Vos autres sessions sont fermées."
    ),
    "account.client_revoked": N_("L'accès du téléservice est révoqué."),
    "account.session_ended": N_("La session est fermée."),
    "account.inactive": N_("Ce compte n'est plus actif. Adressez-vous à l'école."),
    "account.email_change_sent": N_(
        "Un message vient d'être envoyé à %(email)s. Ouvrez le lien qu'il contient "
        "pour confirmer la nouvelle adresse."
    ),
    # Self-help
    "recovery.unavailable": N_(
        "Ce compte ne peut pas changer de mot de passe pour l'instant. Adressez-vous à l'école."
    ),
    # Mailed links that can't be used
    "link.unknown": N_("Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier."),
    "link.expired": N_("Ce lien a expiré."),
    "link.replaced": N_("Un lien plus récent vous a été envoyé : utilisez le dernier."),
    "link.used": N_("Ce lien a déjà servi."),
}


class Message(str):
    """A translated message that knows its id; compares and renders as its text."""

    id: str

    def __new__(cls, message_id: str, text: str) -> Message:
        item = super().__new__(cls, text)
        item.id = message_id
        return item

    def __reduce__(self) -> tuple:  # keeps the id through pickling (flashes, job arguments)
        return (Message, (self.id, str(self)))


def message(message_id: str, **values: Any) -> Message:
    """The message ``message_id`` in the current locale, with its ``%(name)s`` values filled.

    A plural message takes its count as ``num``. An unknown id is a programming error.
    """
    entry = CATALOGUE[message_id]
    if isinstance(entry, tuple):
        text = ngettext(entry[0], entry[1], values.pop("num"), **values)
    else:
        text = gettext(entry, **values)
    return Message(message_id, text)


def message_id(text: object) -> str | None:
    """The id of a message, or None for plain text (templates use it for data-message-id)."""
    return getattr(text, "id", None)


def flash_message(message_id: str, kind: str = "success", **values: Any) -> None:
    """Show a message on the next page (``flashes()`` of ``_messages.html``, ``role=status``).

    The id and values travel in the cookie, not the words: the next page says it in its own
    language.
    """
    flash({"id": message_id, "values": values}, kind)


def flashed(item: Any) -> Message:
    """A flashed message (see ``flash_message``), in the current language."""
    return message(item["id"], **item["values"])


def id_attribute(text: object) -> Markup:
    """`` data-message-id="…"`` for an element showing ``text`` (the ``message_attr`` filter)."""
    found = message_id(text)
    return Markup(' data-message-id="%s"') % found if found else Markup("")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(message=message, message_id=message_id, flashed=flashed)
    app.jinja_env.filters["message_attr"] = id_attribute
