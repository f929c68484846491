"""The database tables. Import from here: ``from idp.models import Account, Client``."""

from idp.models.accounts import Account, Child, Link, School
from idp.models.audit import AuditEvent
from idp.models.disclosures import Disclosure
from idp.models.flows import Flow
from idp.models.oauth import AuthorizationCode, Client, InitialAccessToken, Token
from idp.models.outbox import OutboxItem
from idp.models.sessions import Interaction, LoginSession
from idp.models.staff import RecoveryCode, Staff, StaffDownload, StaffSchool, StaffSession

__all__ = [
    "Account",
    "AuditEvent",
    "AuthorizationCode",
    "Child",
    "Client",
    "Disclosure",
    "Flow",
    "InitialAccessToken",
    "Interaction",
    "Link",
    "LoginSession",
    "OutboxItem",
    "RecoveryCode",
    "School",
    "Staff",
    "StaffDownload",
    "StaffSchool",
    "StaffSession",
    "Token",
]
