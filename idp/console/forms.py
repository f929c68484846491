"""The console's forms (Flask-WTF: every one carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from idp.flows.fields import email_field, new_password_confirm_field, new_password_field


class SignInForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Saisissez votre mot de passe.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(FlaskForm):
    totp = StringField(
        _l("Code à 6 chiffres"),
        validators=[
            DataRequired(_l("Saisissez le code affiché par votre application.")),
            Length(max=32),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class PasswordForm(FlaskForm):
    new_password = new_password_field()
    new_password_confirm = new_password_confirm_field()


class ConfirmForm(FlaskForm):
    """One press of a button: the action asked for confirmation."""


class ReportForm(FlaskForm):
    decision = RadioField(
        _l("Décision"),
        choices=[
            SelectChoice(
                "confirmed",
                _l(
                    "Confirmé : ce parent n'est pas le représentant légal, "
                    "le lien avec l'enfant est retiré"
                ),
            ),
            SelectChoice(
                "restored", _l("Erreur : le lien est rétabli, le parent reprend son activation")
            ),
        ],
        validators=[DataRequired(_l("Choisissez une décision."))],
    )


class UploadForm(FlaskForm):
    export = FileField(
        _l("Fichier exporté (CSV)"),
        validators=[FileRequired(_l("Choisissez le fichier à importer."))],
    )


class ApplyForm(FlaskForm):
    name = HiddenField()
    content = HiddenField()


class DeputyForm(FlaskForm):
    email = email_field()
    given_name = StringField(
        _l("Prénom"), validators=[DataRequired(_l("Indiquez le prénom.")), Length(max=128)]
    )
    family_name = StringField(
        _l("Nom"), validators=[DataRequired(_l("Indiquez le nom.")), Length(max=128)]
    )
    school = RadioField(_l("École"), validators=[DataRequired(_l("Choisissez l'école."))])
