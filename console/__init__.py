"""The staff web console and the HTTP entry points of the whole product.

`create_app(config)` builds the Flask application: configuration, database,
Redis and jobs, the request unit of work, security headers, CSRF, the staff
sign-in, the Flask-Admin console at /console and the JSON APIs under /api/v1.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import disputes.views  # noqa: F401  (its member routes join the /api/v1 blueprint)
import marketplace_core.media  # noqa: F401  first: caps OpenCV's decoder before any cv2 import
import trust.recommender.views  # noqa: F401  (its member routes join the /api/v1 blueprint)
from authentication.api import bp as authentication_api_bp
from console import cli, composition, errors, health, request_cycle, security
from console.admin import init_admin
from console.auth_views import bp as auth_bp
from console.staff_api import bp as staff_api_bp
from disputes.staff_api import bp as disputes_api_bp
from foundation import db, jobs, redis_conn
from foundation.config import Settings, install
from foundation.model_registry import load_all_models
from marketplace_core.api import build_blueprint as marketplace_api
from trust.recommender.staff_api import bp as trust_feed_api_bp
from trust.signals.staff_api import bp as trust_api_bp
from vision.modelops.staff_api import bp as vision_models_api_bp


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    settings = install(_settings_from(config))
    app = Flask(__name__, instance_path=settings.INSTANCE_PATH)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.SECRET_KEY,
        SESSION_COOKIE_NAME="console_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        MAX_CONTENT_LENGTH=settings.MAX_UPLOAD_BYTES + 64 * 1024,  # room for form fields
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session, which expires on its own
        TESTING=settings.APP_ENV == "test",
    )
    _configure_logging()
    load_all_models()
    db.configure(settings.DATABASE_URL)
    redis_url = settings.REDIS_URL or redis_conn.embedded_url(settings.INSTANCE_PATH)
    app.extensions["redis"] = redis_conn.client(redis_url)
    jobs.init(app.extensions["redis"], settings.JOB_TIMEOUT_SECONDS,
              blocking_connection=redis_conn.client(redis_url, blocking=True))
    composition.wire()

    request_cycle.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_api_bp)
    security.csrf.exempt(authentication_api_bp)
    app.register_blueprint(authentication_api_bp)
    security.csrf.exempt(disputes_api_bp)
    app.register_blueprint(disputes_api_bp)
    security.csrf.exempt(vision_models_api_bp)
    app.register_blueprint(vision_models_api_bp)
    security.csrf.exempt(trust_api_bp)
    app.register_blueprint(trust_api_bp)
    security.csrf.exempt(trust_feed_api_bp)
    app.register_blueprint(trust_feed_api_bp)
    public_api = marketplace_api()
    security.csrf.exempt(public_api)  # bearer tokens only, no cookies: no CSRF surface
    app.register_blueprint(public_api)
    init_admin(app)
    cli.init_app(app)
    if settings.TRUSTED_PROXIES:
        # The client's address (rate limits, the audit trail) and scheme as the trusted
        # proxies saw them; any further X-Forwarded-For entries are the client's own claims.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.TRUSTED_PROXIES,  # type: ignore[method-assign]
                                x_proto=settings.TRUSTED_PROXIES)
    return app


def _settings_from(config: Settings | Mapping[str, Any] | None) -> Settings:
    if isinstance(config, Settings):
        return config
    return Settings.from_env(**dict(config or {}))


class _JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = jobs.current_job_id.get()
        return True


def _configure_logging() -> None:
    root = logging.getLogger()
    if any(getattr(h, "_console_handler", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._console_handler = True  # type: ignore[attr-defined]
    handler.addFilter(_JobIdFilter())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [job %(job_id)s] %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
