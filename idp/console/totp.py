"""The second factor: TOTP (RFC 6238, 6 digits, 30 s) with pyotp, and ten recovery codes.

A code is accepted once: the time step it belongs to is written with a conditional update
(`totp_last_step < step`), so a replayed code, or any older one, is refused, even by two
requests at once. A step either side of now is accepted (RFC 6238 §5.2: a small clock drift).
"""

from __future__ import annotations

import hmac
import io
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, update

from idp.extensions import db
from idp.models import RecoveryCode, Staff
from idp.models.base import utcnow
from idp.passwords import UNAMBIGUOUS, secret_hash

ISSUER_NAME = "Console école"
DRIFT_STEPS = 1
RECOVERY_CODES = 10
ALPHABET = "".join(c for c in UNAMBIGUOUS if not c.isupper())  # lower case: read aloud well


def provisioning_uri(staff: Staff) -> str:
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.email, issuer_name=ISSUER_NAME)


def qr_svg(staff: Staff) -> str:
    """The QR code of the authenticator's URI as inline SVG (the CSP allows no data: image)."""
    out = io.BytesIO()
    segno.make(provisioning_uri(staff), error="m").save(
        out, kind="svg", scale=5, xmldecl=False, svgns=True, title="QR code", nl=False
    )
    return out.getvalue().decode("utf-8")


def grouped_secret(staff: Staff) -> str:
    """The base32 secret in groups of four, easier to type into an authenticator."""
    secret = staff.totp_secret or ""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, at: float) -> int | None:
    totp = pyotp.TOTP(secret)
    now_step = int(at) // totp.interval
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_code(staff: Staff, code: str, at: float | None = None) -> bool:
    """Whether the code is right and not used before; spends it. The caller commits."""
    code = "".join(code.split())
    if not staff.totp_secret or len(code) != 6 or not code.isdigit():
        return False
    step = _matching_step(staff.totp_secret, code, time.time() if at is None else at)
    if step is None:
        return False
    spent = db.session.execute(
        update(Staff)
        .where(Staff.id == staff.id, Staff.totp_last_step < step)
        .values(totp_last_step=step)
    )
    return spent.rowcount == 1


def new_recovery_codes(staff: Staff) -> list[str]:
    """Ten fresh codes (the older ones die); only their keyed hashes are kept. Caller commits."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.add_all(
        RecoveryCode(staff_id=staff.id, code_hash=secret_hash(_normal(c))) for c in codes
    )
    return codes


def _normal(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def use_recovery_code(staff: Staff, code: str) -> bool:
    """A recovery code instead of a TOTP code: right and unused; spends it. Caller commits."""
    normal = _normal(code)
    if len(normal) != 10:
        return False
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.staff_id == staff.id, RecoveryCode.code_hash == secret_hash(normal))
        .where(RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return spent.rowcount == 1


def check_second_factor(staff: Staff, code: str) -> str | None:
    """'totp' or 'recovery_code' when the code is accepted (and spent), None when refused."""
    if check_code(staff, code):
        return "totp"
    if use_recovery_code(staff, code):
        return "recovery_code"
    return None
