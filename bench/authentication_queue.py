"""How fast can 20 reviewers claim and decide from a 100k-item authentication queue?

    python -m bench.authentication_queue --waiting 100000 --reviewers 20 --seconds 30 \
        --think-ms 500 --processes --skills --json bench/out/authentication_queue.json

Needs PostgreSQL (DATABASE_URL of a server where it may create a scratch database;
default postgresql://postgres@127.0.0.1:5432/postgres).  It migrates a scratch database,
bulk-loads members, listings awaiting authentication and their queued requests with COPY,
creates staff reviewers (authenticators and seniors), then runs reviewers, each with its
own session, looping claim_next -> decide (authentic with a full checklist, counterfeit,
which goes to a second review, or release) through the real services, and waiting
--think-ms between items as a person would.  Reviewers are threads, or with --processes
one process each (so that Python's GIL does not serialise the client side).
The anchor, in the same run, is one reviewer looping alone for the same time: the ratio
is the concurrency speed-up.  With --skills every reviewer then gets a few brands and the
reviewers run twice more: with the former single ORDER BY (a CASE on the skill match,
which no index serves) as the anchor, and with claims' two index walks.  Afterwards the
claim events are checked: no request was ever held by two reviewers at once.
Goal: claim p95 < 20 ms at 100k waiting.
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
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


@dataclass(frozen=True)
class Phase:
    """One timed run: these reviewers, each looping claim -> decide (or release), then
    thinking `think_ms` like a person reading the next item, until `seconds` are up."""
    name: str
    staff_ids: tuple[int, ...]
    seconds: float
    think_ms: float
    processes: bool
    seed: int
    # "walks": claims.candidate_finder as shipped; "case": the former single ORDER BY
    # with the skill match as a CASE (the anchor for the skills phase).
    skill_ordering: str = "walks"


def review_until(staff_id: int, deadline: float, rng: random.Random,
                 think_ms: float) -> ReviewerLog:
    log = ReviewerLog()
    while time.monotonic() < deadline:
        claim = timed_claim(staff_id, log)
        if claim is None:
            log.outcomes["queue_empty"] += 1
            break
        log.claims.append(claim)
        log.outcomes[act_on(claim, rng.choice(ACTIONS))] += 1
        if think_ms:
            time.sleep(max(0.0, min(think_ms / 1000, deadline - time.monotonic())))
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
            verdict=Verdict(verdict), reason=decisions.reason_codes(Verdict(verdict))[0],
            checklist={point: result for point in checklist_for(request.category)}))


def release(claim: Claim) -> None:
    from authentication import claims
    from foundation import db
    from foundation.staff.models import StaffUser

    with db.unit_of_work() as s:
        claims.release(s, s.get(StaffUser, claim.staff_id),
                       claims.get_request(s, claim.request_id), claim.token)


_SHIPPED: dict = {}


def use_skill_ordering(name: str) -> None:
    """"case" puts back the former skill ordering for the anchor phase (one walk,
    ORDER BY priority, a CASE on the skill match, then the SLA...); "walks" restores
    claims as shipped."""
    from authentication import claims

    shipped = _SHIPPED.setdefault("finder", claims.candidate_finder)
    claims.candidate_finder = case_ordered_finder if name == "case" else shipped


def case_ordered_finder(skill):
    from authentication import claims

    return claims.LEASES.ordered_finder(
        [claims.R.priority.desc(), *claims.skill_rank(skill), *claims.QUEUE_ORDER])


def run_phase(phase: Phase, app_config: dict) -> dict:
    print(f"{phase.name}: {len(phase.staff_ids)} reviewer(s) in "
          f"{'processes' if phase.processes else 'threads'} for {phase.seconds:g} s, "
          f"thinking {phase.think_ms:g} ms", file=sys.stderr)
    runner = _in_processes if phase.processes else _in_threads
    logs, elapsed = runner(phase, app_config)
    return summarise(logs, elapsed)


def _in_threads(phase: Phase, _app_config: dict) -> tuple[list[ReviewerLog], float]:
    use_skill_ordering(phase.skill_ordering)
    count = len(phase.staff_ids)
    logs: list[ReviewerLog | None] = [None] * count
    errors: list[BaseException] = []
    barrier = threading.Barrier(count + 1)
    deadline_box: list[float] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            logs[i] = review_until(phase.staff_ids[i], deadline_box[0],
                                   random.Random(phase.seed + i), phase.think_ms)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline_box.append(time.monotonic() + phase.seconds)
    start = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    use_skill_ordering("walks")
    if errors:
        raise errors[0]
    return [log for log in logs if log is not None], elapsed


def _in_processes(phase: Phase, app_config: dict) -> tuple[list[ReviewerLog], float]:
    """One process per reviewer, so that Python's GIL does not serialise the client side;
    each builds its own app (database pool) before the common start."""
    context = multiprocessing.get_context("spawn")
    count = len(phase.staff_ids)
    barrier = context.Barrier(count + 1)
    results = context.Queue()
    workers = [context.Process(target=_reviewer_process, args=(
        app_config, phase, i, barrier, results)) for i in range(count)]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=300)
    start = time.monotonic()
    outcomes = [results.get(timeout=phase.seconds + 300) for _ in workers]
    elapsed = time.monotonic() - start
    for worker in workers:
        worker.join()
    failures = [outcome for _, outcome in outcomes if isinstance(outcome, str)]
    if failures:
        raise RuntimeError("a reviewer process failed:\n" + failures[0])
    return [log for _, log in sorted(outcomes, key=lambda pair: pair[0])], elapsed


def _reviewer_process(app_config: dict, phase: Phase, index: int, barrier, results) -> None:
    import traceback

    try:
        from console import create_app

        create_app(app_config)
        use_skill_ordering(phase.skill_ordering)
        barrier.wait(timeout=300)
        log = review_until(phase.staff_ids[index], time.monotonic() + phase.seconds,
                           random.Random(phase.seed + index), phase.think_ms)
        results.put((index, log))
    except BaseException:
        results.put((index, traceback.format_exc()))


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


def give_skills(lead_id: int, staff_ids: list[int], rng: random.Random,
                brands_each: int) -> None:
    """Every reviewer knows a few brands (set through the real service, audited)."""
    from authentication import skills
    from foundation import db
    from foundation.staff.models import StaffUser

    with db.unit_of_work() as s:
        lead = s.get(StaffUser, lead_id)
        for staff_id in staff_ids:
            skills.set_skills(s, lead, staff_id, brands=rng.sample(BRANDS, brands_each),
                              categories=[], max_price_paise=None)


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

def explain_candidate_queries(staff_id: int) -> dict:
    """EXPLAIN ANALYZE of the queries claim_next runs to pick its candidate (rolled back):
    for a reviewer with skills, the matching walk, the higher-priority walk, and the
    former single query with the CASE ordering."""
    from sqlalchemy import select

    from authentication import claims
    from foundation import clock, db
    from foundation.staff.models import StaffUser

    s = db.session()
    try:
        staff = s.get(StaffUser, staff_id)
        role = staff.role
        skill = claims.reviewer_skill(s, staff)
        where = [*claims.LEASES.claimable(staff, claims.QUEUES["review"], clock.now(),
                                          expired=False),
                 *claims.routing(staff, "review", skill)]
        match = claims.skill_match(skill)
        queries = {"walk": select(claims.R).where(*where).order_by(*claims.CLAIM_ORDER)}
        if match is not None:
            queries = {
                "matching_walk": select(claims.R).where(*where, match)
                .order_by(*claims.CLAIM_ORDER),
                # As after a best match of priority 0, the most common case.
                "higher_priority_walk": select(claims.R).where(
                    *where, claims.R.priority > 0).order_by(*claims.CLAIM_ORDER),
                "former_case_order": select(claims.R).where(*where).order_by(
                    claims.R.priority.desc(), *claims.skill_rank(skill),
                    *claims.QUEUE_ORDER)}
        plans = {name: _explain(s, claims.LEASES.candidate_window(s, query))
                 for name, query in queries.items()}
    finally:
        s.rollback()
        db.session.remove()
    return {"role": role, "skills": match is not None, **plans}


def _explain(s, query) -> dict:
    compiled = query.compile(dialect=s.get_bind().dialect,
                             compile_kwargs={"render_postcompile": True})
    plan = [row[0] for row in s.connection().exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS) " + compiled.string, compiled.params)]
    return {"execution_ms": _execution_ms(plan), "plan": plan}


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

@dataclass(frozen=True)
class Options:
    waiting: int
    reviewers: int
    seconds: float
    think_ms: float
    processes: bool
    skills: bool
    brands_each: int
    redis_url: str


def run(url: str, options: Options, rng: random.Random) -> dict:
    import tempfile

    from console import create_app
    from foundation.migrations import upgrade

    upgrade(url)
    app_config = {"DATABASE_URL": url, "APP_ENV": "test", "REDIS_URL": options.redis_url,
                  "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-"),
                  "SECRET_KEY": "bench-" + "k" * 40}
    app = create_app(app_config)
    if not app_config["REDIS_URL"]:
        # Reviewer processes share this process's embedded Redis (jobs enqueued on commit).
        from foundation.redis_conn import embedded_url
        app_config["REDIS_URL"] = embedded_url(app_config["INSTANCE_PATH"])
    started = time.perf_counter()
    load_queue(url, options.waiting, rng)
    load_seconds = round(time.perf_counter() - started, 1)
    staff_ids = create_reviewers(app, options.reviewers)
    senior, authenticator = staff_ids[0], staff_ids[-1]

    def phase(name: str, ids: list[int], seed: int, ordering: str = "walks") -> dict:
        waiting = waiting_count(url)
        result = run_phase(Phase(name=name, staff_ids=tuple(ids), seconds=options.seconds,
                                 think_ms=options.think_ms, processes=options.processes,
                                 seed=seed, skill_ordering=ordering), app_config)
        return {**result, "waiting_at_start": waiting}

    plans = {"before": [explain_candidate_queries(authenticator),
                        explain_candidate_queries(senior)]}
    phases = {"single": phase("single", [authenticator], seed=1),
              "concurrent": phase("concurrent", staff_ids, seed=100)}
    if options.skills:
        give_skills(senior, staff_ids, random.Random(7), options.brands_each)
        plans["skills"] = [explain_candidate_queries(authenticator),
                           explain_candidate_queries(senior)]
        phases["skills_case_order"] = phase("skills_case_order", staff_ids, seed=200,
                                            ordering="case")
        phases["skills"] = phase("skills", staff_ids, seed=300)
    exclusivity = check_no_double_claims(
        url, [claim for result in phases.values() for claim in result.pop("_claims")])
    single, many = phases["single"], phases["concurrent"]
    result = {
        "waiting": options.waiting, "load_seconds": load_seconds,
        "reviewers": {"seniors": senior_count(options.reviewers), "total": options.reviewers},
        "think_ms": options.think_ms,
        "client": "processes" if options.processes else "threads",
        **phases,
        "speedup_claims_per_s": round(many["claims_per_s"] / max(single["claims_per_s"], 0.1),
                                      2),
        "concurrent_p95_over_single_p95": round(
            many["claim_ms"]["p95"] / max(single["claim_ms"]["p95"], 0.01), 2),
        "exclusivity": exclusivity,
        "candidate_query": plans,
        "goal": {"claim_p95_ms": CLAIM_GOAL_P95_MS, "double_claims": 0,
                 "met": many["claim_ms"]["p95"] < CLAIM_GOAL_P95_MS and exclusivity["ok"]},
    }
    if options.skills:
        result["skills_p95_over_case_order_p95"] = round(
            phases["skills"]["claim_ms"]["p95"]
            / max(phases["skills_case_order"]["claim_ms"]["p95"], 0.01), 2)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30,
                        help="length of each phase")
    parser.add_argument("--think-ms", type=float, default=0,
                        help="each reviewer waits this long between claim+decide cycles")
    parser.add_argument("--processes", action="store_true",
                        help="one process per reviewer instead of threads (no shared GIL)")
    parser.add_argument("--skills", action="store_true",
                        help="then give every reviewer skills (brands) and run twice more: "
                             "the former CASE ordering, then the shipped index walks")
    parser.add_argument("--brands-each", type=int, default=3,
                        help=f"brands per reviewer with --skills (of {len(BRANDS)})")
    parser.add_argument("--json", default=None)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""),
                        help="default: an embedded Redis")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the authentication queue benchmark needs PostgreSQL")
    if args.think_ms < 0 or args.seconds <= 0 or args.reviewers < 1:
        parser.error("--think-ms must be >= 0, --seconds > 0, --reviewers >= 1")
    if not 1 <= args.brands_each <= len(BRANDS):
        parser.error(f"--brands-each must be 1 to {len(BRANDS)}")
    options = Options(waiting=args.waiting, reviewers=args.reviewers, seconds=args.seconds,
                      think_ms=args.think_ms, processes=args.processes, skills=args.skills,
                      brands_each=args.brands_each, redis_url=args.redis_url)
    name, url = scratch_database(args.database_url)
    try:
        result = run(url, options, random.Random(11))
    finally:
        from foundation import db
        db.dispose_all()
        drop_database(args.database_url, name)
    result["cores"] = os.cpu_count()
    write_json(args.json, result)
    _print_table(result)


def _print_table(result: dict) -> None:
    print(f"\n{'phase':<18} {'reviewers':>9} {'claim p50':>10} {'claim p95':>10} "
          f"{'claim p99':>10} {'claims/s':>9} {'decisions/s':>12}")
    for key in ("single", "concurrent", "skills_case_order", "skills"):
        if key not in result:
            continue
        r = result[key]
        print(f"{key:<18} {r['reviewers']:>9} {r['claim_ms']['p50']:>10} "
              f"{r['claim_ms']['p95']:>10} {r['claim_ms']['p99']:>10} {r['claims_per_s']:>9} "
              f"{r['decisions_per_s']:>12}")
    check = result["exclusivity"]
    print(f"client {result['client']}, think {result['think_ms']:g} ms; speed-up "
          f"{result['speedup_claims_per_s']}x; double claims: "
          f"{check['overlapping_holds'] + check['duplicate_lease_tokens']} "
          f"(check {'passed' if check['ok'] else 'FAILED'}); goal "
          f"{'met' if result['goal']['met'] else 'MISSED'}")
    if "skills_p95_over_case_order_p95" in result:
        print(f"skills: p95 with index walks / p95 with the CASE ordering = "
              f"{result['skills_p95_over_case_order_p95']}")


if __name__ == "__main__":
    main()
