"""The activation page's forms (field names per docs/contract.md §4)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired

from idp.flows.fields import email_field, new_password_confirm_field, new_password_field
from idp.messages import lazy_message


class BirthdateField(DateField):
    """`YYYY-MM-DD` (what a date picker sends) or `JJ/MM/AAAA` (what people type)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata([value.strip() for value in valuelist])
        except ValueError:
            raise ValueError(lazy_message("field.birthdate_format")) from None


class ActivationForm(FlaskForm):
    email = email_field()
    new_password = new_password_field()
    new_password_confirm = new_password_confirm_field()
    child_birthdate = BirthdateField(
        _l("Date de naissance de l'enfant"),
        format=["%Y-%m-%d", "%d/%m/%Y"],
        validators=[InputRequired(lazy_message("field.birthdate_missing"))],
        render_kw={"autocomplete": "off"},
    )


class EmailForm(FlaskForm):
    """Correct the address while the confirmation mail is awaited."""

    email = email_field()


class ConfirmForm(FlaskForm):
    """A button with only a CSRF token: resend the mail, report the wrong child."""
