"""What the demo teleservices share: configuration, OpenID Connect sign-in and sign-out
(RP-initiated and back-channel logout), and error pages. It imports nothing from ``idp/``."""

from .app import build_app
from .auth import current_user, own_child, signed_in, signed_out_notice
from .config import ConfigError, Settings, load_settings

__all__ = [
    "ConfigError",
    "Settings",
    "build_app",
    "current_user",
    "load_settings",
    "own_child",
    "signed_in",
    "signed_out_notice",
]
