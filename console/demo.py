"""`make demo`: migrate, seed, start the embedded Redis, a worker and the console.

Everything runs from this one process tree on the embedded defaults (SQLite
under instance/, the instance's one embedded redis-server on a unix socket), so a new user
needs nothing but Python 3.11 and a C compiler.

The first run fills the marketplace and computes, in the foreground, everything the
console shows at once: the seed's history and planted duplicates, the counterfeit model
and its risk scores, seller trust and the feed; the worker then only signs the rest of
the photos.  The terminal shows the steps, the URL, the sign-ins and one progress line;
every process's log goes to instance/demo-logs/.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.serving import run_simple

from authentication.models import ReviewDecision
from console import create_app
from disputes.models import DisputeCase
from foundation import db, jobs
from foundation.config import PROJECT_ROOT, Settings
from foundation.migrations import upgrade
from foundation.redis_conn import embedded_url
from foundation.staff import services as staff_services
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import Listing, ListingPhoto, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order
from marketplace_core.seed.demo import DEMO_MEMBER_PASSWORD
from trust.recommender.models import MemberCandidates
from trust.signals.models import SellerTrustRecord
from vision.counterfeit.models import CounterfeitScore
from vision.modelops import services
from vision.modelops.models import TrainingRun
from vision.models import PhotoSignature

HOST, PORT = "127.0.0.1", int(os.environ.get("PORT", "5000"))
DEMO_PASSWORD = "demo-password-2026"
DEMO_LISTINGS = int(os.environ.get("DEMO_LISTINGS", "2000"))
DEMO_STAFF = (
    ("admin@demo.posh.in", "admin", "Asha Admin"),
    ("auth@demo.posh.in", "authenticator", "Arjun Authenticator"),
    ("senior@demo.posh.in", "senior_authenticator", "Sana Senior"),
    ("senior2@demo.posh.in", "senior_authenticator", "Sahil Senior"),
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


class Setup:
    """The first run's steps: each a flask command whose output goes to the setup log;
    the terminal gets one line per step, with its progress read from the database while
    it runs, and the log's tail when a step fails."""

    def __init__(self, log_dir: Path):
        self.log = log_dir / "setup.log"

    def step(self, label: str, args: list[str], *, required: bool = True,
             failed_hint: str = "", progress: Callable[[], str] | None = None) -> bool:
        line = ProgressLine(f"  {label}")
        started = time.perf_counter()
        with self.log.open("a") as out:
            out.write(f"\n$ flask {' '.join(args)}\n")
            out.flush()
            running = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                                       cwd=PROJECT_ROOT, env=os.environ.copy(), stdout=out,
                                       stderr=subprocess.STDOUT)
            returncode = _wait_showing(running, line, progress)
        if returncode == 0:
            line.finish(f"done in {time.perf_counter() - started:.0f} s")
            return True
        line.finish(f"failed (see {self.log})")
        print(_tail(self.log), flush=True)
        if required:
            sys.exit(f"make demo stopped: {label} failed")
        if failed_hint:
            print(f"  {failed_hint}", flush=True)
        return False


def _wait_showing(running: subprocess.Popen, line: ProgressLine,
                  progress: Callable[[], str] | None, every: float = 2.0) -> int:
    """Wait for the step, showing what `progress` reads meanwhile."""
    while True:
        try:
            return running.wait(timeout=every)
        except subprocess.TimeoutExpired:
            if progress is not None:
                line.show(_read_progress(progress))
        except KeyboardInterrupt:
            running.terminate()
            running.wait()
            raise


def _read_progress(progress: Callable[[], str]) -> str:
    try:
        return progress()
    except Exception:  # noqa: BLE001 - a busy database misses one update, not the step
        return ""


class ProgressLine:
    """One terminal line: rewritten in place on a terminal; otherwise printed when it
    changes, at most every 30 s (a log of the run stays short)."""

    def __init__(self, label: str, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self._tty = sys.stdout.isatty()
        self._clock = clock
        self._shown, self._printed_at = "", clock()
        print(f"{label}...", end="" if self._tty else "\n", flush=True)

    def show(self, text: str, *, now: bool = False) -> None:
        """Show `text` (on a log: unless shown less than 30 s ago, and not `now`)."""
        if not text or text == self._shown:
            return
        if self._tty:
            print(f"\r\033[K{self.label}... {text}", end="", flush=True)
        elif now or self._clock() - self._printed_at >= 30:
            print(f"{self.label}... {text}", flush=True)
            self._printed_at = self._clock()
        else:
            return
        self._shown = text

    def finish(self, text: str) -> None:
        if self._tty:
            print(f"\r\033[K{self.label}... {text}", flush=True)
        else:
            print(f"{self.label}: {text}", flush=True)


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join("    " + line for line in path.read_text().splitlines()[-lines:])


def _exists(model, column) -> bool:
    with db.unit_of_work() as s:
        return s.scalar(select(column).select_from(model).limit(1)) is not None


def _count(column, *where) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count(column)).where(*where)) or 0


def seed_progress() -> str:
    listings = _count(Listing.id)
    if listings < DEMO_LISTINGS:
        return f"{listings}/{DEMO_LISTINGS} listings"
    return (f"{listings} listings, {_count(Order.id)} orders, "
            f"{_count(ReviewDecision.id)} authentication verdicts, "
            f"{_count(DisputeCase.id)} dispute cases")


def training_progress() -> str:
    with db.unit_of_work() as s:
        run = s.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(1))
        if run is None or not run.total:
            return ""
        return f"{run.message} {run.done}/{run.total}"


def scoring_progress() -> str:
    watched = _count(Listing.id, Listing.status.in_(
        (ListingStatus.LIVE, ListingStatus.PENDING_AUTHENTICATION)))
    return f"{_count(CounterfeitScore.listing_id)}/{watched} listings"


def seed_if_empty(setup: Setup) -> None:
    """The first `make demo` fills the marketplace; later runs keep what is there."""
    if _exists(Member, Member.id):
        return
    setup.step(f"seeding six months of a marketplace ({DEMO_LISTINGS} listings)",
               ["seed", "--listings", str(DEMO_LISTINGS)], progress=seed_progress)


def ensure_counterfeit_champion(setup: Setup) -> None:
    """The first `make demo` trains the counterfeit-risk model on the seeded verdicts and
    promotes it as the demo fraud analyst (audited, as from the console)."""
    with db.unit_of_work() as s:
        if services.champion(s, "counterfeit") is not None:
            return
    analyst = next(email for email, role, _ in DEMO_STAFF if role == "fraud_analyst")
    setup.step("training the counterfeit-risk model on the seeded verdicts",
               ["train-model", "counterfeit", "--staff", analyst, "--promote"], required=False,
               failed_hint="the console's Vision > Models page can train it later",
               progress=training_progress)


def ensure_risk_scored(setup: Setup) -> None:
    """Every live or waiting listing scored with the champion now, so the queue shows
    risk when the console opens (the scoring jobs the seed queued then find it current)."""
    if _exists(CounterfeitScore, CounterfeitScore.listing_id):
        return
    with db.unit_of_work() as s:
        if services.champion(s, "counterfeit") is None:
            return
    setup.step("scoring counterfeit risk", ["vision", "score-risk"], required=False,
               progress=scoring_progress)


def ensure_trust_scored(setup: Setup) -> None:
    """After the risk scores, score every seller and listing once (clearing the marks the
    seed left, so no recompute job repeats it); the worker keeps them fresh from events."""
    if _exists(SellerTrustRecord, SellerTrustRecord.seller_id):
        return
    setup.step("scoring seller trust and item risk", ["trust", "recompute"])


def ensure_recommendations(setup: Setup) -> None:
    """The first `make demo` trains the "Just Picked for You" ranker on the seeded
    interactions and stores every member's candidates, so the feed serves at once
    (with `flask recommendations precompute`, the same run path as the job)."""
    if _exists(MemberCandidates, MemberCandidates.member_id):
        return
    setup.step("training the recommender and precomputing the feed",
               ["recommendations", "precompute"], required=False,
               failed_hint="members get cold-start pages until Trust > Feed exposure > "
                           "Precompute now")


def prepare(settings: Settings, log_dir: Path) -> None:
    """Migrate, create the staff, and on the first run seed and compute everything."""
    upgrade(settings.DATABASE_URL)
    db.configure(settings.DATABASE_URL)
    ensure_demo_staff(settings)
    setup = Setup(log_dir)
    seed_if_empty(setup)
    ensure_counterfeit_champion(setup)
    ensure_risk_scored(setup)
    ensure_trust_scored(setup)
    ensure_recommendations(setup)


def main() -> None:
    settings = Settings.from_env()
    if settings.is_production:
        sys.exit("make demo is for the embedded default, not APP_ENV=production")
    log_dir = Path(settings.INSTANCE_PATH) / "demo-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    redis_url = settings.REDIS_URL or embedded_url(settings.INSTANCE_PATH)
    os.environ["REDIS_URL"] = redis_url
    print(f"Posh Trust Console demo (logs: {log_dir}/)\n"
          f"database: {settings.DATABASE_URL}\nredis:    {redis_url}", flush=True)
    prepare(settings, log_dir)
    worker_log = (log_dir / "worker.log").open("a")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                              cwd=PROJECT_ROOT, env=os.environ.copy(), stdout=worker_log,
                              stderr=subprocess.STDOUT)
    try:
        app = create_app(Settings.from_env())
        send_logs_to(log_dir / "web.log")
        _print_sign_ins(log_dir)
        BackgroundProgress().start()
        run_simple(HOST, PORT, app, threaded=True, use_reloader=False)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        worker_log.close()


def send_logs_to(path: Path) -> None:
    """The web app's log (requests included) to a file, in the console's own format."""
    root = logging.getLogger()
    handler = logging.FileHandler(path)
    for old in list(root.handlers):
        if isinstance(old, logging.StreamHandler) and not isinstance(old, logging.FileHandler):
            handler.setFormatter(old.formatter)
            for log_filter in old.filters:
                handler.addFilter(log_filter)
            root.removeHandler(old)
    root.addHandler(handler)


class BackgroundProgress:
    """One terminal line for the worker's backlog, read every few seconds."""

    def __init__(self, every: float = 3.0):
        self._every = every

    def start(self) -> None:
        threading.Thread(target=self._loop, name="demo-progress", daemon=True).start()

    def _loop(self) -> None:
        line = ProgressLine("background")
        while True:
            try:
                text = background_line()
                line.show(text, now=text.endswith("done"))
            except Exception:  # noqa: BLE001 - a missed update is shown by the next one
                logging.getLogger(__name__).exception("progress line failed")
            time.sleep(self._every)


def background_line() -> str:
    with db.unit_of_work() as s:
        photos = s.scalar(select(func.count()).select_from(ListingPhoto)) or 0
        signed = s.scalar(select(func.count()).select_from(PhotoSignature)) or 0
    waiting = sum(jobs.queue(name).count for name in jobs.QUEUES)
    if signed >= photos and not waiting:
        return f"{signed}/{photos} photos signed, done"
    return f"{signed}/{photos} photos signed, {waiting} jobs waiting"


def _print_sign_ins(log_dir: Path) -> None:
    print(f"\nPosh Trust Console: http://{HOST}:{PORT}/console")
    print(f"Demo staff (password for all: {DEMO_PASSWORD}):")
    for email, role, _ in DEMO_STAFF:
        print(f"  {role:<22} {email}")
    print(f"Demo members sign in to the API (POST /api/v1/auth/token) with any member's "
          f"email from /console/members/ and the password {DEMO_MEMBER_PASSWORD}.")
    print(f"The worker signs the rest of the seeded photos in the background (its log: "
          f"{log_dir / 'worker.log'}, the web app's: {log_dir / 'web.log'}).")
    print("Stop with Ctrl-C.\n", flush=True)


if __name__ == "__main__":
    main()
