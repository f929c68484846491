"""French and English for the demo teleservices, without a catalogue (a demo keeps it small).

The language: the parent's choice on this site (its switch), else the one the provider says the
parent uses (the ``locale`` claim, kept at sign-in), else the browser's. The sign-in request
passes it on as ``ui_locales``, so that the provider's pages follow.
"""

from __future__ import annotations

from flask import request, session

LANGUAGES = ("fr", "en")

ENGLISH = {
    "Livret scolaire unique": "School report book",
    "démonstration": "demo",
    "Téléservice de démonstration – aucune donnée réelle.": "Demo online service – no real data.",
    "Téléservice de démonstration : consultez le livret scolaire de vos enfants avec votre "
    "compte parent.": "Demo online service: see your children's school report book with your "
    "parent account.",
    "Se connecter avec mon compte parent": "Sign in with my parent account",
    "Bonjour": "Hello",
    "Voici le livret scolaire de vos enfants.": "Here is your children's school report book.",
    "Classe": "Class",
    "non renseignée": "not given",
    "Établissement": "School",
    "non renseigné": "not given",
    "Livret de l'année en cours : aucune évaluation publiée pour l'instant.": (
        "This year's report book: no assessment published yet."
    ),
    "Aucun enfant n'est rattaché à votre compte parent.": (
        "No child is linked to your parent account."
    ),
    "Se déconnecter": "Sign out",
    "Voir le livret de": "See the report book of",
    "Livret de": "Report book of",
    "Tous mes enfants": "All my children",
    "Domaine": "Subject",
    "Positionnement": "Level",
    "Appréciation": "Comment",
    "Appréciation générale :": "General comment:",
    "3e trimestre : pas encore publié.": "3rd term: not published yet.",
    "Vous êtes déconnecté.": "You are signed out.",
    "Page introuvable": "Page not found",
    "Action non autorisée": "Action not allowed",
    "Erreur": "Error",
    "Une erreur est survenue": "Something went wrong",
    "La page demandée n'est pas disponible. Vous pouvez revenir à l'accueil.": (
        "The page you asked for is not available. You can go back to the home page."
    ),
    "Retour à l'accueil": "Back to the home page",
    "Code de l'erreur :": "Error code:",
    "Connexion annulée": "Sign-in cancelled",
    "Vous avez refusé la connexion ou le partage des informations demandées.": (
        "You refused the sign-in or the sharing of the information asked for."
    ),
    "Connexion nécessaire": "Sign-in needed",
    "Vous devez vous connecter à votre compte parent pour continuer.": (
        "You need to sign in to your parent account to continue."
    ),
    "Autorisation nécessaire": "Permission needed",
    "Vous devez autoriser le partage de vos informations avec ce service.": (
        "You need to allow sharing your information with this service."
    ),
    "Vous devez choisir votre compte parent pour continuer.": (
        "You need to choose your parent account to continue."
    ),
    "Service de connexion indisponible": "Sign-in service unavailable",
    "Le service de connexion est momentanément indisponible.": (
        "The sign-in service is unavailable for the moment."
    ),
    "Erreur du service de connexion": "Sign-in service error",
    "Le service de connexion a rencontré un problème.": "The sign-in service ran into a problem.",
    "Connexion refusée": "Sign-in refused",
    "La réponse ne provient pas du service de connexion attendu.": (
        "The answer does not come from the expected sign-in service."
    ),
    "Connexion impossible": "Sign-in failed",
    "La réponse du service de connexion n'a pas pu être vérifiée.": (
        "The sign-in service's answer could not be verified."
    ),
    "La connexion n'a pas pu aboutir.": "The sign-in could not be completed.",
    "Vous pouvez réessayer maintenant. Si le problème persiste, réessayez plus tard.": (
        "You can try again now. If the problem continues, try again later."
    ),
    "Réessayer la connexion": "Try signing in again",
    "Service indisponible": "Service unavailable",
    "Le service de connexion des comptes parents est momentanément indisponible": (
        "The parent account sign-in service is unavailable for the moment"
    ),
    "Nous ne parvenons pas à joindre le service de connexion des comptes parents.": (
        "We cannot reach the parent account sign-in service."
    ),
    "Veuillez réessayer dans quelques minutes.": "Please try again in a few minutes.",
}


def current_language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "fr"


def translate(text: str) -> str:
    """``text`` (French) in the page's language."""
    if current_language() == "en":
        return ENGLISH.get(text, text)
    return text
