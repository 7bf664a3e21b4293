"""Every documented endpoint, fed hostile input by a signed-in member: never a 5xx, always
the JSON error shape.  The endpoint list comes from the OpenAPI document itself, so a new
endpoint is covered the day it is added."""
import re

import pytest

from tests.builders.listings import live_listing
from tests.builders.members import register

GARBAGE_BODIES = [
    {"data": "{not json", "content_type": "application/json"},
    {"json": []},
    {"json": "a string"},
    {"json": {"amount_paise": -1, "price_paise": "x", "listing_id": 10**30, "stars": 99,
              "to": {"nested": True}, "photo_ids": "1,2", "reason": "x" * 10_000,
              "payment_method": ["test_card_ok"], "idempotency_key": None}},
    {"json": {"unexpected_field": True}},
    {"data": b"\xff\xfe\x00garbage", "content_type": "application/octet-stream"},
]
PATH_VALUES = ["1", "999999999", "0"]


def documented_operations(client):
    doc = client.get("/api/v1/openapi.json").json
    for path, operations in doc["paths"].items():
        for method in operations:
            yield path, method


def concrete(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def assert_json_error_or_success(response, label):
    assert response.status_code < 500, (label, response.status_code, response.data[:300])
    if response.status_code >= 400 and response.is_json:
        error = response.json["error"]
        assert error["code"] and error["message"] and isinstance(error["fields"], dict), label


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_endpoint_answers_5xx_to_hostile_input(client, signed_in):
    seller = register(client)
    live_listing(client, seller)
    headers = register(client)["headers"] if signed_in else {}
    operations = list(documented_operations(client))
    assert len(operations) >= 50  # the whole public API, not a sample
    for path, method in operations:
        if path == "/api/v1/carrier/webhook":
            continue  # signed by the carrier; its refusals have their own tests
        for value in PATH_VALUES:
            url = concrete(path, value)
            call = getattr(client, method)
            if method in ("get", "delete"):
                response = call(url, headers=headers, query_string={
                    "limit": "-5", "cursor": "%%%", "min_price_paise": "1e9", "role": "god"})
                assert_json_error_or_success(response, (method, url))
                continue
            for body in GARBAGE_BODIES:
                response = call(url, headers=headers, **body)
                assert_json_error_or_success(response, (method, url, str(body)[:60]))


def test_unknown_api_paths_and_methods_answer_json(client):
    for method, path in (("get", "/api/v1/nope"), ("post", "/api/v1/listings/1/nope"),
                         ("patch", "/api/v1/openapi.json")):
        response = getattr(client, method)(path)
        assert response.status_code in (404, 405)
        assert response.json["error"]["code"] in ("not_found", "method_not_allowed")
