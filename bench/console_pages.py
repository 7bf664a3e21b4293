"""Server time of the console's queue and workspace pages at 100k waiting items and 1M
listings.

    python -m bench.console_pages --listings 1000000 --waiting 100000 --requests 200 \
        --database-url postgresql://postgres@127.0.0.1:5432/console_pages \
        --json bench/out/console_pages.json

Needs PostgreSQL.  The database named in --database-url is created if missing and seeded
once with COPY: members, --listings listings of which --waiting wait for authentication
(each with its queued request, as bench.authentication_queue loads them), a cover photo
row per listing shown in a queue, delivered orders with dispute cases (--disputes open,
three times as many closed), a trust score per seller and duplicate-photo groups.  A
second run finds the seed in place (it only applies new migrations), so that the same
data measures the code before and after a change.

Each page is then requested through the real Flask app (the test client, signed in as a
staff member of the role that works the page): --warmup requests, then --requests timed
ones, from request to response inside the process (no network).  For every page it
reports p50/p95/p99 of the wall time, of the CPU time the app's process spent and of
the time it waited for SQL answers (on a machine shared with other work the wall time also
holds the waits for a free core: the load average is printed), and the number of SQL
statements one request issues (counted with a SQLAlchemy event), so that a query per row
shows.  Goal: p95 <= 150 ms for every page.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench import authentication_queue as auth_bench
from bench import marketplace_scale as scale
from bench.common import percentiles, write_json

PASSWORD = "bench-password-1"
GOAL_P95_MS = 150
SELLER_TIERS = ["top"] * 5 + ["trusted"] * 35 + ["new"] * 45 + ["watch"] * 10 + ["risky"] * 5
# Of the open dispute cases: where they wait.
OPEN_CASE_STATES = ["under_review"] * 70 + ["awaiting_approval"] * 10 + ["awaiting_seller"] * 20
CLOSED_CASE_STATES = ["closed_refunded", "closed_split", "closed_released", "closed_withdrawn"]
ROLES = {"authenticator": "authenticator", "senior": "senior_authenticator",
         "agent": "support_agent", "lead": "support_lead", "analyst": "fraud_analyst",
         "admin": "admin"}


# --- seeding ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    listings: int
    waiting: int
    disputes: int
    duplicate_groups: int

    @property
    def members(self) -> int:
        return max(5_000, self.listings // 20)


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        conn.execute(f'CREATE DATABASE "{name}"')


def seeded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM listings)").fetchone()[0]


def seed(url: str, size: Scale, rng: random.Random) -> dict[str, float]:
    """Every step's seconds."""
    timings: dict[str, float] = {}

    def step(name: str, fn: Callable[[], None]) -> None:
        started = time.perf_counter()
        fn()
        timings[name] = round(time.perf_counter() - started, 1)
        print(f"  {name}: {timings[name]} s", file=sys.stderr)

    with psycopg.connect(url) as conn:
        step("members", lambda: (scale.load_members(conn, size.members, 1), conn.commit()))
        step("listings", lambda: scale.load_listings(conn, size.listings - size.waiting,
                                                     size.members, rng))
        step("authentication_queue", lambda: load_waiting(conn, size.waiting, rng))
        step("authenticated_references", lambda: mark_references_authenticated(conn))
        step("disputes", lambda: load_disputes(conn, size, rng))
        step("cover_photos", lambda: load_cover_photos(conn))
        step("trust_scores", lambda: load_trust_scores(conn, size.members, rng))
        step("duplicate_groups", lambda: load_duplicate_groups(conn, size.duplicate_groups))
        step("analyze", lambda: (conn.execute("ANALYZE"), conn.commit()))
    return timings


def load_waiting(conn, waiting: int, rng: random.Random) -> None:
    """Listings waiting for authentication and their queued requests (as the claim
    benchmark loads them: opened over 30 hours, some past their SLA)."""
    items = auth_bench.make_items(waiting, rng, datetime.now(UTC))
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM listings").fetchone()[0]
    auth_bench.load_listings(conn, items, rng)
    last = conn.execute("SELECT max(id) FROM listings").fetchone()[0]
    assert last - first + 1 == waiting, "listing ids are not contiguous"
    auth_bench.load_requests(conn, items, first, rng, datetime.now(UTC))
    conn.commit()


def mark_references_authenticated(conn) -> None:
    """One live listing in twenty authenticated: the workspace's reference listings."""
    conn.execute("UPDATE listings SET authenticated_at = published_at "
                 "WHERE status = 'live' AND id % 20 = 0")
    conn.commit()


def load_disputes(conn, size: Scale, rng: random.Random) -> None:
    """Delivered orders of sold listings, each with a dispute case: `size.disputes` open
    (most under review), three times as many closed (the parties' history)."""
    total = size.disputes * 4
    sold = conn.execute("SELECT id, seller_id, price_paise, title, brand, category, size, "
                        "colour FROM listings WHERE status = 'sold' ORDER BY id LIMIT %s",
                        (total,)).fetchall()
    now = datetime.now(UTC)
    buyers = [_other_member(rng, size.members, row[1]) for row in sold]
    placed = [now - timedelta(hours=rng.randint(48, 24 * 60)) for _ in sold]
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM orders").fetchone()[0]
    auth_bench.copy_rows(
        conn, "COPY orders (buyer_id, seller_id, source, items_total_paise, discount_paise, "
              "shipping_paise, total_paise, label_surcharge_paise, status, on_hold, "
              "payment_method, provider_ref, idempotency_key, request_fingerprint, "
              "placed_at, shipped_at, delivered_at, version) FROM STDIN",
        (f"{buyer}\t{row[1]}\tbuy_now\t{row[2]}\t0\t0\t{row[2]}\t0\tdelivered\tf\t"
         f"test_card_ok\tbench-{i}\tbench-{i}\t{i:064x}\t{at.isoformat()}\t"
         f"{(at + timedelta(hours=20)).isoformat()}\t{(at + timedelta(hours=44)).isoformat()}"
         f"\t1\n" for i, (row, buyer, at) in enumerate(zip(sold, buyers, placed, strict=True))))
    auth_bench.copy_rows(conn, "COPY order_items (order_id, listing_id, price_paise) FROM STDIN",
                         (f"{first + i}\t{row[0]}\t{row[2]}\n" for i, row in enumerate(sold)))
    auth_bench.copy_rows(
        conn, "COPY dispute_cases (order_id, buyer_id, seller_id, listing_id, reason, "
              "description, state, amount_paise, listing_snapshot, priority, sla_due_at, "
              "sla_used_seconds, sla_running_since, version, opened_at, updated_at, "
              "closed_at) FROM STDIN",
        (_case_row(first + i, row, buyer, at, i < size.disputes, rng, now)
         for i, (row, buyer, at) in enumerate(zip(sold, buyers, placed, strict=True))))
    conn.commit()


def _other_member(rng: random.Random, members: int, seller_id: int) -> int:
    buyer = rng.randint(1, members)
    return buyer if buyer != seller_id else buyer % members + 1


def _case_row(order_id: int, row, buyer: int, placed: datetime, is_open: bool,
              rng: random.Random, now: datetime) -> str:
    listing_id, seller_id, price, title, brand, category, item_size, colour = row
    opened = placed + timedelta(hours=rng.randint(50, 90))
    opened = min(opened, now - timedelta(hours=1))
    state = rng.choice(OPEN_CASE_STATES if is_open else CLOSED_CASE_STATES)
    snapshot = json.dumps({"items": [{
        "listing_id": listing_id, "price_paise": price, "title": title, "description": "",
        "brand": brand, "category": category, "size": item_size, "condition": "good",
        "colour": colour, "photos": []}]})
    due = opened + timedelta(hours=48)
    running = opened.isoformat() if state in ("under_review", "awaiting_approval") else "\\N"
    closed = "\\N" if is_open else (opened + timedelta(hours=30)).isoformat()
    return (f"{order_id}\t{buyer}\t{seller_id}\t{listing_id}\tnot_as_described\t"
            f"Not as shown in the photos.\t{state}\t{price}\t{_copy_text(snapshot)}\t"
            f"{1 if due < now else 0}\t{due.isoformat()}\t0\t{running}\t1\t"
            f"{opened.isoformat()}\t{opened.isoformat()}\t{closed}\n")


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_cover_photos(conn) -> None:
    """A photo row for every listing that a queue, workspace or duplicate group shows
    (the pages only name the photos; nothing decodes them)."""
    conn.execute("""
        INSERT INTO listing_photos (listing_id, position, media_key, width, height, created_at)
        SELECT id, 0, md5(id::text) || md5(brand), 1200, 1600, created_at FROM listings
        WHERE status IN ('pending_authentication', 'sold') OR authenticated_at IS NOT NULL""")
    conn.commit()


def load_trust_scores(conn, members: int, rng: random.Random) -> None:
    now = datetime.now(UTC).isoformat()
    auth_bench.copy_rows(
        conn, "COPY trust_seller_scores (seller_id, score, tier, confidence, parts, counts, "
              "reasons, weights_version, computed_at) FROM STDIN",
        (f"{i}\t{rng.random():.4f}\t{rng.choice(SELLER_TIERS)}\t{rng.random():.3f}\t{{}}\t"
         f"{{}}\t[]\t1\t{now}\n" for i in range(1, members + 1)))
    conn.commit()


def load_duplicate_groups(conn, groups: int) -> None:
    """Pairs of listings waiting for authentication whose cover photos were flagged as
    copies: one open flag per group."""
    pairs = conn.execute(
        "SELECT a.listing_id, a.id, b.listing_id, b.id FROM listing_photos a "
        "JOIN listing_photos b ON b.listing_id = a.listing_id + 1 "
        "WHERE a.listing_id %% 2 = 0 ORDER BY a.listing_id DESC LIMIT %s", (groups,)).fetchall()
    now = datetime.now(UTC).isoformat()
    auth_bench.copy_rows(
        conn, "COPY vision_duplicate_flags (kind, status, listing_id, photo_id, "
              "matched_listing_id, matched_photo_id, group_id, score, evidence, created_at) "
              "FROM STDIN",
        (f"stolen_photo\topen\t{a}\t{pa}\t{b}\t{pb}\t{group}\t0.97\t{{}}\t{now}\n"
         for group, (a, pa, b, pb) in enumerate(pairs, 1)))
    conn.commit()


# --- staff ------------------------------------------------------------------------------

def signed_in_clients(app) -> dict[str, object]:
    """One signed-in test client per role that works a measured page."""
    from foundation import db
    from foundation.staff import services as staff_services
    from foundation.staff.models import StaffUser
    from tests.helpers import sign_in

    clients = {}
    for name, role in ROLES.items():
        email = f"{name}@bench-pages.in"
        with db.unit_of_work() as s:
            if s.query(StaffUser).filter_by(email=email).one_or_none() is None:
                staff_services.create_staff(s, app.config["SETTINGS"], email=email,
                                            role=role, password=PASSWORD)
        client = app.test_client()
        assert sign_in(client, email, PASSWORD).status_code == 302, f"{name} cannot sign in"
        clients[name] = client
    return clients


def staff_id(email: str) -> int:
    from foundation import db
    from foundation.staff.models import StaffUser

    with db.unit_of_work() as s:
        return s.query(StaffUser).filter_by(email=email).one().id


def hold_one(kind: str, email: str) -> int:
    """What the reviewer is working on: an item claimed through the real service (or the
    one they already hold from an earlier run)."""
    from authentication import claims as auth_claims
    from disputes import claims as case_claims
    from foundation import db
    from foundation.staff.models import StaffUser

    claims = auth_claims if kind == "authentication" else case_claims
    with db.unit_of_work() as s:
        staff = s.get(StaffUser, staff_id(email))
        held = claims.held_by(s, staff)
        if held:
            return held[0].id
        claimed = claims.claim_next(s, staff, "review")
        assert claimed is not None, f"nothing to claim in the {kind} queue"
        return claimed.id


def other_ids(url: str, query: str, count: int) -> list[int]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute(query, (count,)).fetchall()]


# --- measuring --------------------------------------------------------------------------

class StatementCounter:
    """SQL statements sent on any engine, and the time spent waiting for their answers."""

    def __init__(self):
        self.count = 0
        self.sql_seconds = 0.0

    def before(self, _conn, _cursor, _statement, _params, context, _many) -> None:
        self.count += 1
        context._bench_started = time.perf_counter()

    def after(self, _conn, _cursor, _statement, _params, context, _many) -> None:
        self.sql_seconds += time.perf_counter() - context._bench_started

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self.before)
        event.listen(Engine, "after_cursor_execute", self.after)


@dataclass(frozen=True)
class Page:
    name: str
    client: str
    paths: tuple[str, ...]     # requested in turn


def pages(url: str) -> list[Page]:
    held_request = hold_one("authentication", "authenticator@bench-pages.in")
    held_case = hold_one("disputes", "agent@bench-pages.in")
    waiting = other_ids(url, "SELECT id FROM authentication_requests WHERE state = 'queued' "
                             "ORDER BY id DESC LIMIT %s", 20)
    open_cases = other_ids(url, "SELECT id FROM dispute_cases WHERE state = 'under_review' "
                                "ORDER BY id DESC LIMIT %s", 20)
    return [
        Page("home", "authenticator", ("/console/",)),
        Page("authentication queue (authenticator)", "authenticator",
             ("/console/authentication/",)),
        Page("authentication queue (senior)", "senior", ("/console/authentication/",)),
        Page("authentication workspace (held)", "authenticator",
             (f"/console/authentication/{held_request}",)),
        Page("authentication workspace (others)", "senior",
             tuple(f"/console/authentication/{i}" for i in waiting)),
        Page("disputes queue (agent)", "agent", ("/console/disputes/",)),
        Page("disputes queue (lead)", "lead", ("/console/disputes/",)),
        Page("disputes workspace (held)", "agent", (f"/console/disputes/{held_case}",)),
        Page("disputes workspace (others)", "lead",
             tuple(f"/console/disputes/{i}" for i in open_cases)),
        Page("duplicates review", "analyst", ("/console/vision_duplicates/",)),
        Page("trust sellers", "analyst", ("/console/trust/",)),
        Page("trust sellers (risky tier)", "analyst", ("/console/trust/?tier=risky",)),
        Page("trust sellers (page 200)", "analyst", ("/console/trust/?page=200",)),
    ]


def measure_page(page: Page, client, counter: StatementCounter, requests: int,
                 warmup: int) -> dict:
    """Wall time from request to response; beside it the CPU time this process spent
    (on a shared machine wall time also holds the waits for a free core) and the time
    spent waiting for SQL answers."""
    for i in range(warmup):
        _ok(client.get(page.paths[i % len(page.paths)]), page)
    wall, cpu, sql, statements = [], [], [], []
    for i in range(requests):
        path = page.paths[i % len(page.paths)]
        count_before, sql_before = counter.count, counter.sql_seconds
        started, cpu_started = time.perf_counter(), time.process_time()
        _ok(client.get(path), page)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        sql.append((counter.sql_seconds - sql_before) * 1000)
        statements.append(counter.count - count_before)
    return {"ms": percentiles(wall), "app_cpu_ms": percentiles(cpu),
            "sql_wait_ms": percentiles(sql), "sql_statements": max(statements),
            "met": percentiles(wall)["p95"] <= GOAL_P95_MS}


def _ok(response, page: Page) -> None:
    if response.status_code != 200:
        raise AssertionError(f"{page.name}: {response.status_code} "
                             f"{response.get_data(as_text=True)[:300]}")


def scale_of(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        def count(sql: str) -> int:
            return conn.execute(sql).fetchone()[0]
        return {
            "listings": count("SELECT count(*) FROM listings"),
            "authentication_waiting": count("SELECT count(*) FROM authentication_requests "
                                            "WHERE state IN ('queued', 'escalated')"),
            "disputes_open": count("SELECT count(*) FROM dispute_cases WHERE closed_at IS NULL"),
            "disputes_waiting_for_staff": count(
                "SELECT count(*) FROM dispute_cases "
                "WHERE state IN ('under_review', 'awaiting_approval')"),
            "trust_scores": count("SELECT count(*) FROM trust_seller_scores"),
            "duplicate_flags_open": count("SELECT count(*) FROM vision_duplicate_flags "
                                          "WHERE status = 'open'"),
        }


def run(url: str, size: Scale, requests: int, warmup: int, redis_url: str,
        only: str | None) -> dict:
    import tempfile

    from console import create_app
    from foundation.migrations import upgrade

    ensure_database(url)
    upgrade(url)
    seed_seconds = None
    if not seeded(url):
        print(f"seeding {size.listings:,} listings, {size.waiting:,} waiting", file=sys.stderr)
        seed_seconds = seed(url, size, random.Random(16))
    app = create_app({"DATABASE_URL": url, "APP_ENV": "test", "REDIS_URL": redis_url,
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-pages-"),
                      "SECRET_KEY": "bench-" + "k" * 40})
    clients = signed_in_clients(app)
    counter = StatementCounter()
    counter.install()
    results = {}
    for page in pages(url):
        if only and only not in page.name:
            continue
        print(f"measuring {page.name}", file=sys.stderr)
        results[page.name] = measure_page(page, clients[page.client], counter, requests,
                                          warmup)
    return {"scale": scale_of(url), "seed_seconds": seed_seconds, "requests": requests,
            "warmup": warmup, "pages": results, "goal_p95_ms": GOAL_P95_MS,
            "all_met": all(r["met"] for r in results.values())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--disputes", type=int, default=5_000,
                        help="open dispute cases (three times as many closed are added)")
    parser.add_argument("--duplicate-groups", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--only", default=None, help="measure the pages whose name has this")
    parser.add_argument("--json", default=None)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/console_pages"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""),
                        help="default: an embedded Redis")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the console pages benchmark needs PostgreSQL")
    if not 0 < args.waiting < args.listings:
        parser.error("--waiting must be above 0 and below --listings")
    if args.requests < 1 or args.warmup < 0 or args.disputes < 1:
        parser.error("--requests and --disputes must be >= 1, --warmup >= 0")
    size = Scale(listings=args.listings, waiting=args.waiting, disputes=args.disputes,
                 duplicate_groups=args.duplicate_groups)
    try:
        result = run(args.database_url, size, args.requests, args.warmup, args.redis_url,
                     args.only)
    finally:
        from foundation import db
        db.dispose_all()
    result["cores"] = os.cpu_count()
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    write_json(args.json, result)
    print_table(result)


def print_table(result: dict) -> None:
    print(f"\n{'page':<38} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'cpu p50':>8} "
          f"{'cpu p95':>8} {'sql p50':>8} {'sql p95':>8} {'SQL':>4}  goal")
    for name, r in result["pages"].items():
        ms, cpu, sql = r["ms"], r["app_cpu_ms"], r["sql_wait_ms"]
        print(f"{name:<38} {ms['p50']:>8} {ms['p95']:>8} {ms['p99']:>8} {cpu['p50']:>8} "
              f"{cpu['p95']:>8} {sql['p50']:>8} {sql['p95']:>8} {r['sql_statements']:>4}  "
              f"{'met' if r['met'] else 'MISSED'}")
    print(f"scale: {result['scale']}; {result['requests']} timed requests per page, "
          f"{result['cores']} cores; load average at the end: {result['load_average']}")


if __name__ == "__main__":
    main()
