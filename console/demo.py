"""`make demo`: migrate, seed, start the embedded Redis, a worker and the console.

Everything runs from this one process tree on the embedded defaults (SQLite
under instance/, the instance's one embedded redis-server on a unix socket), so a new user
needs nothing but Python 3.11 and a C compiler.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from sqlalchemy import func, select
from werkzeug.serving import run_simple

from console import create_app
from foundation import db
from foundation.config import PROJECT_ROOT, Settings
from foundation.migrations import upgrade
from foundation.redis_conn import embedded_url
from foundation.staff import services as staff_services
from foundation.staff.models import StaffUser
from marketplace_core.members.models import Member
from marketplace_core.seed.demo import DEMO_MEMBER_PASSWORD
from trust.recommender.models import MemberCandidates
from trust.signals.models import SellerTrustRecord
from vision.modelops import services

HOST, PORT = "127.0.0.1", int(os.environ.get("PORT", "5000"))
DEMO_PASSWORD = "demo-password-2026"
DEMO_LISTINGS = int(os.environ.get("DEMO_LISTINGS", "2000"))
DEMO_STAFF = (
    ("admin@demo.posh.in", "admin", "Asha Admin"),
    ("auth@demo.posh.in", "authenticator", "Arjun Authenticator"),
    ("senior@demo.posh.in", "senior_authenticator", "Sana Senior"),
    ("support@demo.posh.in", "support_agent", "Sunil Support"),
    ("lead@demo.posh.in", "support_lead", "Leela Lead"),
    ("fraud@demo.posh.in", "fraud_analyst", "Farhan Fraud"),
)


def ensure_demo_staff(settings: Settings) -> None:
    with db.unit_of_work() as s:
        for email, role, name in DEMO_STAFF:
            if s.scalar(select(StaffUser.id).where(StaffUser.email == email)) is None:
                staff_services.create_staff(s, settings, email=email, role=role,
                                            password=DEMO_PASSWORD, display_name=name)


def seed_if_empty() -> None:
    """The first `make demo` fills the marketplace; later runs keep what is there."""
    with db.unit_of_work() as s:
        if s.scalar(select(func.count()).select_from(Member)):
            return
    print(f"seeding the demo marketplace ({DEMO_LISTINGS} listings, once)...", flush=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed",
                    "--listings", str(DEMO_LISTINGS)], cwd=PROJECT_ROOT, env=os.environ.copy(),
                   check=True)


def ensure_counterfeit_champion() -> None:
    """The first `make demo` trains the counterfeit-risk model on the seeded verdicts and
    promotes it as the demo fraud analyst (audited, as from the console), so the
    authentication queue shows risk from the start; the worker then rescores listings."""
    with db.unit_of_work() as s:
        if services.champion(s, "counterfeit") is not None:
            return
    analyst = next(email for email, role, _ in DEMO_STAFF if role == "fraud_analyst")
    print("training the counterfeit-risk model on the seeded verdicts (once)...", flush=True)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "train-model",
                           "counterfeit", "--staff", analyst, "--promote"],
                          cwd=PROJECT_ROOT, env=os.environ.copy(), check=False)
    if done.returncode != 0:
        print("the counterfeit model was not trained (see above); the console's "
              "Vision > Models page can train it later", flush=True)


def ensure_trust_scored() -> None:
    """After seeding (and the counterfeit model's first scores), score every seller and
    listing once, so the Trust pages have something to show; from then on the worker
    keeps them fresh from events (duplicate flags appear as it signs the photos)."""
    with db.unit_of_work() as s:
        if s.scalar(select(SellerTrustRecord.seller_id).limit(1)) is not None:
            return
    print("scoring seller trust and item risk (once)...", flush=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "trust", "recompute"],
                   cwd=PROJECT_ROOT, env=os.environ.copy(), check=True)


def ensure_recommendations() -> None:
    """The first `make demo` trains the "Just Picked for You" ranker on the seeded
    interactions and stores every member's candidates, so the feed serves at once
    (with `flask recommendations precompute`, the same run path as the job)."""
    with db.unit_of_work() as s:
        if s.scalar(select(MemberCandidates.member_id).limit(1)) is not None:
            return
    print("training the recommender and precomputing the feed (once)...", flush=True)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "recommendations",
                           "precompute"], cwd=PROJECT_ROOT, env=os.environ.copy(), check=False)
    if done.returncode != 0:
        print("the feed was not precomputed (see above); members get cold-start pages "
              "until Trust > Feed exposure > Precompute now", flush=True)


def main() -> None:
    settings = Settings.from_env()
    if settings.is_production:
        sys.exit("make demo is for the embedded default, not APP_ENV=production")
    redis_url = settings.REDIS_URL or embedded_url(settings.INSTANCE_PATH)
    os.environ["REDIS_URL"] = redis_url
    print(f"database: {settings.DATABASE_URL}\nredis:    {redis_url}")
    upgrade(settings.DATABASE_URL)
    db.configure(settings.DATABASE_URL)
    ensure_demo_staff(settings)
    seed_if_empty()
    ensure_counterfeit_champion()
    ensure_trust_scored()
    ensure_recommendations()
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                              cwd=PROJECT_ROOT, env=os.environ.copy())
    _print_sign_ins()
    try:
        app = create_app(Settings.from_env())
        run_simple(HOST, PORT, app, threaded=True, use_reloader=False)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def _print_sign_ins() -> None:
    print(f"\nPosh Trust Console: http://{HOST}:{PORT}/console")
    print(f"Demo staff (password for all: {DEMO_PASSWORD}):")
    for email, role, _ in DEMO_STAFF:
        print(f"  {role:<22} {email}")
    print(f"Demo members sign in to the API (POST /api/v1/auth/token) with any member's "
          f"email from /console/members/ and the password {DEMO_MEMBER_PASSWORD}.")
    print("The worker signs the seeded photos in the background (vision queue); "
          "Vision > Duplicates fills with groups as it goes (`flask rq-status` shows the "
          "backlog, `flask vision reindex` does it in the foreground with a progress bar).")
    print("Stop with Ctrl-C.\n", flush=True)


if __name__ == "__main__":
    main()
