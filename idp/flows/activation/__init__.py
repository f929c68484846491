"""The mandatory first-login activation: email, new password, a child's birth date, mailed link."""

from idp.flows.activation.views import bp

__all__ = ["bp"]
