"""`GET /healthz`: what a supervisor or load balancer asks a web process."""
from __future__ import annotations

import dataclasses

from console import create_app
from tests.deployment import free_port


def test_a_healthy_process_answers_ok_and_names_no_server(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}
    assert "redis://" not in response.get_data(as_text=True)
    assert "unix://" not in response.get_data(as_text=True)


def test_a_process_without_its_redis_answers_503(settings):
    unreachable = dataclasses.replace(settings, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = create_app(unreachable).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok",
                             "redis": "unavailable"}
