"""Request schemas declared once: they validate input and document the API (OpenAPI 3).

A deliberately small subset of JSON Schema (object, string, integer, boolean, array,
enum, min/max, maxLength, pattern, required) so that every rule is checked by our own
code with our own messages, and the same dict is published in /api/v1/openapi.json.
"""
from __future__ import annotations

import re
from typing import Any

from foundation.errors import ValidationFailed

MAX_SAFE_INTEGER = 2**53 - 1


def validate(schema: dict, data: Any, *, partial: bool = False) -> dict:
    """Return the validated object, or raise ValidationFailed listing every bad field.

    `partial` (PATCH) ignores `required`; unknown fields are refused so that typos do not
    pass silently.
    """
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", code="malformed_json")
    errors: dict[str, str] = {}
    properties = schema.get("properties", {})
    for name in data:
        if name not in properties:
            errors[name] = "unknown field"
    if not partial:
        for name in schema.get("required", ()):
            if data.get(name) is None:
                errors[name] = "required"
    clean = {}
    for name, rule in properties.items():
        if name not in data or name in errors:
            continue
        value = data[name]
        if value is None and rule.get("nullable"):
            clean[name] = None
            continue
        problem = _check(rule, value)
        if problem:
            errors[name] = problem
        else:
            clean[name] = value.strip() if isinstance(value, str) and rule.get("trim", True) \
                else value
    if errors:
        raise ValidationFailed("Some fields are missing or wrong.", fields=errors)
    return clean


def _check(rule: dict, value: Any) -> str | None:
    kind = rule.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return "must be a string"
        stripped = value.strip() if rule.get("trim", True) else value
        if len(stripped) < rule.get("minLength", 0):
            return "required" if not stripped else f"at least {rule['minLength']} characters"
        if len(stripped) > rule.get("maxLength", 10_000):
            return f"at most {rule.get('maxLength', 10_000)} characters"
        if "pattern" in rule and not re.fullmatch(rule["pattern"], stripped):
            return rule.get("x-pattern-message", "has the wrong format")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if value < rule.get("minimum", -MAX_SAFE_INTEGER):
            return f"must be at least {rule.get('minimum')}"
        if value > rule.get("maximum", MAX_SAFE_INTEGER):
            return f"must be at most {rule.get('maximum')}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return "must be true or false"
    elif kind == "array":
        if not isinstance(value, list):
            return "must be a list"
        if len(value) > rule.get("maxItems", 1000):
            return f"at most {rule.get('maxItems')} items"
        for item in value:
            problem = _check(rule.get("items", {}), item)
            if problem:
                return f"each item {problem}"
    if "enum" in rule and value not in rule["enum"]:
        return "one of: " + ", ".join(str(v) for v in rule["enum"])
    return None


def query_int(args, name: str, *, minimum: int = 0, maximum: int = MAX_SAFE_INTEGER,
              default: int | None = None) -> int | None:
    """An integer query parameter, or a ValidationFailed that names it."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a whole number.",
                               fields={name: "must be a whole number"}) from None
    if not minimum <= value <= maximum:
        raise ValidationFailed(f"{name} is out of range.",
                               fields={name: f"between {minimum} and {maximum}"})
    return value
