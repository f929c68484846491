"""What a flow's service function returns to its view, and how its field errors reach the form.

``Result.outcome`` is a short string the view picks a page by (each service lists its own);
``errors`` maps form field names to messages (``idp.messages``), shown beside those fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_wtf import FlaskForm

from idp.models import Account


@dataclass
class Result:
    outcome: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    mail_sent: bool = True  # the step's mail is queued in the outbox (idp.outbox): it will leave
    account: Account | None = None


def show_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    """Add the service's field errors to the form's own, beside each field."""
    for name, messages in errors.items():
        getattr(form, name).errors = [*getattr(form, name).errors, *messages]
