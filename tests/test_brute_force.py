"""Password guessing: many guessers in parallel at one account, guesses spread over
unknown e-mails, the per-address limit when Redis is gone, and client addresses behind a
configured number of trusted proxies."""
from __future__ import annotations

import dataclasses
import threading

import redis
from sqlalchemy import select

from console import create_app
from foundation import db
from foundation.audit.models import AuditEvent
from foundation.staff.models import StaffUser
from tests.helpers import page_token

GUESSERS = 32
GUESSES_EACH = 8


def guess(client, email: str, address: str):
    return client.post("/api/v1/staff/auth/token", json={"email": email, "password": "guess"},
                       environ_base={"REMOTE_ADDR": address})


def failures_counted(staff_id: int) -> list[dict]:
    """The failed password checks the audit trail recorded against this account."""
    rows = db.session().scalars(select(AuditEvent).where(
        AuditEvent.action == "staff.sign_in_failed", AuditEvent.object_id == str(staff_id)))
    return [row.after for row in rows if (row.after or {}).get("reason") == "bad_password"]


def test_parallel_guessers_lock_the_account_before_fifty_failures(app, staff):
    staff_id, email, _ = staff("admin")
    answers: list[int] = []
    start = threading.Barrier(GUESSERS)

    def guesser(n: int) -> None:
        client = app.test_client()
        start.wait()
        for _ in range(GUESSES_EACH):
            status = guess(client, email, f"10.0.{n}.1").status_code
            answers.append(status)
            if status == 429:
                return

    threads = [threading.Thread(target=guesser, args=(n,)) for n in range(GUESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) <= {401, 429}, sorted(set(answers))
    assert 429 in answers
    assert len(failures_counted(staff_id)) < 50
    assert db.session().get(StaffUser, staff_id).locked_until is not None


def test_every_failure_is_counted_when_guesses_arrive_together(app, settings, staff):
    staff_id, email, _ = staff("admin")
    below_lock = settings.LOGIN_MAX_FAILURES - 1
    start = threading.Barrier(below_lock)

    def guesser(n: int) -> None:
        client = app.test_client()
        start.wait()
        guess(client, email, f"10.1.{n}.1")

    threads = [threading.Thread(target=guesser, args=(n,)) for n in range(below_lock)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session().expire_all()
    assert db.session().get(StaffUser, staff_id).failed_logins == below_lock


def test_guesses_spread_over_unknown_emails_hit_the_per_address_limit(app, settings):
    client = app.test_client()
    statuses = [guess(client, f"nobody{n}@staff.test", "10.2.0.1").status_code
                for n in range(settings.LOGIN_IP_ATTEMPTS_PER_MINUTE + 5)]
    assert statuses[:settings.LOGIN_IP_ATTEMPTS_PER_MINUTE] == \
        [401] * settings.LOGIN_IP_ATTEMPTS_PER_MINUTE
    assert set(statuses[settings.LOGIN_IP_ATTEMPTS_PER_MINUTE:]) == {429}
    assert guess(client, "nobody@staff.test", "10.2.0.2").status_code == 401, \
        "another address has its own allowance"


def test_sign_in_fails_closed_when_redis_is_unreachable(app, staff, tmp_path):
    _, email, password = staff("admin")
    app.extensions["redis"] = redis.Redis(unix_socket_path=str(tmp_path / "no-redis.sock"))
    client = app.test_client()
    response = client.post("/api/v1/staff/auth/token",
                           json={"email": email, "password": password})
    assert response.status_code == 429
    token = page_token(client, "/console/auth/sign-in")
    console = client.post("/console/auth/sign-in",
                          data={"email": email, "password": password, "csrf_token": token})
    assert console.status_code == 429


def test_trusted_proxies_decide_which_address_is_the_client(settings, staff):
    behind_proxy = create_app(dataclasses.replace(settings, TRUSTED_PROXIES=1))
    behind_proxy.extensions["redis"].flushdb()
    limit = settings.LOGIN_IP_ATTEMPTS_PER_MINUTE
    client = behind_proxy.test_client()

    def from_client(address: str):
        return client.post("/api/v1/staff/auth/token",
                           json={"email": "nobody@staff.test", "password": "guess"},
                           headers={"X-Forwarded-For": address},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"})

    assert {from_client("203.0.113.7").status_code for _ in range(limit + 1)} == {401, 429}
    assert from_client("203.0.113.8").status_code == 401, "each client has its own bucket"


def test_without_trusted_proxies_a_forwarded_header_is_ignored(app, settings):
    client = app.test_client()
    statuses = [client.post("/api/v1/staff/auth/token",
                            json={"email": "nobody@staff.test", "password": "guess"},
                            headers={"X-Forwarded-For": f"203.0.113.{n}"},
                            environ_base={"REMOTE_ADDR": "10.8.8.8"}).status_code
                for n in range(settings.LOGIN_IP_ATTEMPTS_PER_MINUTE + 1)]
    assert statuses[-1] == 429
