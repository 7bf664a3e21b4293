"""Hypothesis fuzzing of what outsiders send: structured mutations of real JPEG, PNG and
WebP files through the image intake, and arbitrary JSON bodies to every JSON route that
takes one. Nothing but the documented errors may come out: ImageRejected with one of its
codes, and 4xx answers in the API's error shape; never another exception, never a 5xx."""
from __future__ import annotations

import json
from functools import cache

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace_core.media import synthetic
from marketplace_core.media.errors import ImageRejected, RejectionCode
from marketplace_core.media.intake import inspect_and_normalise
from tests.builders.members import headers_for, make_member

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@cache
def seed_files() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    return {"jpeg": synthetic.jpeg(rng, 96, 80), "png": synthetic.png(rng, 96, 80),
            "webp": synthetic.encode(synthetic.photo(rng, 96, 80), "WEBP", quality=80)}


@st.composite
def mutated_image(draw) -> bytes:
    data = bytearray(seed_files()[draw(st.sampled_from(["jpeg", "png", "webp"]))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "header",
                                     "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "header":  # dimensions and chunk lengths live in the first bytes
            spot = draw(st.integers(0, min(len(data), 64)))
            data[spot:spot + 4] = draw(st.binary(min_size=4, max_size=4))
        elif kind == "repeat":
            data += data[at:at + draw(st.integers(1, 256))]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(mutated_image(), st.sampled_from([None, "image/jpeg", "image/png", "image/webp"]))
def test_mutated_images_are_accepted_or_refused_with_a_documented_code(data, content_type):
    try:
        image = inspect_and_normalise(data, declared_content_type=content_type)
    except ImageRejected as refused:
        assert refused.rejection in RejectionCode
        assert refused.status in (413, 422)
    else:
        assert image.data.startswith(b"\xff\xd8") and image.width > 0 and image.height > 0


def json_routes(app):
    """(method, rule) of every API route that changes state and reads a body."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and "<" not in rule.rule:
            for method in sorted(rule.methods & STATE_CHANGING):
                yield method, rule.rule


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
json_bodies = st.one_of(
    st.dictionaries(st.sampled_from(["email", "password", "username", "title", "price_paise",
                                     "amount_paise", "listing_id", "body", "totp", "queue",
                                     "category", "size", "items", "weights"]),
                    json_values, max_size=6),
    json_values)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_json_bodies_get_a_4xx_in_the_error_shape_never_a_5xx(app, data):
    routes = sorted(json_routes(app))
    member_headers = _member_headers(app)
    method, path = data.draw(st.sampled_from(routes))
    body = data.draw(json_bodies)
    raw = json.dumps(body) if data.draw(st.booleans()) else data.draw(st.text(max_size=40))
    response = app.test_client().open(path, method=method, data=raw,
                                      content_type="application/json",
                                      headers=member_headers)
    assert response.status_code < 500, (method, path, raw, response.get_data(as_text=True))
    if response.status_code >= 400:
        error = response.get_json()["error"]
        assert set(error) >= {"code", "message"}


def _member_headers(app) -> dict[str, str]:
    """One member for all the examples of a run (they share the app and its database)."""
    if "fuzz_member_headers" not in app.extensions:
        app.extensions["fuzz_member_headers"] = headers_for(make_member("fuzzer"))
    return app.extensions["fuzz_member_headers"]
