"""Driving the staff console as a browser would (CSRF tokens, sign-in), and the
environment of a real worker process."""
from __future__ import annotations

import os
import re

from tests.builders.staff import STRONG_PASSWORD


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


def signed_in(client, staff, role: str) -> int:
    """A new staff member of `role` (the `staff` fixture makes it) signed in to the console
    in `client`; the staff id."""
    staff_id, email, password = staff(role)
    assert sign_in(client, email, password).status_code == 302
    return staff_id


def page_token(client, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def worker_env(app, settings, **extra: str) -> dict[str, str]:
    """The environment for a real `flask worker` process on this test's database and
    Redis (the embedded one is reached on its unix socket)."""
    kwargs = app.extensions["redis"].connection_pool.connection_kwargs
    redis_url = f"unix://{kwargs['path']}" if "path" in kwargs else settings.REDIS_URL
    return {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": redis_url,
            "INSTANCE_PATH": settings.INSTANCE_PATH, "SECRET_KEY": settings.SECRET_KEY,
            **extra}
