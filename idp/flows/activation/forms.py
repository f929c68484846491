"""The activation page's forms (field names per docs/contract.md §4)."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired

from idp.flows.fields import email_field, new_password_confirm_field, new_password_field
from idp.messages import lazy_message

# What people type: 14/02/2016, 14-02-2016, 14.02.2016, 14 02 2016, 14022016 (day first), or
# 2016-02-14, 20160214 (year first, what a date picker or a phone's autofill sends).
DAY_FIRST = re.compile(r"(\d{1,2})[/.\- ]?(\d{1,2})[/.\- ]?(\d{4})")
YEAR_FIRST = re.compile(r"(\d{4})[/.\- ]?(\d{1,2})[/.\- ]?(\d{1,2})")
OLDEST = 1900


def parse_birthdate(typed: str) -> date | None:
    """The date ``typed`` means, or None when it is no date (31/02, 2016-13-01, "hier").

    Without separators only the 8-digit forms are read (``14022016``, ``20160214``): shorter
    runs of digits are ambiguous.
    """
    text = typed.strip()
    digits_only = text.isdigit()
    if digits_only and len(text) != 8:
        return None
    for pattern, order in ((YEAR_FIRST, (0, 1, 2)), (DAY_FIRST, (2, 1, 0))):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        year, month, day = (int(match.group(i + 1)) for i in order)
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


class BirthdateField(StringField):
    """One text field (never a date picker, whose day/month order follows the browser's
    locale). A date that can't be a birth date is a form error: it never costs a try."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if not self.raw.strip():
            return
        parsed = parse_birthdate(self.raw)
        if parsed is None:
            raise ValueError(lazy_message("field.birthdate_format"))
        if parsed > date.today():
            raise ValueError(lazy_message("field.birthdate_future"))
        if parsed.year < OLDEST:
            raise ValueError(lazy_message("field.birthdate_too_old"))
        self.data = parsed

    def _value(self) -> str:
        return self.raw if getattr(self, "raw", None) else ""


class ActivationForm(FlaskForm):
    email = email_field()
    new_password = new_password_field()
    new_password_confirm = new_password_confirm_field()
    child_birthdate = BirthdateField(
        _l("Date de naissance de l'enfant"),
        validators=[InputRequired(lazy_message("field.birthdate_missing"))],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "maxlength": "20"},
    )


class EmailForm(FlaskForm):
    """Correct the address while the confirmation mail is awaited."""

    email = email_field()


class ConfirmForm(FlaskForm):
    """A button with only a CSRF token: resend the mail, report the wrong child."""
