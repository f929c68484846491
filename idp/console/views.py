"""Every view of the console, registered on one blueprint (`create_app` registers `bp`)."""

from idp.console import views_auth, views_families, views_school  # noqa: F401
from idp.console.blueprint import bp

__all__ = ["bp"]
