"""Liveness for supervisors and load balancers: does this process reach its database and
its Redis?  Public and read-only; it names no server, so it tells an outsider nothing."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from foundation import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    checks = {
        "database": _check("database", lambda: db.session().execute(text("SELECT 1"))),
        "redis": _check("redis", lambda: current_app.extensions["redis"].ping()),
    }
    healthy = all(state == "ok" for state in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), \
        200 if healthy else 503


def _check(name: str, probe: Callable[[], object]) -> str:
    try:
        probe()
    except Exception:  # noqa: BLE001 - any failure means "not healthy", logged for operators
        log.exception("health check: %s unavailable", name)
        return "unavailable"
    return "ok"
