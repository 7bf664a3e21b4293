"""/api/v1/openapi.json, built from the routes' own declarations and request schemas."""
from __future__ import annotations

import re

from flask import jsonify

from marketplace_core.api import ENDPOINTS, api_route

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "required": ["code", "message", "fields"],
                             "properties": {"code": {"type": "string"},
                                            "message": {"type": "string"},
                                            "fields": {"type": "object"}}}},
}


def document() -> dict:
    paths: dict[str, dict] = {}
    for endpoint in ENDPOINTS:
        path = "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", endpoint.rule)
        paths.setdefault(path, {})[endpoint.method] = _operation(endpoint)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Posh marketplace API", "version": "1",
                 "description": "Money is integer paise (Rs 1 = 100 paise). Errors are "
                                "{\"error\": {\"code\", \"message\", \"fields\"}}."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }


def _operation(endpoint) -> dict:
    operation: dict = {"summary": endpoint.summary, "tags": [endpoint.tag],
                       "operationId": f"{endpoint.method}_{endpoint.rule}",
                       "parameters": _path_parameters(endpoint.rule) + [
                           {**q, "in": "query", "required": False} for q in endpoint.query]}
    if endpoint.auth == "member":
        operation["security"] = [{"bearer": []}]
    elif endpoint.auth == "optional":
        operation["security"] = [{"bearer": []}, {}]
    if endpoint.body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _public_schema(endpoint.body)}}}
    if endpoint.multipart:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": list(endpoint.multipart),
                       "properties": {name: {"type": "string", "format": "binary",
                                             "description": text}
                                      for name, text in endpoint.multipart.items()}}}}}
    responses = {str(code): {"description": text}
                 for code, text in (endpoint.responses or {200: "OK"}).items()}
    responses.setdefault("4XX", {"description": "error", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    operation["responses"] = responses
    return operation


def _path_parameters(rule: str) -> list[dict]:
    parameters = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        parameters.append({"name": name, "in": "path", "required": True,
                           "schema": {"type": "integer" if converter == "int" else "string"}})
    return parameters


def _public_schema(schema: dict) -> dict:
    """Our schema dicts minus the keys that only our validator reads."""
    if isinstance(schema, dict):
        return {k: _public_schema(v) for k, v in schema.items()
                if k not in ("trim", "x-pattern-message")}
    if isinstance(schema, list):
        return [_public_schema(v) for v in schema]
    return schema


@api_route("/openapi.json", "GET", summary="This document", tag="Meta", auth="none")
def openapi_json():
    return jsonify(document())
