"""How fast can 20 reviewers claim and decide from a 100k-item authentication queue?

    python -m bench.authentication_queue --waiting 100000 --reviewers 20 --seconds 30 \
        --json bench/out/authentication_queue.json

Needs PostgreSQL (DATABASE_URL of a server where it may create a scratch database;
default postgresql://postgres@127.0.0.1:5432/postgres).  It migrates a scratch database,
bulk-loads members, listings awaiting authentication and their queued requests with COPY,
creates staff reviewers (authenticators and seniors), then runs reviewer threads, each
with its own session, looping claim_next -> decide (authentic with a full checklist,
counterfeit, which goes to a second review, or release) through the real services.
The anchor, in the same run, is one reviewer looping alone for the same time: the ratio
is the concurrency speed-up.  Afterwards the claim events are checked: no request was
ever held by two reviewers at once.  Goal (issue 4): claim p95 < 20 ms at 100k waiting.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from bench.common import percentiles, write_json
from bench.marketplace_scale import (
    BRANDS,
    CATEGORY_SIZES,
    COLOURS,
    WORDS,
    drop_database,
    load_members,
    scratch_database,
)

MEMBERS = 5_000
PASSWORD = "bench-password-1"
CLAIM_GOAL_P95_MS = 20
# What a reviewer does with a claimed item, in proportion.
ACTIONS = ["authentic"] * 7 + ["counterfeit"] * 2 + ["release"]


# --- loading --------------------------------------------------------------------------

def price_paise(rng: random.Random) -> int:
    """Above the authentication threshold (Rs 10,000); about 15% need a senior
    (above Rs 1,00,000) and 5% need a second review even when authentic."""
    band = rng.random()
    if band < 0.60:
        return rng.randint(1_000_001, 5_000_000)
    if band < 0.85:
        return rng.randint(5_000_001, 10_000_000)
    if band < 0.95:
        return rng.randint(10_000_001, 20_000_000)
    return rng.randint(20_000_001, 60_000_000)


@dataclass(frozen=True)
class Item:
    seller_id: int
    brand: str
    category: str
    price_paise: int
    created_at: datetime


def make_items(count: int, rng: random.Random, now: datetime) -> list[Item]:
    """Opened over the last 30 hours, so some are past the 24 h SLA."""
    return [Item(seller_id=rng.randint(1, MEMBERS), brand=rng.choice(BRANDS),
                 category=rng.choice(list(CATEGORY_SIZES)), price_paise=price_paise(rng),
                 created_at=now - timedelta(seconds=rng.randint(0, 30 * 3600)))
            for _ in range(count)]


def copy_rows(conn, statement: str, rows) -> None:
    buffer = io.StringIO()
    buffer.writelines(rows)
    buffer.seek(0)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(buffer.read())


def load_listings(conn, items: list[Item], rng: random.Random) -> None:
    copy_rows(conn, "COPY listings (seller_id, title, description, brand, brand_key, category, "
                    "size, condition, colour, original_price_paise, price_paise, weight_grams, "
                    "status, search_text, created_at, updated_at, published_at, last_shared_at, "
                    "version) FROM STDIN", (_listing_row(item, rng) for item in items))


def _listing_row(item: Item, rng: random.Random) -> str:
    colour = rng.choice(COLOURS)
    title = f"{item.brand} {rng.choice(WORDS)} {rng.choice(WORDS)} {item.category[:-1]}"
    created = item.created_at.isoformat()
    search_text = f"{title} {item.brand} {item.category} {colour}".lower()
    return (f"{item.seller_id}\t{title}\t\t{item.brand}\t{item.brand.lower()}\t"
            f"{item.category}\t{rng.choice(CATEGORY_SIZES[item.category])}\tgood\t{colour}\t"
            f"\\N\t{item.price_paise}\t500\tpending_authentication\t{search_text}\t"
            f"{created}\t{created}\t\\N\t\\N\t1\n")


def load_requests(conn, items: list[Item], first_listing_id: int, rng: random.Random,
                  now: datetime) -> None:
    copy_rows(conn, "COPY authentication_requests (listing_id, seller_id, reason, price_paise, "
                    "brand, brand_key, category, state, priority, risk_score, senior_only, "
                    "sla_due_at, sla_used_seconds, sla_running_since, sla_breached_at, "
                    "requested_angles, version, created_at, updated_at) FROM STDIN",
              (_request_row(item, first_listing_id + i, rng, now)
               for i, item in enumerate(items)))


def _request_row(item: Item, listing_id: int, rng: random.Random, now: datetime) -> str:
    due = item.created_at + timedelta(hours=24)
    breached = due <= now
    # Breached items sit at priority 2; 2% came back with photos (priority 1).
    priority = 2 if breached else (1 if rng.random() < 0.02 else 0)
    risk = f"{rng.random():.3f}" if rng.random() < 0.7 else "\\N"
    senior_only = "t" if rng.random() < 0.05 else "f"
    created = item.created_at.isoformat()
    breached_at = due.isoformat() if breached else "\\N"
    return (f"{listing_id}\t{item.seller_id}\tpublished\t{item.price_paise}\t{item.brand}\t"
            f"{item.brand.lower()}\t{item.category}\tqueued\t{priority}\t{risk}\t{senior_only}\t"
            f"{due.isoformat()}\t0\t{created}\t{breached_at}\t"
            f"[]\t1\t{created}\t{created}\n")


def load_queue(url: str, waiting: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    items = make_items(waiting, rng, now)
    with psycopg.connect(url) as conn:
        load_members(conn, MEMBERS, 1)
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM listings").fetchone()[0]
        load_listings(conn, items, rng)
        last = conn.execute("SELECT max(id) FROM listings").fetchone()[0]
        assert last - first + 1 == waiting, "listing ids are not contiguous"
        load_requests(conn, items, first, rng, now)
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()


def senior_count(reviewers: int) -> int:
    return max(1, reviewers * 3 // 10)


def create_reviewers(app, count: int) -> list[int]:
    """About a third seniors, the rest authenticators."""
    from foundation import db
    from foundation.staff import services as staff_services

    seniors = senior_count(count)
    ids = []
    with db.unit_of_work() as s:
        for i in range(count):
            role = "senior_authenticator" if i < seniors else "authenticator"
            staff = staff_services.create_staff(s, app.config["SETTINGS"],
                                                email=f"reviewer{i}@bench-staff.in",
                                                role=role, password=PASSWORD)
            ids.append(staff.id)
    return ids


# --- the reviewers' loop ----------------------------------------------------------------

@dataclass
class Claim:
    request_id: int
    token: str
    staff_id: int


@dataclass
class ReviewerLog:
    claim_ms: list[float] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)


def review_until(staff_id: int, deadline: float, rng: random.Random) -> ReviewerLog:
    log = ReviewerLog()
    while time.perf_counter() < deadline:
        claim = timed_claim(staff_id, log)
        if claim is None:
            log.outcomes["queue_empty"] += 1
            break
        log.claims.append(claim)
        log.outcomes[act_on(claim, rng.choice(ACTIONS))] += 1
    return log


def timed_claim(staff_id: int, log: ReviewerLog) -> Claim | None:
    from authentication import claims
    from foundation import db
    from foundation.staff.models import StaffUser

    start = time.perf_counter()
    with db.unit_of_work() as s:
        request = claims.claim_next(s, s.get(StaffUser, staff_id))
        claim = None if request is None else Claim(request.id, request.lease_token, staff_id)
    log.claim_ms.append((time.perf_counter() - start) * 1000)
    return claim


def act_on(claim: Claim, action: str) -> str:
    """Decide or release through the real services; a refusal is counted, then released."""
    from foundation.errors import DomainError

    try:
        if action == "release":
            release(claim)
        else:
            decide(claim, action)
        return action
    except DomainError as refused:
        release(claim)
        return f"refused:{refused.code}"


def decide(claim: Claim, verdict: str) -> None:
    from authentication import claims, decisions
    from authentication.models import Verdict, checklist_for
    from foundation import db
    from foundation.staff.models import StaffUser

    with db.unit_of_work() as s:
        reviewer = s.get(StaffUser, claim.staff_id)
        request = claims.get_request(s, claim.request_id)
        result = "pass" if verdict == "authentic" else "fail"
        decisions.decide(s, reviewer, request, claim.token, decisions.Decision(
            verdict=Verdict(verdict), reason="bench_" + verdict,
            checklist={point: result for point in checklist_for(request.category)}))


def release(claim: Claim) -> None:
    from authentication import claims
    from foundation import db
    from foundation.staff.models import StaffUser

    with db.unit_of_work() as s:
        claims.release(s, s.get(StaffUser, claim.staff_id),
                       claims.get_request(s, claim.request_id), claim.token)


def run_reviewers(staff_ids: list[int], seconds: float, seed: int) -> dict:
    logs: list[ReviewerLog | None] = [None] * len(staff_ids)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(staff_ids) + 1)
    deadline_box: list[float] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            logs[i] = review_until(staff_ids[i], deadline_box[0], random.Random(seed + i))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(staff_ids))]
    for thread in threads:
        thread.start()
    deadline_box.append(time.perf_counter() + seconds)
    start = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return summarise([log for log in logs if log is not None], elapsed)


def summarise(logs: list[ReviewerLog], elapsed: float) -> dict:
    samples = [ms for log in logs for ms in log.claim_ms]
    outcomes = sum((log.outcomes for log in logs), Counter())
    claims = [claim for log in logs for claim in log.claims]
    decided = outcomes["authentic"] + outcomes["counterfeit"]
    return {"reviewers": len(logs), "seconds": round(elapsed, 2),
            "claim_ms": percentiles(samples), "claims": len(claims),
            "claims_per_s": round(len(claims) / elapsed, 1),
            "decisions": decided, "decisions_per_s": round(decided / elapsed, 1),
            "outcomes": dict(outcomes), "_claims": claims}


# --- checking exclusivity ---------------------------------------------------------------

def check_no_double_claims(url: str, claims: list[Claim]) -> dict:
    """From the reviewers' side: every lease token distinct.  From the audit side: per
    request, in event order, a claim is always followed by a release or decision before
    the next claim -- nobody claimed an item someone else still held."""
    tokens = Counter(claim.token for claim in claims)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT request_id, from_state, to_state, actor, reason "
            "FROM authentication_request_events ORDER BY request_id, id").fetchall()
        still_claimed = conn.execute("SELECT count(*) FROM authentication_requests "
                                     "WHERE state = 'claimed'").fetchone()[0]
        decision_rows = conn.execute(
            "SELECT count(*) FROM authentication_decisions").fetchone()[0]
    overlaps, claim_events, takeovers = 0, 0, 0
    holder: dict[int, str] = {}
    for request_id, from_state, to_state, actor, reason in rows:
        if to_state == "claimed" and from_state != "claimed":
            claim_events += 1
            takeovers += reason != "claimed"
            if request_id in holder:
                overlaps += 1
            holder[request_id] = actor
        elif from_state == "claimed" and to_state != "claimed":
            holder.pop(request_id, None)
        elif from_state == "claimed" and reason.startswith("claimed"):
            claim_events += 1
            takeovers += 1
    report = {"claims_by_reviewers": len(claims), "claim_events": claim_events,
              "duplicate_lease_tokens": sum(n - 1 for n in tokens.values() if n > 1),
              "overlapping_holds": overlaps, "lease_takeovers": takeovers,
              "still_claimed_after_run": still_claimed, "decision_rows": decision_rows}
    report["ok"] = (report["duplicate_lease_tokens"] == 0 and overlaps == 0
                    and takeovers == 0 and claim_events == len(claims)
                    and still_claimed == 0)
    return report


# --- where the time goes ----------------------------------------------------------------

def explain_candidate_query(staff_id: int) -> dict:
    """EXPLAIN ANALYZE of the query claim_next runs to pick its candidate (rolled back)."""
    from authentication import claims
    from foundation import clock, db
    from foundation.staff.models import StaffUser

    s = db.session()
    try:
        staff = s.get(StaffUser, staff_id)
        role = staff.role
        query = claims._candidates(s, staff, "review", clock.now(), expired_leases=False)
        compiled = query.compile(dialect=s.get_bind().dialect,
                                 compile_kwargs={"render_postcompile": True})
        plan = [row[0] for row in s.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + compiled.string, compiled.params)]
    finally:
        s.rollback()
        db.session.remove()
    return {"role": role, "execution_ms": _execution_ms(plan), "plan": plan}


def _execution_ms(plan: list[str]) -> float | None:
    for line in plan:
        if line.startswith("Execution Time:"):
            return float(line.split()[2])
    return None


def waiting_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM authentication_requests "
                            "WHERE state IN ('queued', 'escalated')").fetchone()[0]


# --- the run ----------------------------------------------------------------------------

def run(url: str, waiting: int, reviewers: int, seconds: float, rng: random.Random) -> dict:
    import tempfile

    from console import create_app
    from foundation.migrations import upgrade

    upgrade(url, "heads")
    app = create_app({"DATABASE_URL": url, "APP_ENV": "test",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-"),
                      "SECRET_KEY": "bench-" + "k" * 40})
    started = time.perf_counter()
    load_queue(url, waiting, rng)
    load_seconds = round(time.perf_counter() - started, 1)
    staff_ids = create_reviewers(app, reviewers)
    senior, authenticator = staff_ids[0], staff_ids[-1]
    plans = {"before": [explain_candidate_query(authenticator), explain_candidate_query(senior)]}
    print(f"single reviewer for {seconds:g} s", file=sys.stderr)
    waiting_single = waiting_count(url)
    single = run_reviewers([authenticator], seconds, seed=1)
    print(f"{reviewers} reviewers for {seconds:g} s", file=sys.stderr)
    waiting_many = waiting_count(url)
    many = run_reviewers(staff_ids, seconds, seed=100)
    plans["after"] = [explain_candidate_query(authenticator), explain_candidate_query(senior)]
    exclusivity = check_no_double_claims(url, single.pop("_claims") + many.pop("_claims"))
    return {
        "waiting": waiting, "load_seconds": load_seconds,
        "reviewers": {"seniors": senior_count(reviewers), "total": reviewers},
        "single": {**single, "waiting_at_start": waiting_single},
        "concurrent": {**many, "waiting_at_start": waiting_many},
        "speedup_claims_per_s": round(many["claims_per_s"] / max(single["claims_per_s"], 0.1),
                                      2),
        "concurrent_p95_over_single_p95": round(
            many["claim_ms"]["p95"] / max(single["claim_ms"]["p95"], 0.01), 2),
        "exclusivity": exclusivity,
        "candidate_query": plans,
        "goal": {"claim_p95_ms": CLAIM_GOAL_P95_MS, "double_claims": 0,
                 "met": many["claim_ms"]["p95"] < CLAIM_GOAL_P95_MS and exclusivity["ok"]},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--json", default=None)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the authentication queue benchmark needs PostgreSQL")
    name, url = scratch_database(args.database_url)
    try:
        result = run(url, args.waiting, args.reviewers, args.seconds, random.Random(11))
    finally:
        from foundation import db
        db.dispose_all()
        drop_database(args.database_url, name)
    result["cores"] = os.cpu_count()
    write_json(args.json, result)
    _print_table(result)


def _print_table(result: dict) -> None:
    print(f"\n{'reviewers':>9} {'claim p50':>10} {'claim p95':>10} {'claim p99':>10} "
          f"{'claims/s':>9} {'decisions/s':>12}")
    for key in ("single", "concurrent"):
        r = result[key]
        print(f"{r['reviewers']:>9} {r['claim_ms']['p50']:>10} {r['claim_ms']['p95']:>10} "
              f"{r['claim_ms']['p99']:>10} {r['claims_per_s']:>9} {r['decisions_per_s']:>12}")
    check = result["exclusivity"]
    print(f"speed-up {result['speedup_claims_per_s']}x; double claims: "
          f"{check['overlapping_holds'] + check['duplicate_lease_tokens']} "
          f"(check {'passed' if check['ok'] else 'FAILED'}); goal "
          f"{'met' if result['goal']['met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
