"""Staff API tokens follow the TOTP policy, and secrets never reach a settings object's text
form or the logs."""
from __future__ import annotations

import dataclasses
import logging

from console import create_app
from foundation.config import Settings
from tests.builders.staff import bearer_headers
from tests.helpers import sign_in

DB_PASSWORD = "hunter2-db-password"


def test_a_token_issued_before_totp_became_required_stops_working(settings, staff):
    relaxed = create_app(dataclasses.replace(settings, STAFF_REQUIRE_TOTP=False))
    _, email, password = staff("admin")
    headers = bearer_headers(relaxed.test_client(), email, password)
    assert relaxed.test_client().get("/api/v1/staff/me", headers=headers).status_code == 200
    strict = create_app(dataclasses.replace(settings, STAFF_REQUIRE_TOTP=True))
    response = strict.test_client().get("/api/v1/staff/me", headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "totp_enrollment_required"
    queue = strict.test_client().get("/api/v1/staff/disputes/queue", headers=headers)
    assert queue.status_code == 403


def test_the_settings_text_form_masks_every_secret(settings):
    shown = dataclasses.replace(
        settings, CARRIER_WEBHOOK_SECRET="carrier-webhook-secret-value",
        DATABASE_URL=f"postgresql://posh:{DB_PASSWORD}@db.internal:5432/posh",
        REDIS_URL=f"redis://:{DB_PASSWORD}@redis.internal:6379/0")
    for text in (repr(shown), str(shown), f"{shown}", repr({"settings": shown})):
        assert settings.SECRET_KEY not in text
        assert "carrier-webhook-secret-value" not in text
        assert DB_PASSWORD not in text
        assert "postgresql://posh:********@db.internal:5432/posh" in text
    assert isinstance(shown, Settings)


def test_no_secret_reaches_the_logs(settings, staff, caplog):
    secret_settings = dataclasses.replace(settings,
                                          CARRIER_WEBHOOK_SECRET="carrier-webhook-secret-value")
    with caplog.at_level(logging.DEBUG):
        app = create_app(secret_settings)
        client = app.test_client()
        _, email, password = staff("admin")
        sign_in(client, email, "a-wrong-password")
        sign_in(client, email, password)
        client.get("/console/")
        client.post("/api/v1/carrier/webhook", data=b"{}", content_type="application/json")
        app.logger.info("settings in use: %s", app.config["SETTINGS"])
    logged = "\n".join(record.getMessage() + str(record.exc_text or "")
                       for record in caplog.records)
    assert "settings in use" in logged
    assert settings.SECRET_KEY not in logged
    assert "carrier-webhook-secret-value" not in logged
    assert password not in logged
