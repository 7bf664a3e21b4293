"""HTTP helpers shared by every JSON API: errors as JSON, body parsing, bearer tokens.

Views use these; services never do (they raise `foundation.errors.DomainError`).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from foundation.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def handle_domain_error(exc: DomainError):
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def handle_http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)


def handle_integrity_error(exc: IntegrityError):
    log.info("integrity error answered as 409: %s", exc.orig)
    return error_response(409, "conflict", "That conflicts with existing data.")


def handle_stale(exc: StaleDataError):
    return error_response(409, "stale", "Someone changed this at the same time; reload and "
                                        "try again.")


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def register_json_errors(target: Blueprint | Flask) -> None:
    target.register_error_handler(DomainError, handle_domain_error)
    target.register_error_handler(IntegrityError, handle_integrity_error)
    target.register_error_handler(StaleDataError, handle_stale)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400/415 error that says what is wrong."""
    if not request.is_json:
        raise DomainError("Send a JSON object with Content-Type: application/json.",
                          code="unsupported_media_type")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("The body must be a JSON object.", code="malformed_json")
    return data


def optional_json_body() -> dict[str, Any]:
    """json_body for actions whose body is optional: no body at all reads as {}."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def require_str(data: dict, name: str, *, max_length: int = 1000,
                required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"{name} is required.", fields={name: "required"})
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string.", fields={name: "must be a string"})
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is too long.",
                               fields={name: f"at most {max_length} characters"})
    return value


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
