from __future__ import annotations

import itertools
import re

from foundation import db
from foundation.staff import services as staff_services

STRONG_PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def make_staff(settings, role: str = "admin", email: str | None = None,
               password: str = STRONG_PASSWORD):
    email = email or f"{role}{next(_counter)}@staff.test"
    with db.unit_of_work() as s:
        member = staff_services.create_staff(s, settings, email=email, role=role,
                                             password=password)
        return member.id, email, password


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client, email: str, password: str = STRONG_PASSWORD, follow: bool = False):
    page = client.get("/console/auth/sign-in")
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/console/auth/sign-in",
                       data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=follow)


def page_token(client, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def staff_bearer(client, staff, role: str) -> dict:
    """Authorization headers for a new staff member of `role` on the staff API."""
    _, email, _ = staff(role)
    response = client.post("/api/v1/staff/auth/token",
                           json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def worker_env(app, settings, **extra: str) -> dict[str, str]:
    """The environment for a real `flask worker` process on this test's database and
    Redis (the embedded one is reached on its unix socket)."""
    import os

    kwargs = app.extensions["redis"].connection_pool.connection_kwargs
    redis_url = f"unix://{kwargs['path']}" if "path" in kwargs else settings.REDIS_URL
    return {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": redis_url,
            "INSTANCE_PATH": settings.INSTANCE_PATH, "SECRET_KEY": settings.SECRET_KEY,
            **extra}
