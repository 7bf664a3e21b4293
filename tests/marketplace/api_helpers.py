"""Helpers for driving the public API as a member would."""
from __future__ import annotations

import io
import itertools

import cv2
import numpy as np

_counter = itertools.count(1)
PASSWORD = "member-password-1"


def register(client, username: str | None = None) -> dict:
    username = username or f"member{next(_counter)}"
    response = client.post("/api/v1/auth/register", json={
        "email": f"{username}@example.in", "username": username, "password": PASSWORD})
    assert response.status_code == 201, response.json
    body = response.json
    return {"id": body["user"]["id"], "username": username,
            "headers": {"Authorization": f"Bearer {body['token']}"}}


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (480, 640)) -> bytes:
    """A real photo-like JPEG: gradients and shapes, different for every seed."""
    rng = np.random.default_rng(seed)
    height, width = size
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = rng.integers(120, 230, 3)
    for _ in range(6):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(image, centre, int(rng.integers(20, 120)), colour, -1)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buffer.tobytes()


def listing_body(**overrides) -> dict:
    body = {"title": "Banarasi silk saree, emerald", "description": "Worn once at a wedding.",
            "brand": "Kalinga Loom", "category": "sarees", "size": "Free size",
            "condition": "like_new", "colour": "green", "price_paise": 450_000,
            "original_price_paise": 1_200_000}
    body.update(overrides)
    return body


def create_listing(client, seller: dict, **overrides) -> dict:
    response = client.post("/api/v1/listings", json=listing_body(**overrides),
                           headers=seller["headers"])
    assert response.status_code == 201, response.json
    return response.json


def upload_photo(client, seller: dict, listing_id: int, seed: int = 0):
    return client.post(f"/api/v1/listings/{listing_id}/photos", headers=seller["headers"],
                       data={"photo": (io.BytesIO(jpeg_bytes(seed)), "photo.jpg",
                                       "image/jpeg")},
                       content_type="multipart/form-data")


def live_listing(client, seller: dict, seed: int = 0, **overrides) -> dict:
    listing = create_listing(client, seller, **overrides)
    assert upload_photo(client, seller, listing["id"], seed).status_code == 201
    response = client.post(f"/api/v1/listings/{listing['id']}/publish",
                           headers=seller["headers"])
    assert response.status_code == 200, response.json
    return response.json


def search_ids(client, **params) -> list[int]:
    response = client.get("/api/v1/listings", query_string=params)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]
