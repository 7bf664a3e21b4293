"""Errors: JSON under /api/, a plain page in the console; never a stack trace."""
from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from foundation import web
from foundation.errors import DomainError

PAGE_TEXT = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your role does not allow this page or action."),
    404: ("Not found", "There is nothing here."),
    405: ("Not allowed", "That method is not allowed here."),
    413: ("Too large", "The upload is larger than the console accepts."),
    429: ("Slow down", "Too many requests; wait a minute."),
    500: ("Something went wrong", "The error was logged; try again."),
}


def init_app(app: Flask) -> None:
    web.register_json_errors(app)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _page(status: int, message: str | None = None):
    title, default = PAGE_TEXT.get(status, ("Error", "Something went wrong."))
    return render_template("console/error.html", title=title,
                           message=message or default), status


def _csrf_error(exc: CSRFError):
    if web.is_api_request():
        return web.error_response(400, "csrf_failed", exc.description)
    return _page(400, "The form was missing its security token or it expired. "
                      "Nothing was changed; reload the page and try again.")


def _http_error(exc: HTTPException):
    if web.is_api_request():
        return web.handle_http_error(exc)
    return _page(exc.code or 500)


def _unexpected(exc: Exception):
    if isinstance(exc, DomainError):  # raised outside an API blueprint
        if web.is_api_request():
            return web.handle_domain_error(exc)
        return _page(exc.status, exc.message)
    if web.is_api_request():
        return web.handle_unexpected(exc)
    request_info = f"{request.method} {request.path}"
    current_app.logger.exception("unhandled error on %s", request_info)
    return _page(500)
