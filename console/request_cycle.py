"""One unit of work per request: commit when the answer is a success, else roll back."""
from __future__ import annotations

import uuid

from flask import Flask, Response, g, request

from foundation import db
from foundation.audit import services as audit


def init_app(app: Flask) -> None:
    app.before_request(_open)
    app.after_request(_finish)
    app.teardown_request(_close)


def _open() -> None:
    g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
    g.audit_token = audit.context.set(audit.AuditContext(
        ip=request.remote_addr, user_agent=request.headers.get("User-Agent"),
        request_id=g.request_id))


def _finish(response: Response) -> Response:
    s = db.session()
    if response.status_code < 400:
        s.commit()
    else:
        s.rollback()
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


def _close(exc: BaseException | None) -> None:
    if exc is not None:
        db.session().rollback()
    db.session.remove()
    token = g.pop("audit_token", None)
    if token is not None:
        try:
            audit.context.reset(token)
        except ValueError:  # set in another context (a streamed response); harmless
            pass
