"""How fast are search and the console's listing pages at 100k and 1M listings?

    python -m bench.marketplace_scale --sizes 100000,1000000 --json bench/out/scale.json

Needs PostgreSQL (DATABASE_URL of a server where it may create a scratch database;
default postgresql://postgres@127.0.0.1:5432/postgres).  It bulk-loads members and
listings with COPY, then times the public search API and the console list view through
the real Flask app (test client, so no network noise), against an anchor in the same
run: fetching one listing by id.  Goals: search p95 < 50 ms and console list p95 <
150 ms at 1M listings.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.common import percentiles, progress, time_calls, write_json

BRANDS = ["Kalinga Loom", "Maison Vellore", "Arcadia", "Saffron Street", "Nilgiri Atelier",
          "Banaras House", "Velocity", "Coromandel", "Jaipur Block Co", "Azure & Oak",
          "Monsoon Mill", "Deccan Denim", "Lotus Thread", "Kashi Weaves", "Urban Pashmina"]
CATEGORY_SIZES = {"sarees": ["Free size"], "kurtas": ["S", "M", "L", "XL"],
                  "lehengas": ["S", "M", "L"], "dresses": ["XS", "S", "M", "L"],
                  "jeans": ["28", "30", "32", "34"], "handbags": ["One size"],
                  "sneakers": ["UK 6", "UK 7", "UK 8", "UK 9"], "watches": ["One size"]}
WORDS = ["silk", "cotton", "embroidered", "vintage", "handloom", "leather", "classic",
         "festive", "bridal", "zari", "linen", "quilted", "suede", "chanderi", "denim"]
COLOURS = ["red", "emerald", "navy", "ivory", "black", "mustard", "rose", "teal"]
STATUSES = ["live"] * 85 + ["pending_authentication"] * 5 + ["sold"] * 5 + ["removed"] * 5


def scratch_database(admin_url: str) -> tuple[str, str]:
    name = f"bench_scale_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    return name, urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_members(conn, count: int, start: int) -> None:
    buffer = io.StringIO()
    now = datetime.now(UTC).isoformat()
    for i in range(start, start + count):
        buffer.write(f"m{i}@bench.in\tm{i}\tx\tMember {i}\t\t\tt\tf\t{now}\n")
    buffer.seek(0)
    with conn.cursor() as cur, cur.copy(
            "COPY members (email, username, password_hash, display_name, bio, city, "
            "is_active, selling_restricted, created_at) FROM STDIN") as copy:
        copy.write(buffer.read())


def load_listings(conn, count: int, members: int, rng: random.Random) -> None:
    chunk = 50_000
    base = datetime.now(UTC) - timedelta(days=365)
    for offset in progress(range(0, count, chunk), (count + chunk - 1) // chunk,
                           f"loading {count:,} listings"):
        buffer = io.StringIO()
        for _ in range(min(chunk, count - offset)):
            buffer.write(_listing_row(rng, members, base))
        buffer.seek(0)
        with conn.cursor() as cur, cur.copy(
                "COPY listings (seller_id, title, description, brand, brand_key, category, "
                "size, condition, colour, original_price_paise, price_paise, weight_grams, "
                "status, search_text, created_at, updated_at, published_at, last_shared_at, "
                "version) FROM STDIN") as copy:
            copy.write(buffer.read())
        conn.commit()


def _listing_row(rng: random.Random, members: int, base: datetime) -> str:
    brand = rng.choice(BRANDS)
    category = rng.choice(list(CATEGORY_SIZES))
    colour = rng.choice(COLOURS)
    title = f"{brand} {rng.choice(WORDS)} {rng.choice(WORDS)} {category[:-1]}"
    price = rng.choice([rng.randint(20_000, 900_000)] * 9 + [rng.randint(1_000_001, 9_000_000)])
    status = rng.choice(STATUSES)
    if price > 1_000_000 and status == "live" and rng.random() < 0.5:
        status = "pending_authentication"
    published = base + timedelta(seconds=rng.randint(0, 365 * 86400))
    shared = published + timedelta(seconds=rng.randint(0, 30 * 86400))
    search_text = f"{title} {brand} {category} {colour}".lower()
    return (f"{rng.randint(1, members)}\t{title}\t\t{brand}\t{brand.lower()}\t{category}\t"
            f"{rng.choice(CATEGORY_SIZES[category])}\tgood\t{colour}\t\\N\t{price}\t500\t"
            f"{status}\t{search_text}\t{published.isoformat()}\t{published.isoformat()}\t"
            f"{published.isoformat()}\t{shared.isoformat()}\t1\n")


def search_queries(rng: random.Random) -> list[dict]:
    return [
        {},
        {"q": "silk"},
        {"q": "embroidered kurta"},
        {"brand": rng.choice(BRANDS)},
        {"category": "sarees", "min_price_paise": 100_000, "max_price_paise": 500_000},
        {"category": "sneakers", "size": "UK 8", "sort": "price_low"},
        {"sort": "recently_shared"},
        {"q": "zari", "brand": "Kashi Weaves", "sort": "price_high"},
    ]


def measure(app, console, repeat: int, rng: random.Random) -> dict:
    client = app.test_client()
    one_id = client.get("/api/v1/listings", query_string={"limit": 1}).json["items"][0]["id"]
    anchor = percentiles(time_calls(lambda: client.get(f"/api/v1/listings/{one_id}"), repeat))
    search_samples, per_query = [], {}
    for params in search_queries(rng):
        samples = time_calls(lambda p=params: _ok(client.get("/api/v1/listings",
                                                              query_string=p)), repeat)
        per_query[str(params)] = percentiles(samples)
        search_samples += samples
    cursor = client.get("/api/v1/listings", query_string={"limit": 24}).json["next"]
    deep = percentiles(time_calls(lambda: _ok(client.get(
        "/api/v1/listings", query_string={"limit": 24, "cursor": cursor})), repeat))
    console_samples = []
    for path in ("/console/listings/", "/console/listings/?flt0_0=live",
                 "/console/listings/?page=20", "/console/members/"):
        console_samples += time_calls(lambda p=path: _ok(console.get(p)), max(10, repeat // 4))
    search = percentiles(search_samples)
    console_list = percentiles(console_samples)
    return {"anchor_get_by_id_ms": anchor, "search_ms": search, "search_per_query_ms": per_query,
            "search_second_page_ms": deep, "console_list_ms": console_list,
            "search_p95_over_anchor_p95": round(search["p95"] / anchor["p95"], 2)}


def _ok(response):
    assert response.status_code == 200, (response.status_code, response.data[:300])
    return response


def _console_client(app):
    from foundation import db
    from foundation.staff import services as staff_services
    from tests.helpers import sign_in

    with db.unit_of_work() as s:
        staff_services.create_staff(s, app.config["SETTINGS"], email="bench@staff.in",
                                    role="admin", password="bench-password-1")
    client = app.test_client()
    sign_in(client, "bench@staff.in", "bench-password-1")
    return client


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--json", default=None)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rng = random.Random(7)
    name, url = scratch_database(args.database_url)
    try:
        result = run(url, sizes, args.repeat, rng)
    finally:
        from foundation import db
        db.dispose_all()
        drop_database(args.database_url, name)
    result["cores"] = os.cpu_count()
    write_json(args.json, result)
    _print_table(result)


def run(url: str, sizes: list[int], repeat: int, rng: random.Random) -> dict:
    import tempfile

    from console import create_app
    from foundation.migrations import upgrade

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "APP_ENV": "test",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-"),
                      "SECRET_KEY": "bench-" + "k" * 40})
    members = max(1000, sizes[-1] // 20)
    results = {}
    loaded = 0
    console = _console_client(app)
    with psycopg.connect(url) as conn:
        load_members(conn, members, 1)
        conn.commit()
        for size in sizes:
            load_listings(conn, size - loaded, members, rng)
            loaded = size
            conn.execute("ANALYZE")
            conn.commit()
            print(f"measuring at {size:,} listings", file=sys.stderr)
            results[str(size)] = measure(app, console, repeat, rng)
    return {"sizes": results, "goal": {"search_p95_ms": 50, "console_list_p95_ms": 150}}


def _print_table(result: dict) -> None:
    print(f"\n{'listings':>10} {'anchor p95':>11} {'search p50':>11} {'search p95':>11} "
          f"{'console p50':>12} {'console p95':>12}")
    for size, r in result["sizes"].items():
        print(f"{int(size):>10,} {r['anchor_get_by_id_ms']['p95']:>11} "
              f"{r['search_ms']['p50']:>11} {r['search_ms']['p95']:>11} "
              f"{r['console_list_ms']['p50']:>12} {r['console_list_ms']['p95']:>12}")


if __name__ == "__main__":
    main()
