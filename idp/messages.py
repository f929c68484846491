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
from markupsafe import Markup, escape


def N_(text: str) -> str:
    """Marks a message for extraction; it is translated when ``message()`` is called."""
    return text


def _plural(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural message for extraction (`make messages`: ``-k _plural:1,2``)."""
    return (singular, plural)


CATALOGUE: dict[str, str | tuple[str, str]] = {
    # Login
    "login.failed": N_("Identifiant ou mot de passe incorrect."),
    "login.failed_warning": N_(
        "Identifiant ou mot de passe incorrect. Attention : après %(n)d essais infructueux, "
        "vous devrez patienter avant de pouvoir réessayer."
    ),
    "login.failed_wait": _plural(
        "Identifiant ou mot de passe incorrect. Par sécurité, réessayez dans %(num)d minute, "
        "à partir de %(time)s.",
        "Identifiant ou mot de passe incorrect. Par sécurité, réessayez dans %(num)d minutes, "
        "à partir de %(time)s.",
    ),
    "login.throttled": _plural(
        "Trop d'essais infructueux. Par sécurité, réessayez dans %(num)d minute, "
        "à partir de %(time)s.",
        "Trop d'essais infructueux. Par sécurité, réessayez dans %(num)d minutes, "
        "à partir de %(time)s.",
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
    "activation.tries_rule": _plural(
        "Il vous reste %(num)d essai pour la date de naissance. Après %(max)d dates erronées, "
        "le compte est bloqué par sécurité et seule l'école peut le débloquer.",
        "Il vous reste %(num)d essais pour la date de naissance. Après %(max)d dates erronées, "
        "le compte est bloqué par sécurité et seule l'école peut le débloquer.",
    ),
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
        "Un message part vers %(email)s. Ouvrez le lien qu'il contient "
        "pour confirmer la nouvelle adresse."
    ),
    # Self-help
    "recovery.unavailable": N_(
        "Ce compte ne peut pas changer de mot de passe pour l'instant. Adressez-vous à l'école."
    ),
    # Form fields
    "field.email_missing": N_("Indiquez votre adresse électronique."),
    "field.email_invalid": N_(
        "Cette adresse électronique n'est pas valide (exemple : nom@exemple.fr)."
    ),
    "field.password_missing": N_("Choisissez un mot de passe."),
    "field.password_confirm_missing": N_("Saisissez de nouveau le mot de passe."),
    "field.passwords_differ": N_("Les deux mots de passe ne sont pas identiques."),
    "field.current_password_missing": N_("Saisissez votre mot de passe actuel."),
    "field.identifier_missing": N_("Saisissez votre identifiant."),
    "field.password_missing_login": N_("Saisissez votre mot de passe."),
    "field.birthdate_missing": N_("Indiquez la date de naissance, par exemple 14/02/2016."),
    "field.birthdate_format": N_(
        "Indiquez la date sous la forme JJ/MM/AAAA, par exemple 14/02/2016."
    ),
    "field.birthdate_future": N_("Cette date est dans le futur : vérifiez l'année."),
    "field.birthdate_too_old": N_("Vérifiez l'année : cette date est trop ancienne."),
    # Password policy (CNIL 2022)
    "password.too_short": N_("Le mot de passe doit compter au moins 12 caractères."),
    "password.too_long": N_("Le mot de passe doit compter au plus 128 caractères."),
    "password.too_few_kinds": N_(
        "Mélangez au moins trois sortes de caractères : minuscules, majuscules, chiffres, symboles."
    ),
    "password.personal": N_("Le mot de passe ne doit contenir ni votre identifiant ni votre nom."),
    "password.service_name": N_(
        "Le mot de passe ne doit pas reprendre le nom du service ni son adresse."
    ),
    "password.provisional": N_("Choisissez un mot de passe différent du mot de passe provisoire."),
    "password.common": N_(
        "Ce mot de passe est trop courant ou trop facile à deviner : évitez les mots "
        "usuels, les suites (1234, azerty) et les dates."
    ),
    # Pages of errors
    "error.form_expired": N_(
        "La page a expiré. Rechargez-la, puis envoyez le formulaire de nouveau."
    ),
    "oidc.interaction_expired": N_(
        "Cette demande de connexion a expiré. Retournez sur le téléservice pour recommencer."
    ),
    "oidc.invalid_request": N_(
        "Le téléservice qui vous a envoyé ici a fait une demande de connexion invalide."
    ),
    "oidc.invalid_logout": N_("La demande de déconnexion est invalide."),
    # Mailed links that can't be used
    "link.unknown": N_("Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier."),
    "link.expired": N_("Ce lien a expiré."),
    "link.replaced": N_("Un lien plus récent vous a été envoyé : utilisez le dernier."),
    "link.used": N_("Ce lien a déjà servi."),
    "link.cancelled": N_(
        "Ce lien n'est plus valable : votre compte a changé depuis son envoi "
        "(mot de passe ou adresse). Refaites la demande si besoin."
    ),
    # Portal and logout
    "portal.no_teleservice": N_("Aucun téléservice n'est proposé pour %(name)s pour le moment."),
    "portal.no_child": N_("Aucun enfant n'est rattaché à ce compte. Adressez-vous à l'école."),
    "logout.teleservices": N_("Vous serez aussi déconnecté de ces téléservices :"),
    "logout.no_teleservice": N_("Vous n'êtes connecté à aucun téléservice avec ce compte."),
    # School console
    "console.code_wrong": N_("Code incorrect ou déjà utilisé. Saisissez le code suivant."),
    "console.locked_now": N_(
        "Trop d'essais infructueux : par sécurité, cet accès est bloqué. "
        "Adressez-vous au service qui vous a ouvert l'accès à la console."
    ),
    "console.enrolment_link_invalid": N_(
        "Ce lien d'inscription n'est pas valide, a expiré ou a déjà servi. "
        "Demandez-en un nouveau à la personne qui vous a inscrit."
    ),
    "console.enrolled": N_("Votre accès est prêt. Gardez vos codes de secours en lieu sûr."),
    "console.signed_out": N_("Vous êtes déconnecté de la console."),
    "console.reset_done": N_(
        "Le compte est réinitialisé : l'ancien courrier ne fonctionne plus. "
        "Imprimez le nouveau courrier et remettez-le à la famille."
    ),
    "console.unlocked": N_("Le compte est débloqué."),
    "console.not_locked": N_("Ce compte n'est pas bloqué."),
    "console.activation_resent": N_("Un nouveau lien d'activation est envoyé au parent."),
    "console.activation_not_sent": N_(
        "Le message n'a pas pu être envoyé. Réessayez dans quelques minutes."
    ),
    "console.not_pending": N_("Ce compte n'attend pas de confirmation d'adresse."),
    "console.report_resolved": N_("Le signalement est traité."),
    "console.no_report": N_("Ce compte n'a pas de signalement en cours."),
    "console.import_applied": N_(
        "L'import est fait. Téléchargez les courriers et les identifiants."
    ),
    "console.deputy_invited": N_("Un lien d'inscription est envoyé à votre adjoint."),
    "console.deputy_refused": N_("Cette adresse a déjà un accès à la console."),
    "console.deputy_removed": N_("L'adjoint n'a plus accès à cette école."),
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


class LazyMessage:
    """A message translated when shown (form validators are built before any request)."""

    def __init__(self, message_id: str) -> None:
        self.id = message_id

    def __str__(self) -> str:
        return str(message(self.id))

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __mod__(self, values: Any) -> Message:  # WTForms formats some messages (EqualTo)
        return Message(self.id, str(self) % values)


def lazy_message(message_id: str) -> LazyMessage:
    """For WTForms validators: ``DataRequired(lazy_message("field.email_missing"))``."""
    if message_id not in CATALOGUE:
        raise KeyError(message_id)
    return LazyMessage(message_id)


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
