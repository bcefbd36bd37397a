"""The application factory: the web pages and the OpenRosa server of one settings object."""

from __future__ import annotations

from flask import Flask

from .config import Settings
from .db import Database, close_request_session
from .storage import BlobStore


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: one app per settings object."""
    settings = settings or Settings.from_env()
    # Named after the package; no /static route: the web blueprint serves the only static files, at /assets.
    app = Flask("formserver", static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.extensions["formserver.settings"] = settings
    app.extensions["formserver.db"] = Database(settings)
    app.extensions["formserver.blobs"] = BlobStore(settings.blob_dir)
    app.teardown_appcontext(close_request_session)

    from .web import init_app as init_web

    init_web(app)  # the web pages: sign-in, CSRF, idle sessions, security headers

    from .openrosa import blueprint as openrosa_blueprint

    app.register_blueprint(openrosa_blueprint)

    from .api import init_app as init_api

    init_api(app)  # the REST API and OData feed under /v1, shaped as ODK Central's
    if settings.behind_proxy:
        # Trust X-Forwarded-Proto/-Host (and -For) from the one TLS proxy in front, and only then:
        # absolute URLs given to phones are built from them.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
    return app
