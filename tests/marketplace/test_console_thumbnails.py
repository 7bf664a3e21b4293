"""Small copies of listing photos for the console's queues and workspaces: the size asked
for, made once, kept by the browser (privately) and revalidated by ETag, behind the same
sign-in and permission as the full photo."""
import cv2
import numpy as np

from marketplace_core.listings.photos import store
from tests.builders.listings import create_listing, publish_through_api, upload_photo_bytes
from tests.builders.members import register
from tests.builders.photos import jpeg_bytes
from tests.helpers import page_token, sign_in

PHOTO_HEIGHT, PHOTO_WIDTH = 900, 1200


def listed_photo(client, seller: dict, price_paise: int = 450_000) -> tuple[dict, int]:
    """A listing published with one 1200x900 photo: (listing, photo id)."""
    listing = create_listing(client, seller, price_paise=price_paise)
    upload = upload_photo_bytes(client, seller, listing["id"],
                                jpeg_bytes(31, size=(PHOTO_HEIGHT, PHOTO_WIDTH)))
    assert upload.status_code == 201, upload.json
    published = publish_through_api(client, seller, listing["id"])
    return published, published["photos"][0]["id"]


def decoded_shape(data: bytes) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image.shape[:2]


def as_staff(client, staff, role: str = "authenticator") -> None:
    _, email, password = staff(role)
    assert sign_in(client, email, password).status_code == 302


def test_a_thumbnail_has_the_asked_long_side_and_is_made_once(client, staff):
    _, photo_id = listed_photo(client, register(client))
    as_staff(client, staff)
    full = client.get(f"/console/listings/photo/{photo_id}")
    for size, expected in (("320", (240, 320)), ("640", (480, 640))):
        response = client.get(f"/console/listings/photo/{photo_id}/{size}")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert decoded_shape(response.data) == expected
        assert len(response.data) < len(full.data)
    thumbnails = list((store().root / "thumbnails").rglob("*.jpg"))
    assert sorted(path.parent.parent.parent.name for path in thumbnails) == ["320", "640"]
    kept = thumbnails[0].stat().st_mtime_ns
    assert client.get(f"/console/listings/photo/{photo_id}/320").status_code == 200
    assert client.get(f"/console/listings/photo/{photo_id}/640").status_code == 200
    assert thumbnails[0].stat().st_mtime_ns == kept  # served from the kept copy


def test_a_small_photo_is_served_as_stored_never_enlarged(client, staff):
    seller = register(client)
    listing = create_listing(client, seller)
    assert upload_photo_bytes(client, seller, listing["id"],
                              jpeg_bytes(5, size=(300, 400))).status_code == 201
    photo_id = publish_through_api(client, seller, listing["id"])["photos"][0]["id"]
    as_staff(client, staff)
    response = client.get(f"/console/listings/photo/{photo_id}/640")
    assert response.status_code == 200 and decoded_shape(response.data) == (300, 400)
    assert response.data == client.get(f"/console/listings/photo/{photo_id}").data
    assert not (store().root / "thumbnails").exists()


def test_the_browser_keeps_it_privately_and_revalidates_with_the_etag(client, staff):
    _, photo_id = listed_photo(client, register(client))
    as_staff(client, staff)
    url = f"/console/listings/photo/{photo_id}/320"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    cache = first.headers["Cache-Control"]
    assert "private" in cache and "max-age=86400" in cache
    assert "public" not in cache and "no-store" not in cache
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other_size = client.get(f"/console/listings/photo/{photo_id}/640",
                            headers={"If-None-Match": etag})
    assert other_size.status_code == 200 and other_size.headers["ETag"] != etag
    # Console pages themselves are still never kept.
    assert client.get("/console/").headers["Cache-Control"] == "no-store"


def test_a_size_not_offered_is_a_json_400(client, staff):
    _, photo_id = listed_photo(client, register(client))
    as_staff(client, staff)
    for size in ("100", "1024", "big", "320.0"):
        response = client.get(f"/console/listings/photo/{photo_id}/{size}")
        assert response.status_code == 400
        assert response.json["error"]["code"] == "invalid_thumbnail_size"
        assert "320 or 640" in response.json["error"]["message"]
        assert response.headers["Cache-Control"] == "no-store"


def test_an_unknown_photo_is_404(client, staff):
    as_staff(client, staff)
    assert client.get("/console/listings/photo/999999/320").status_code == 404


def test_a_photo_hidden_by_authentication_stays_hidden(client, staff):
    seller, stranger = register(client), register(client)
    hidden, photo_id = listed_photo(client, seller, price_paise=5_000_000)
    assert hidden["status"] == "pending_authentication"
    url = f"/console/listings/photo/{photo_id}/320"
    public = client.get(f"/api/v1/listings/{hidden['id']}/photos/{photo_id}",
                        headers=stranger["headers"])
    assert public.status_code == 404  # buyers never see it
    for headers in ({}, stranger["headers"]):
        response = client.get(url, headers=headers)
        assert response.status_code == 302 and "sign-in" in response.headers["Location"]
    assert not (store().root / "thumbnails").exists()  # nothing was made for them
    as_staff(client, staff, "senior_authenticator")
    assert client.get(url).status_code == 200


def test_the_queue_and_workspace_show_thumbnails(client, staff):
    seller = register(client)
    listing, photo_id = listed_photo(client, seller, price_paise=5_000_000)
    as_staff(client, staff)
    queue = client.get("/console/authentication/").get_data(as_text=True)
    assert f'src="/console/listings/photo/{photo_id}/320"' in queue
    claim = client.post("/console/authentication/claim", data={
        "queue": "review", "csrf_token": page_token(client, "/console/authentication/")})
    workspace = client.get(claim.headers["Location"]).get_data(as_text=True)
    assert f'src="/console/listings/photo/{photo_id}/640"' in workspace
    assert f'href="/console/listings/photo/{photo_id}" target="_blank"' in workspace
    assert listing["status"] == "pending_authentication"

