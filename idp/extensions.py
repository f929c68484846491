"""The Flask extensions, created unbound; create_app() binds them to an application."""

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints, so that Alembic migrations name them the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DecoratorLimiter(Limiter):
    """Flask-Limiter, for limits set only as decorators on views (each one checked by its
    decorator). Flask-Limiter also checks application-wide and default limits before every
    request; the provider sets none, and that pass cost ~0.08 ms on every request, token and
    userinfo included, so it is not registered. Setting such limits is refused, never ignored."""

    def init_app(self, app: Flask) -> None:
        for key in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META"):
            if app.config.get(key):
                raise RuntimeError(f"{key}: the provider's limits are set on each view")
        super().init_app(app)
        hooks = app.before_request_funcs.get(None, [])
        if self._check_request_limit in hooks:  # not registered when limits are disabled
            hooks.remove(self._check_request_limit)


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = DecoratorLimiter(key_func=get_remote_address)
